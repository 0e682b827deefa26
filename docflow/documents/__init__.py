"""What incoming and outgoing documents share: visibility and clearance (:mod:`.access`), the
processing trail (:mod:`.trail`), stored files (:mod:`.files`), notation (:mod:`.notation`),
search folding (:mod:`.text`), urgencies (:mod:`.states`), the collaborators from outside
docflow (:mod:`.ports`) and the shared reads: one document, the boxes and search, the trail,
file contents (:mod:`.queries`).

The capabilities built on it are :mod:`docflow.incoming` and :mod:`docflow.outgoing`.
"""
