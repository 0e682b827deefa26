# mypy: allow-untyped-calls
# (pyHanko leaves parts of its API unannotated; we call it here.)
"""The CMS of a B-B PDF signature from a per-signer template instead of asn1crypto per call.

pyHanko builds the ``SignedData`` of every signature with asn1crypto: the signed attributes, the
``SignerInfo`` and the certificate set are constructed, copied and re-serialised each time, which
costs tens of times more than the RSA operation itself. For a B-B signature (no timestamp, no
unsigned attributes) everything but two values is the same from one document to the next for a
given signer: the ``messageDigest`` attribute (the document's digest) and the signature value.

:class:`CmsTemplate` asks pyHanko once, per signer, for a complete CMS (dry run: placeholder
signature bytes, no private-key operation) over a dummy digest, cuts it into its DER pieces and
then, per document, writes the real digest into the signed attributes, has the key sign their
``SET OF`` encoding (what pyHanko signs) and reassembles the ``ContentInfo`` with the right DER
lengths. The result is byte-for-byte what pyHanko would have produced with the same signature
value: same signed attributes (content-type, message-digest, signing-certificate-v2), same
algorithms, same certificate set in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, Signer

__all__ = ["CmsTemplate", "der_tlv", "split_tlvs"]

# 1.2.840.113549.1.9.4 (id-messageDigest), DER-encoded with its tag and length.
_MESSAGE_DIGEST_OID = bytes.fromhex("06092a864886f70d010904")
_DUMMY_DIGEST_BYTE = 0xA5


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    """The length at ``pos`` and the position after it (DER: short or long definite form)."""
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError("unsupported DER length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def split_tlvs(data: bytes) -> list[tuple[int, int, int]]:
    """The consecutive DER elements of ``data`` as ``(start, content_start, end)`` offsets.

    Only low tag numbers (one tag byte), which is all a CMS SignedData uses."""
    out = []
    pos = 0
    while pos < len(data):
        if data[pos] & 0x1F == 0x1F:
            raise ValueError("unsupported DER tag")
        length, content = _read_length(data, pos + 1)
        end = content + length
        if end > len(data):
            raise ValueError("truncated DER")
        out.append((pos, content, end))
        pos = end
    return out


def der_tlv(tag: int, content: bytes) -> bytes:
    """One DER element: ``tag``, definite length, ``content``."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def _children(data: bytes, start: int, content: int, end: int) -> list[bytes]:
    return [data[content + a : content + c] for a, _, c in split_tlvs(data[content:end])]


