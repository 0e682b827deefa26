"""Where the parts of a message are, in each variant; helpers shared by the reader.

:func:`locate` finds the header, message header, trace list, signature, manifest and attachment
lists of the documented layout, of its variants (the envelope as root, the MessageHeader right in
the envelope) and of the legacy SOAP form; a missing essential is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from interop.edxml._scan import Node
from interop.edxml.codes import XMLDSIG_NS
from interop.edxml.model import Attachment
from interop.errors import EdxmlStructureError


@dataclass
class Parts:
    """The envelope's main elements, wherever the variant put them."""

    form: str
    header: Node
    message: Node
    trace: Node | None
    signature: Node | None
    manifest: Node | None
    attachment_lists: list[Node]

    @property
    def is_status(self) -> bool:
        return self.message.is_("Status") or self.message.find("StatusCode") is not None


def locate(root: Node, form: str) -> Parts:
    """Find header, message header, trace list, signature, manifest and attachments."""
    if form == "soap":
        header = require(root.find("Header"), "Header")
        body = root.find("Body")
        containers = [root, body] if body else [root]
    else:
        envelope = root if root.is_("edXMLEnvelope") else root.find("edXMLEnvelope")
        envelope = require(envelope, "edXMLEnvelope")
        header_node = envelope.find("edXMLHeader", "Header")
        if header_node is None and envelope.find("MessageHeader", "Status") is not None:
            header_node = envelope  # some hubs put the MessageHeader right in the envelope
        header = require(header_node, "edXMLHeader")
        body = envelope.find("edXMLBody", "Body")
        containers = [root, envelope] + ([body] if body else [])
    message = require(header.find("MessageHeader", "Status"), "MessageHeader")
    manifest = body.find("edXMLManifest", "Manifest") if body else None
    unique = list({id(container): container for container in containers}.values())
    lists = [n for c in unique for n in c.find_all("AttachmentEncoded")]
    return Parts(
        form, header, message, header.find("TraceHeaderList"), header.find("Signature"),
        manifest, lists,
    )  # fmt: skip


def require(node: Node | None, name: str) -> Node:
    if node is None:
        raise EdxmlStructureError(
            f"Gói tin edXML thiếu thành phần bắt buộc '{name}'.", element=name
        )
    return node


def content_id(raw: str) -> str:
    value = raw.strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    return value.strip().strip("<>").strip()


def merge(attachment: Attachment, reference: Attachment) -> Attachment:
    return Attachment(
        name=attachment.name or reference.name,
        content_type=attachment.content_type or reference.content_type,
        content_id=attachment.content_id,
        description=attachment.description or reference.description,
    )


def serialize_children(node: Node | None) -> str:
    """The elements inside edXML:Signature as XML text (whitespace between them dropped)."""
    if node is None:
        return ""
    return "".join(
        etree.tostring(_element(child, _used(child), top=True), encoding="unicode")
        for child in node.children
    )


#: Prefixes for well-known namespaces the scanned scope did not name: the kept XML-DSig is
#: written with ``ds:`` as senders write it, never lxml's generated ``ns0:`` (whose choice
#: depends on what the process registered before).
_KNOWN_PREFIXES = {XMLDSIG_NS: "ds"}


def _used(node: Node) -> set[str]:
    """The namespaces a subtree's elements and attributes are in."""
    used = {node.ns} | {name[1:].partition("}")[0] for name in node.attrs if name[:1] == "{"}
    for child in node.children:
        used |= _used(child)
    return used


def _element(node: Node, used: set[str], *, top: bool = False) -> etree._Element:
    tag = f"{{{node.ns}}}{node.name}" if node.ns else node.name
    nsmap = {prefix: uri for prefix, uri in node.nsmap.items() if uri in used}
    if top:
        for uri in sorted(used - set(nsmap.values())):
            known = _KNOWN_PREFIXES.get(uri)
            if known is not None and known not in nsmap:
                nsmap[known] = uri
    element = etree.Element(tag, node.attrs, nsmap=nsmap or None)
    for child in node.children:
        element.append(_element(child, used))
    if not node.children:
        element.text = node.text or None
    return element
