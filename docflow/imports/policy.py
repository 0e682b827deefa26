"""The rules of a directory import, on plain values (unit-tested without a database).

- Only an admin imports, and only into their own subtree: every organisation a row creates,
  changes or puts people in must lie under the admin's organisation (existing ones by their
  path; new ones by a parent that does).
- Cell values: identifier codes in the national format (:mod:`docflow.directory.orgcodes`),
  levels, roles and clearances from the known lists (code or Vietnamese name), e-mail and
  phone shapes, yes/no for "active".
- Trees without cycles (organisations by parent code, units by parent abbreviation).
- Privileges follow the two-person rule of :mod:`docflow.directory.policy`: what raises a
  clearance or grants the admin role is asked for, not applied.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from docflow.actors import Actor
from docflow.enums import ROLE_LABELS, Direction, OrgLevel, Role, Secrecy, Urgency
from docflow.errors import PermissionDeniedError
from docflow.incoming.states import IncomingState
from docflow.outgoing.states import OutgoingState

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .()-]{6,20}$")
USERNAME_RE = re.compile(r"^[a-z0-9._-]{2,64}$")
ABBR_RE = re.compile(r"^[^\s/]{1,32}$")

_LEVEL_WORDS: dict[str, OrgLevel] = {
    "trung ương": OrgLevel.CENTRAL,
    "tỉnh": OrgLevel.PROVINCE,
    "tỉnh, thành phố": OrgLevel.PROVINCE,
    "thành phố": OrgLevel.PROVINCE,
    "xã": OrgLevel.COMMUNE,
    "phường": OrgLevel.COMMUNE,
    "đặc khu": OrgLevel.COMMUNE,
    "xã, phường, đặc khu": OrgLevel.COMMUNE,
    "thôn": OrgLevel.VILLAGE,
    "thôn, bản, tổ dân phố": OrgLevel.VILLAGE,
}
_TRUE = {"1", "x", "có", "co", "true", "yes", "đúng", "hoạt động"}
_FALSE = {"0", "không", "khong", "false", "no", "sai", "ngừng", "ngừng hoạt động"}


def ensure_can_import(actor: Actor) -> None:
    """A directory import is an admin's act (403 otherwise)."""
    if Role.ADMIN not in actor.roles:  # own role only: a delegation never carries admin
        raise PermissionDeniedError("Chỉ quản trị viên được nhập danh mục.")


def in_subtree(actor: Actor, org_path: str) -> bool:
    return org_path.startswith(actor.organization_path)


def parse_level(text: str) -> OrgLevel | None:
    t = text.strip().lower()
    if t in OrgLevel.__members__.values():
        return OrgLevel(t)
    return _LEVEL_WORDS.get(t) or next((lv for lv in OrgLevel if lv.label.lower() == t), None)


def parse_roles(text: str) -> tuple[frozenset[Role], list[str]]:
    """Roles separated by ``;`` (or ``,``): codes or Vietnamese names. Returns the roles and the
    words that are not roles."""
    by_label = {label.lower(): role for role, label in ROLE_LABELS.items()}
    roles: set[Role] = set()
    unknown: list[str] = []
    for word in re.split(r"[;,]", text):
        w = word.strip().lower()
        if not w:
            continue
        if w in Role.__members__.values():
            roles.add(Role(w))
        elif w in by_label:
            roles.add(by_label[w])
        else:
            unknown.append(word.strip())
    return frozenset(roles), unknown


def parse_clearance(text: str) -> Secrecy | None:
    t = text.strip().lower()
    if not t:
        return Secrecy.NONE
    if t in Secrecy.__members__.values():
        return Secrecy(t)
    return next((s for s in Secrecy if s.label.lower() == t), None)


def parse_active(text: str) -> bool | None:
    t = text.strip().lower()
    if not t or t in _TRUE:
        return True
    if t in _FALSE:
        return False
    return None


def email_ok(text: str) -> bool:
    return not text or (len(text) <= 255 and bool(EMAIL_RE.fullmatch(text)))


def phone_ok(text: str) -> bool:
    if not text:
        return True
    digits = sum(c.isdigit() for c in text)
    return len(text) <= 32 and bool(PHONE_RE.fullmatch(text)) and 8 <= digits <= 15