@dataclass(frozen=True)
class CmsTemplate:
    """The fixed DER pieces of a signer's B-B ``ContentInfo`` (see the module docstring)."""

    content_type: bytes
    """The ``contentType`` element (id-signedData)."""
    signed_data_head: bytes
    """``version``, ``digestAlgorithms``, ``encapContentInfo`` and ``certificates``."""
    signer_info_head: bytes
    """``version``, ``sid`` and ``digestAlgorithm`` of the ``SignerInfo``."""
    signed_attrs: bytes
    """The contents of the signed attributes' ``SET OF`` with a dummy message digest."""
    digest_offset: int
    """Where the 32 message-digest bytes start in :attr:`signed_attrs`."""
    signature_algorithm: bytes
    """The ``signatureAlgorithm`` element."""

    @classmethod
    def from_cms(cls, der: bytes) -> CmsTemplate:
        """Cut a pyHanko-made B-B CMS (one signer, no unsigned attributes) into a template.

        Raises ``ValueError`` for anything else (the caller then signs the slow way)."""
        ((ci_start, ci_content, ci_end),) = split_tlvs(der)
        if der[ci_start] != 0x30:
            raise ValueError("ContentInfo is not a SEQUENCE")
        ct, explicit = _children(der, ci_start, ci_content, ci_end)
        if explicit[0] != 0xA0:
            raise ValueError("no [0] content")
        ((_, sd_outer_content, sd_outer_end),) = split_tlvs(explicit)
        signed_data = explicit[sd_outer_content:sd_outer_end]
        ((sd_start, sd_content, sd_end),) = split_tlvs(signed_data)
        sd_items = _children(signed_data, sd_start, sd_content, sd_end)
        # version, digestAlgorithms, encapContentInfo, [0] certificates, signerInfos (no CRLs)
        if len(sd_items) != 5 or sd_items[3][0] != 0xA0 or sd_items[4][0] != 0x31:
            raise ValueError("unexpected SignedData layout")
        infos = sd_items[4]
        ((_, infos_content, infos_end),) = split_tlvs(infos)
        ((si_start, si_content, si_end),) = split_tlvs(infos[infos_content:infos_end])
        info = infos[infos_content:infos_end]
        si_items = _children(info, si_start, si_content, si_end)
        # version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature
        if len(si_items) != 6 or si_items[3][0] != 0xA0 or si_items[5][0] != 0x04:
            raise ValueError("unexpected SignerInfo layout (unsigned attributes?)")
        ((_, attrs_content, attrs_end),) = split_tlvs(si_items[3])
        attrs = si_items[3][attrs_content:attrs_end]
        marker = _MESSAGE_DIGEST_OID + bytes.fromhex("31220420")
        at = attrs.find(marker)
        if at < 0 or attrs.find(marker, at + 1) >= 0:
            raise ValueError("no single SHA-256 message digest attribute")
        offset = at + len(marker)
        if attrs[offset : offset + 32] != bytes([_DUMMY_DIGEST_BYTE]) * 32:
            raise ValueError("message digest is not the dummy one")
        return cls(
            content_type=ct,
            signed_data_head=b"".join(sd_items[:4]),
            signer_info_head=b"".join(si_items[:3]),
            signed_attrs=attrs,
            digest_offset=offset,
            signature_algorithm=si_items[4],
        )

    @classmethod
    async def for_signer(cls, signer: Signer) -> CmsTemplate:
        """Ask pyHanko for one dry-run PAdES CMS by ``signer`` and cut it (no key operation)."""
        if signer.attribute_certs or signer.signed_attr_prov_spec is not None:
            raise ValueError("signer adds its own attributes")
        if signer.unsigned_attr_prov_spec is not None:
            raise ValueError("signer adds unsigned attributes")
        info = await signer.async_sign(
            bytes([_DUMMY_DIGEST_BYTE]) * 32,
            "sha256",
            dry_run=True,
            use_pades=True,
            signed_attr_settings=PdfCMSSignedAttributes(),
        )
        return cls.from_cms(bytes(info.dump()))

    def signed_attributes(self, document_digest: bytes) -> bytes:
        """The DER ``SET OF`` signed attributes for ``document_digest``: the bytes the key signs."""
        if len(document_digest) != 32:
            raise ValueError("SHA-256 digest expected")
        at = self.digest_offset
        return der_tlv(
            0x31, self.signed_attrs[:at] + document_digest + self.signed_attrs[at + 32 :]
        )

    def assemble(self, signed_attributes: bytes, signature: bytes) -> bytes:
        """The DER ``ContentInfo`` around ``signed_attributes`` (from :meth:`signed_attributes`)
        and the raw ``signature`` over them."""
        attrs = b"\xa0" + signed_attributes[1:]  # [0] IMPLICIT instead of SET OF
        signer_info = der_tlv(
            0x30,
            self.signer_info_head + attrs + self.signature_algorithm + der_tlv(0x04, signature),
        )
        signed_data = der_tlv(0x30, self.signed_data_head + der_tlv(0x31, signer_info))
        return der_tlv(0x30, self.content_type + der_tlv(0xA0, signed_data))

    async def sign(self, signer: Signer, document_digest: bytes) -> bytes:
        """The complete CMS over ``document_digest``: one call to the signer's raw signature."""
        attrs = self.signed_attributes(document_digest)
        signature = await signer.async_sign_raw(attrs, "sha256")
        return self.assemble(attrs, signature)
