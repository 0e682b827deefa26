"""Password hashing with argon2id at OWASP's recommended minimum (Password Storage Cheat Sheet:
m = 19 MiB, t = 2, p = 1).

argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, t = 3, p = 4) cost 1.7 s of two
cores per sign-in on the shared 2-core test machine under load, against 0.33 s here (issue 19):
on a server, every sign-in at the start of the working day competes with every request. One
lane (p = 1) keeps a sign-in on one core. Hashes made with other parameters still verify, and
are rehashed with these at the holder's next sign-in (``needs_rehash``). API clients sign in
once and then present a token, which is checked by a SHA-256 lookup, never by this hash.
"""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's first listed argon2id configuration; the others it lists are equivalent in strength.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("dhtn-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one of ``password_hash``. Every refusal costs one argon2
    verification: an unknown username (no hash) and an account that has no password yet (an
    imported person's placeholder, which is no argon2 hash) are verified against a dummy hash,
    so the time of the answer does not tell them from a wrong password."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except VerificationError:
        return False
    except InvalidHashError:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
