"""What the axis simulator holds, on disk: one file per message and a SQLite index.

Layout of the data directory::

    axis.sqlite3          messages, per-system deliveries and their transport status, agencies
    messages/<id>.edxml   the package bytes as received
    incoming/             uploads being received (emptied at start-up)

A message is acknowledged (HTTP 200) only once durable: its bytes are written to
``incoming/``, fsynced, renamed into ``messages/`` and the directory fsynced, then the index row
is committed (SQLite in WAL mode, ``synchronous=FULL``). A ``kill -9`` at any point loses
nothing acknowledged; a file whose row never committed is removed at the next start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from interop.errors import AxisConflictError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    sender_system TEXT NOT NULL,
    from_code TEXT NOT NULL,
    to_codes TEXT NOT NULL,
    messagetype TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS deliveries (
    message_id TEXT NOT NULL REFERENCES messages(id),
    system_id TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (message_id, system_id)
);
CREATE TABLE IF NOT EXISTS agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    system_id TEXT NOT NULL,
    details TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Message:
    id: str
    sender_system: str
    from_code: str
    to_codes: tuple[str, ...]
    messagetype: str
    sha256: str
    size: int
    document_id: str
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "DocId": self.id,
            "from": self.from_code,
            "to": list(self.to_codes),
            "messagetype": self.messagetype,
            "hash-file": self.sha256,
            "size": self.size,
            "document_id": self.document_id,
            "created_time": self.created_at,
        }


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SimStore:
    """The simulator's persistence; every method is safe to call from several threads."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.root = Path(data_dir)
        self.messages_dir = self.root / "messages"
        self.incoming_dir = self.root / "incoming"
        for directory in (self.root, self.messages_dir, self.incoming_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.root / "axis.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._recover()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _recover(self) -> None:
        for leftover in self.incoming_dir.iterdir():
            leftover.unlink()
        known = {row["id"] for row in self._db.execute("SELECT id FROM messages")}
        for path in self.messages_dir.glob("*.edxml"):
            if path.stem not in known:
                path.unlink()

    # --- messages -----------------------------------------------------------------------------

    def receive(self, stream: IO[bytes], length: int | None, limit: int) -> tuple[Path, str, int]:
        """Copy an upload into ``incoming/`` (fsynced); its path, SHA-256 and size.

        Returns size ``limit + 1`` without reading further when the upload is larger."""
        fd, name = tempfile.mkstemp(dir=self.incoming_dir, suffix=".part")
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            remaining = length
            while remaining is None or remaining > 0:
                chunk = stream.read(min(256 * 1024, remaining or 256 * 1024))
                if not chunk:
                    break
                size += len(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
                if size > limit:
                    break
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return Path(name), digest.hexdigest(), size

    def add(
        self,
        upload: Path,
        *,
        sender_system: str,
        from_code: str,
        to_codes: Iterable[str],
        recipient_systems: Iterable[str],
        messagetype: str,
        sha256: str,
        size: int,
        document_id: str,
        now: dt.datetime,
    ) -> tuple[Message, bool]:
        """Keep an upload as a message; a repeat of one already kept returns that one, ``True``."""
        codes = tuple(sorted(set(to_codes)))
        key = hashlib.sha256(
            json.dumps([sender_system, from_code, messagetype, sha256, codes]).encode()
        ).hexdigest()
        with self._lock:
            row = self._db.execute("SELECT * FROM messages WHERE dedupe_key = ?", (key,)).fetchone()
            if row is not None:
                upload.unlink()
                return _message(row), True
            message = Message(
                uuid.uuid4().hex, sender_system, from_code, codes, messagetype, sha256, size,
                document_id, now.isoformat(),
            )  # fmt: skip
            os.replace(upload, self.path_of(message.id))
            _fsync_dir(self.messages_dir)
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (message.id, sender_system, from_code, json.dumps(codes), messagetype,
                     sha256, size, document_id, message.created_at, key),
                )  # fmt: skip
                self._db.executemany(
                    "INSERT INTO deliveries VALUES (?, ?, 'new', ?)",
                    [(message.id, system, message.created_at) for system in set(recipient_systems)],
                )
        return message, False

    def discard_upload(self, upload: Path) -> None:
        upload.unlink(missing_ok=True)

    def path_of(self, message_id: str) -> Path:
        return self.messages_dir / f"{message_id}.edxml"

    def get(self, message_id: str) -> Message | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def recipients(self, message_id: str) -> dict[str, str]:
        """Recipient system → transport status."""
        with self._lock:
            rows = self._db.execute(
                "SELECT system_id, status FROM deliveries WHERE message_id = ?", (message_id,)
            ).fetchall()
        return {row["system_id"]: row["status"] for row in rows}

    def received(self, system_id: str, messagetype: str) -> list[tuple[Message, str]]:
        """Messages for ``system_id`` not yet acknowledged ``done``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT m.*, d.status AS delivery FROM messages m JOIN deliveries d"
                " ON d.message_id = m.id WHERE d.system_id = ? AND d.status != 'done'"
                " AND m.messagetype = ? ORDER BY m.created_at, m.id",
                (system_id, messagetype),
            ).fetchall()
        return [(_message(row), row["delivery"]) for row in rows]

    def sent(self, system_id: str, messagetype: str) -> list[tuple[Message, dict[str, str]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE sender_system = ? AND messagetype = ?"
                " ORDER BY created_at, id",
                (system_id, messagetype),
            ).fetchall()
        return [(_message(row), self.recipients(row["id"])) for row in rows]

    def set_status(self, message_id: str, system_id: str, status: str, now: dt.datetime) -> bool:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "UPDATE deliveries SET status = ?, updated_at = ? WHERE message_id = ?"
                " AND system_id = ?",
                (status, now.isoformat(), message_id, system_id),
            )
            return cursor.rowcount == 1

    # --- agencies -----------------------------------------------------------------------------

    def register_agency(
        self, code: str, name: str, system_id: str, details: dict[str, str], now: dt.datetime
    ) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT system_id FROM agencies WHERE code = ?", (code,)
            ).fetchone()
            if row is not None and row["system_id"] != system_id:
                raise AxisConflictError(
                    f"Mã cơ quan {code} đã được hệ thống khác đăng ký.", code=code
                )
            self._db.execute(
                "INSERT INTO agencies VALUES (?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET"
                " name = excluded.name, details = excluded.details,"
                " updated_at = excluded.updated_at",
                (code, name, system_id, json.dumps(details, ensure_ascii=False), now.isoformat()),
            )

    def agencies(self) -> list[dict[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM agencies ORDER BY code").fetchall()
        return [
            {**json.loads(row["details"]), "code": row["code"], "name": row["name"],
             "system_id": row["system_id"]}
            for row in rows
        ]  # fmt: skip

    def agency_owner(self, code: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT system_id FROM agencies WHERE code = ?", (code,)
            ).fetchone()
        return str(row["system_id"]) if row else None


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        sender_system=row["sender_system"],
        from_code=row["from_code"],
        to_codes=tuple(json.loads(row["to_codes"])),
        messagetype=row["messagetype"],
        sha256=row["sha256"],
        size=row["size"],
        document_id=row["document_id"],
        created_at=row["created_at"],
    )
