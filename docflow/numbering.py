"""The number allocator of registers (cấp số).

``allocate_number`` increments the register's counter with one ``UPDATE … RETURNING`` inside
the caller's transaction. The row lock it takes is held until that transaction ends, so
concurrent allocations on the same register queue up (no duplicate), and a rollback restores
the counter (no gap). Callers must allocate as late as possible in their transaction and do
nothing slow after it: the lock is held until commit.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from docflow.errors import ConflictError, NotFoundError
from docflow.models import Register


def allocate_number(session: Session, register_id: uuid.UUID, *, year: int) -> int:
    """Take the next number of ``register_id`` for ``year``; the register must be that year's."""
    result = session.execute(
        update(Register)
        .where(Register.id == register_id, Register.active.is_(True))
        .values(last_number=Register.last_number + 1)
        .returning(Register.last_number, Register.year)
    ).one_or_none()
    if result is None:
        raise NotFoundError("Không tìm thấy sổ văn bản.", code="register_not_found")
    number, reg_year = result
    if reg_year != year:
        # Raising rolls the caller's transaction back, so the increment is undone.
        raise ConflictError(
            f"Sổ văn bản năm {reg_year} không dùng để cấp số cho năm {year}.",
            code="register_year_closed",
        )
    return int(number)


def format_number(number: int) -> str:
    """Numbers below 10 are written with a leading zero (Decree 30): 01, 02, … 10, 11."""
    return f"{number:02d}"
