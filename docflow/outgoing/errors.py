"""The outgoing flow's refusals that come from the signing library."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from docflow.errors import ConflictError
from signing import SigningError


class SignatureRefusedError(ConflictError):
    """A signing step refused (certificate, timestamp, session…): the signing library's code
    and Vietnamese message, as a domain refusal (nothing was changed)."""


@contextmanager
def signing_errors() -> Iterator[None]:
    try:
        yield
    except SigningError as exc:
        raise SignatureRefusedError(
            exc.message, code=exc.code, details={k: str(v) for k, v in exc.details.items()}
        ) from exc
