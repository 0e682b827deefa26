"""What the edXML reader may consume (limits) and where it puts attachments (spools)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from interop.edxml.codes import SteeringScheme

MiB = 1024 * 1024


@dataclass(frozen=True)
class ParseLimits:
    """Limits of one read. Anything over a limit is refused, never truncated.

    ``max_size`` bounds the package bytes, ``max_attachment_size`` one decoded attachment,
    ``max_field_chars`` one text field of the envelope and ``max_envelope_chars`` all of them
    together (the envelope is held in memory; attachments are not), ``max_depth`` the nesting
    and ``max_elements`` the element count.
    """

    max_size: int = 1024 * MiB
    max_attachment_size: int = 768 * MiB
    max_attachments: int = 1000
    max_depth: int = 48
    max_elements: int = 200_000
    max_field_chars: int = 1 * MiB
    max_envelope_chars: int = 16 * MiB
    steering_scheme: SteeringScheme = "auto"


DEFAULT_LIMITS = ParseLimits()


class AttachmentSpool(Protocol):
    """Where decoded attachments go while a package is read.

    ``create`` returns a new writable, readable and seekable binary stream; ``discard`` closes it
    and removes whatever it stored. The reader discards every stream it created when it refuses
    a package, and the caller discards them (``ParseResult.close``) when done with the result.
    """

    def create(self) -> BinaryIO: ...

    def discard(self, stream: BinaryIO) -> None: ...


class TempSpool:
    """The default spool: memory up to ``max_memory`` bytes per attachment, then a temp file."""

    def __init__(self, max_memory: int = 1 * MiB, directory: str | None = None) -> None:
        self.max_memory = max_memory
        self.directory = directory

    def create(self) -> BinaryIO:
        return tempfile.SpooledTemporaryFile(  # type: ignore[return-value]
            max_size=self.max_memory, mode="w+b", dir=self.directory
        )

    def discard(self, stream: BinaryIO) -> None:
        stream.close()