def cycle_members(parent_of: Mapping[str, str | None]) -> set[str]:
    """The keys that lie on a cycle of ``parent_of`` (a key whose chain of parents comes back to
    itself). Parents missing from the mapping end the chain."""
    on_cycle: set[str] = set()
    done: set[str] = set()
    for start in parent_of:
        if start in done:
            continue
        seen: list[str] = []
        index: dict[str, int] = {}
        node: str | None = start
        while node is not None and node in parent_of and node not in done:
            if node in index:
                on_cycle.update(seen[index[node] :])
                break
            index[node] = len(seen)
            seen.append(node)
            node = parent_of[node]
        done.update(seen)
    return on_cycle


# ---------------------------------------------------------------- documents from old systems

_DIRECTIONS = {
    "incoming": Direction.INCOMING,
    "đến": Direction.INCOMING,
    "văn bản đến": Direction.INCOMING,
    "den": Direction.INCOMING,
    "outgoing": Direction.OUTGOING,
    "đi": Direction.OUTGOING,
    "văn bản đi": Direction.OUTGOING,
    "di": Direction.OUTGOING,
}
_URGENCY_WORDS = {
    "": Urgency.NORMAL,
    "thường": Urgency.NORMAL,
    "bình thường": Urgency.NORMAL,
    "khẩn": Urgency.URGENT,
    "thượng khẩn": Urgency.VERY_URGENT,
    "hỏa tốc": Urgency.FLASH,
    "hoả tốc": Urgency.FLASH,
    "hỏa tốc hẹn giờ": Urgency.FLASH_TIMED,
    "hoả tốc hẹn giờ": Urgency.FLASH_TIMED,
}
# An imported document keeps its final state: these are the states a finished (or parked)
# document of an old register may be in; the first of each is the default when none is given.
IMPORT_STATES: dict[Direction, tuple[str, ...]] = {
    Direction.INCOMING: (
        IncomingState.DONE,
        IncomingState.REGISTERED,
        IncomingState.ASSIGNED,
        IncomingState.IN_PROGRESS,
        IncomingState.REJECTED,
        IncomingState.RECALLED,
    ),
    Direction.OUTGOING: (
        OutgoingState.ISSUED,
        OutgoingState.DISPATCHED,
        OutgoingState.RECALLED,
    ),
}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")


def ensure_can_import_documents(actor: Actor) -> None:
    """Bringing an old system's documents in is an admin's act (403 otherwise)."""
    if Role.ADMIN not in actor.roles:
        raise PermissionDeniedError("Chỉ quản trị viên được nhập văn bản từ hệ thống cũ.")


def parse_direction(text: str) -> Direction | None:
    return _DIRECTIONS.get(" ".join(text.strip().lower().split()))


def parse_urgency(text: str) -> Urgency | None:
    t = " ".join(text.strip().lower().split())
    if t in Urgency.__members__.values():
        return Urgency(t)
    return _URGENCY_WORDS.get(t)


def parse_secrecy(text: str) -> Secrecy | None:
    t = text.strip().lower()
    if t in ("thường", "không", "không mật"):
        return Secrecy.NONE
    return parse_clearance(text)


def parse_state(direction: Direction, text: str) -> str | None:
    """The state of an imported document (code or Vietnamese label); ``None`` when it is not
    one an imported document may be in."""
    allowed = IMPORT_STATES[direction]
    t = " ".join(text.strip().lower().split())
    if not t:
        return allowed[0]
    for state in allowed:
        enum = IncomingState(state) if direction is Direction.INCOMING else OutgoingState(state)
        if t in (str(state), enum.label.lower()):
            return str(state)
    return None


def parse_date(text: str) -> dt.date | None:
    t = text.strip()
    if "T" in t:
        t = t.split("T", 1)[0]
    elif " " in t:
        t = t.split(" ", 1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    return None


def parse_positive_int(text: str) -> int | None:
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    if not t.isdigit() or len(t) > 9:
        return None
    n = int(t)
    return n if n > 0 else None


def split_files(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]
