"""edXML (QCVN 102:2016): the model, the strict streaming writer, the hardened tolerant reader.

The public names are re-exported by :mod:`interop`; import them from there.
"""

__all__: list[str] = []
