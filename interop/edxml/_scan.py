"""The hardened, streaming first pass of the edXML reader.

The bytes go through three guards before anything is believed:

1. :func:`check_prolog` looks at what precedes the root element and refuses a DOCTYPE (hence
   any DTD or entity declaration: billion laughs, external entities) and any encoding that is
   not ASCII-compatible (so the byte-level check cannot be dodged, e.g. with UTF-16/UTF-7);
2. lxml's parser runs with entity resolution, DTD loading and network access off, and
   :class:`Collector` (its target) refuses a DOCTYPE again should one get through;
3. :class:`Collector` enforces depth, element and text limits as the elements arrive.

The collector keeps the envelope as a small tree of :class:`Node` and never keeps attachment
content: the text of ``Attachment/ContentTransferEncoded`` is base64-decoded as it arrives
(lxml hands it over in pieces) into a spool stream while its SHA-256 is computed.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import BinaryIO

from interop.edxml.codes import EDXML_NS, LEGACY_EDXML_NS, SOAP11_NS, SOAP12_NS
from interop.edxml.options import AttachmentSpool, ParseLimits
from interop.errors import (
    EdxmlAttachmentError,
    EdxmlEncodingError,
    EdxmlForbiddenError,
    EdxmlMalformedError,
    EdxmlNamespaceError,
    EdxmlTooDeepError,
    EdxmlTooLargeError,
)

MAX_PROLOG = 64 * 1024
_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ALLOWED_ENCODINGS = {
    "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "iso_8859-1",
    "windows-1252", "cp1252", "windows-1258", "cp1258",
}  # fmt: skip
_WHITESPACE = b" \t\r\n"


def check_prolog(head: bytes) -> bool | None:
    """``True`` when ``head`` reaches the root start tag through an acceptable prolog, ``None``
    when more bytes are needed; raises for a DOCTYPE or an unsupported encoding."""
    if head[:2] in (b"\xfe\xff", b"\xff\xfe") or b"\x00" in head[:4]:
        raise EdxmlEncodingError(encoding="utf-16/utf-32")
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    declaration = _ENCODING_RE.match(head, position)
    if declaration and declaration.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise EdxmlEncodingError(encoding=declaration.group(1).decode("ascii"))
    while True:
        while position < len(head) and head[position] in _WHITESPACE:
            position += 1
        if position >= len(head) or (head[position] == 0x3C and len(head) - position < 4):
            return None  # need more bytes to tell a comment from a declaration
        if head.startswith(b"<?", position):
            end = head.find(b"?>", position + 2)
            if end < 0:
                return None
            position = end + 2
        elif head.startswith(b"<!--", position):
            end = head.find(b"-->", position + 4)
            if end < 0:
                return None
            position = end + 3
        elif head.startswith(b"<!", position):
            raise EdxmlForbiddenError()
        elif head.startswith(b"<", position):
            return True
        else:
            raise EdxmlMalformedError("Gói tin edXML có nội dung trước phần tử gốc.")


class Node:
    """An element of the envelope: namespace, local name, attributes, children, text."""

    __slots__ = (
        "attrs", "children", "foreign", "length", "name", "ns", "nsmap", "parts", "payload",
    )  # fmt: skip

    def __init__(self, ns: str, name: str, attrs: dict[str, str], foreign: bool) -> None:
        self.ns = ns
        self.name = name
        self.attrs = attrs
        self.foreign = foreign
        self.children: list[Node] = []
        self.parts: list[str] = []
        self.length = 0
        self.payload: Payload | None = None
        self.nsmap: dict[str | None, str] = {}  # in-scope prefixes, kept inside Signature only

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def is_(self, *names: str) -> bool:
        lowered = self.name.lower()
        return any(lowered == name.lower() for name in names)

    def find(self, *names: str) -> Node | None:
        """The first child (of our namespaces) with one of ``names``, compared case-insensitively."""
        for child in self.children:
            if not child.foreign and child.is_(*names):
                return child
        return None

    def find_all(self, *names: str) -> list[Node]:
        return [c for c in self.children if not c.foreign and c.is_(*names)]


class Payload:
    """A decoded attachment: the spool stream holding it, its SHA-256 and size."""

    __slots__ = ("sha256", "size", "stream")

    def __init__(self, stream: BinaryIO | None, sha256: str, size: int) -> None:
        self.stream = stream
        self.sha256 = sha256
        self.size = size


class Base64Sink:
    """Decodes base64 text arriving in pieces; refuses anything that is not strict base64."""

    def __init__(self, out: BinaryIO | None, max_size: int) -> None:
        self.out = out
        self.max_size = max_size
        self.hash = hashlib.sha256()
        self.size = 0
        self._pending = b""
        self._padded = False

    def feed(self, text: str | bytes) -> None:
        try:
            raw = text.encode("ascii") if isinstance(text, str) else text
        except UnicodeEncodeError:
            raise self._broken("ký tự không thuộc bảng mã base64") from None
        data = raw.translate(None, _WHITESPACE)
        if not data:
            return
        if self._padded:
            raise self._broken("dữ liệu sau ký tự đệm '='")
        buffer = self._pending + data if self._pending else data
        whole = len(buffer) - len(buffer) % 4
        self._pending = buffer[whole:]
        if whole:
            self._decode(buffer[:whole])

    def _decode(self, quanta: bytes) -> None:
        try:
            decoded = binascii.a2b_base64(quanta, strict_mode=True)
        except binascii.Error as exc:
            raise self._broken(str(exc)) from None
        self._padded = quanta.endswith(b"=")
        self.size += len(decoded)
        if self.size > self.max_size:
            raise EdxmlTooLargeError(
                "Tệp đính kèm trong gói tin edXML vượt quá kích thước cho phép.",
                limit=self.max_size,
            )
        self.hash.update(decoded)
        if self.out is not None:
            self.out.write(decoded)

    def finish(self) -> Payload:
        if self._pending:
            raise self._broken("độ dài không phải bội số của 4")
        if self.out is not None:
            self.out.flush()
        return Payload(self.out, self.hash.hexdigest(), self.size)

    @staticmethod
    def _broken(reason: str) -> EdxmlAttachmentError:
        return EdxmlAttachmentError(reason=reason)


class StopReading(Exception):
    """Raised by the collector once the envelope is read, when only the envelope is wanted."""


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


class Collector:
    """The lxml parser target: builds the envelope tree, streams attachments into the spool."""

    def __init__(self, limits: ParseLimits, spool: AttachmentSpool, envelope_only: bool) -> None:
        self.limits = limits
        self.spool = spool
        self.envelope_only = envelope_only
        self.root: Node | None = None
        self.form = ""
        self.streams: list[BinaryIO] = []
        self._stack: list[Node] = []
        self._opaque_depth = 0  # > 0 inside edXML:Signature, whose XML-DSig is kept as is
        self._elements = 0
        self._chars = 0
        self._attachments = 0
        self._sink: Base64Sink | None = None
        self._sink_node: Node | None = None  # the ContentTransferEncoded being decoded
        self._scopes: list[dict[str | None, str]] = [{}]

    # lxml target protocol -------------------------------------------------------------------

    def doctype(self, *_: object) -> None:
        raise EdxmlForbiddenError()

    def start(self, tag: str, attrib: dict[str, str], nsmap: Mapping[str, str]) -> None:
        ns, name = _split(tag)
        scope = self._scopes[-1]
        if nsmap:
            scope = {**scope, **{(prefix or None): uri for prefix, uri in nsmap.items()}}
        self._scopes.append(scope)
        self._elements += 1
        if len(self._stack) >= self.limits.max_depth or self._elements > self.limits.max_elements:
            raise EdxmlTooDeepError(max_depth=self.limits.max_depth)
        if self.root is None:
            self.form = _root_form(ns, name)
            foreign = False
        else:
            foreign = not (
                self._opaque_depth or self.form == "soap" or ns in (EDXML_NS, "", *LEGACY_EDXML_NS)
            )
        attrs = dict(attrib)
        self._count(sum(len(k) + len(v) for k, v in attrs.items()))
        node = Node(ns, name, attrs, foreign)
        if self._stack:
            parent = self._stack[-1]
            parent.children.append(node)
            if self._opaque_depth or (parent.is_("Signature") and not parent.foreign):
                self._opaque_depth += 1
                node.nsmap = scope
            elif node.is_("ContentTransferEncoded") and parent.is_("Attachment") and not foreign:
                self._open_attachment(parent)
                self._sink_node = node
        else:
            self.root = node
        self._stack.append(node)

    def end(self, tag: str) -> None:
        node = self._stack.pop()
        self._scopes.pop()
        if self._opaque_depth:
            self._opaque_depth -= 1
        if self._sink is not None and node is self._sink_node:
            self._stack[-1].payload = self._sink.finish()
            self._sink = self._sink_node = None
        if self.envelope_only and self.form == "edxml" and node.is_("edXMLEnvelope"):
            raise StopReading()

    def data(self, text: str) -> None:
        if self._sink is not None:
            self._sink.feed(text)
            return
        if not self._stack:
            return
        node = self._stack[-1]
        node.parts.append(text)
        node.length += len(text)
        if node.length > self.limits.max_field_chars:
            raise EdxmlTooLargeError(
                f"Trường '{node.name}' của gói tin edXML quá dài.",
                limit=self.limits.max_field_chars,
            )
        self._count(len(text))

    def close(self) -> Node | None:
        return self.root

    # helpers ------------------------------------------------------------------------------

    def _count(self, chars: int) -> None:
        self._chars += chars
        if self._chars > self.limits.max_envelope_chars:
            raise EdxmlTooLargeError(
                "Phần khai báo của gói tin edXML quá lớn.", limit=self.limits.max_envelope_chars
            )

    def _open_attachment(self, attachment: Node) -> None:
        if attachment.payload is not None or self._sink is not None:
            raise EdxmlAttachmentError(reason="hai nội dung trong cùng một tệp đính kèm")
        self._attachments += 1
        if self._attachments > self.limits.max_attachments:
            raise EdxmlTooLargeError(
                "Gói tin edXML có quá nhiều tệp đính kèm.", limit=self.limits.max_attachments
            )
        stream = None
        if not self.envelope_only:
            stream = self.spool.create()
            self.streams.append(stream)
        self._sink = Base64Sink(stream, self.limits.max_attachment_size)

    def discard_all(self) -> None:
        """Remove every attachment stream created so far (a refused package stores nothing)."""
        streams, self.streams = self.streams, []
        for stream in streams:
            self.spool.discard(stream)


def _root_form(ns: str, name: str) -> str:
    if ns in (SOAP11_NS, SOAP12_NS) and name == "Envelope":
        return "soap"
    if ns in (EDXML_NS, *LEGACY_EDXML_NS) and name.lower() in ("edxml", "edxmlenvelope"):
        return "edxml"
    raise EdxmlNamespaceError(root=f"{{{ns}}}{name}" if ns else name)
