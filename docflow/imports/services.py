"""The directory import: check a whole workbook, then apply it in one transaction.

``plan_directory_import`` reads the database and reports every problem (and what would change);
``import_directory`` does the same and, only when there is no problem, writes everything in one
unit of work (a problem anywhere means nothing is written). Idempotent by organisation code,
unit (organisation, abbreviation) and username: a row equal to what is stored changes nothing,
a different row updates that record. Each organisation touched gets one audit entry
``directory_imported`` by the admin who ran it, listing what changed.

New people get no password: an unusable hash, and a one-time activation code (stored hashed,
expiring) they exchange for a password of their choice (:func:`activate_account`). The admin
role and a clearance above the current one are not applied: they become pending privilege
requests a second admin decides (docflow.directory.policy, the two-person rule).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import secrets
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from docflow import audit, directory
from docflow.actors import Actor
from docflow.enums import OrgLevel, Role, Secrecy
from docflow.errors import ValidationError
from docflow.ids import new_id
from docflow.imports import policy
from docflow.imports.commands import (
    ActivateAccount,
    DirectoryRows,
    Problem,
    SheetRow,
)
from docflow.imports.states import ActivationAction, activation_state, next_state
from docflow.imports.workbook import ActivationLine, CsvRows, WorkbookRows, csv_workbook
from docflow.models import (
    Organization,
    PrivilegeRequest,
    Unit,
    User,
    UserActivation,
    UserRole,
)
from docflow.uow import UnitOfWork
from docflow.uploads import (
    FileRefusedError,
    Upload,
    open_object,
    store_uploads,
    upload_limits,
)
from storage import FileTooLargeError, FileType, UnsupportedFileTypeError

# Never a valid argon2 hash: nobody signs in with a password before activating.
UNUSABLE_PASSWORD = "!imported-not-activated"
ACTIVATION_DAYS = 14
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CHUNK = 5000
_WRITE_CHUNK = 2000
ACTIVATION_EMAIL_TOPIC = "imports.activation_email"


class ImportInvalidError(ValidationError):
    """The file has problems (422); nothing was written. ``problems`` lists every one."""

    code = "import_invalid"
    message = "Tệp có lỗi; không có gì được ghi."

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(
            details={
                "problems": [
                    {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message}
                    for p in self.problems
                ]
            }
        )


@dataclass
class _Org:
    row: int
    code: str
    parent_code: str | None
    level: OrgLevel
    fields: dict[str, Any]
    existing: Organization | None = None


@dataclass
class _Unit:
    row: int
    org_code: str
    abbr: str
    name: str
    parent_abbr: str | None
    existing: Unit | None = None


@dataclass
class _User:
    row: int
    username: str
    org_code: str
    unit_abbr: str | None
    roles: frozenset[Role]
    clearance: Secrecy
    active: bool
    fields: dict[str, Any]
    existing: User | None = None


@dataclass
class Plan:
    """What the file would do, and everything wrong with it."""

    problems: list[Problem] = field(default_factory=list)
    orgs: list[_Org] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    users: list[_User] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    unit_ids: dict[tuple[str, str], uuid.UUID | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ImportResult:
    counts: dict[str, int]
    activations: list[ActivationLine]
    pending_requests: int


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _load_orgs(s: Session, codes: set[str]) -> dict[str, Organization]:
    out: dict[str, Organization] = {}
    for chunk in _chunks(sorted(codes)):
        out |= {
            o.code: o for o in s.scalars(select(Organization).where(Organization.code.in_(chunk)))
        }
    return out


def _text_fields(
    P: list[Problem], sheet: str, r: SheetRow, keys: Sequence[str], *, required: Sequence[str] = ()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        value = r.get(key)
        if key in required and not value:
            P.append(Problem(sheet, r.row, key, "Không được để trống."))
        elif len(value) > 255:
            P.append(Problem(sheet, r.row, key, "Dài quá 255 ký tự."))
        elif key == "email" and not policy.email_ok(value):
            P.append(Problem(sheet, r.row, key, "Thư điện tử không đúng dạng."))
        elif key == "phone" and not policy.phone_ok(value):
            P.append(Problem(sheet, r.row, key, "Số điện thoại không đúng dạng (8–15 chữ số)."))
        elif key == "abbreviation" and value and not policy.ABBR_RE.fullmatch(value):
            P.append(
                Problem(
                    sheet, r.row, key, "Tên viết tắt tối đa 32 ký tự, không dấu cách, không «/»."
                )
            )
        out[key] = value or None
    return out


def _check_code(P: list[Problem], sheet: str, row: int, column: str, text: str) -> str | None:
    code = directory.normalise_code(text)
    if not code:
        return None
    if not directory.is_valid_code(code):
        P.append(
            Problem(sheet, row, column, f"Mã «{text}» không đúng dạng 000.00.00.A00 (13 ký tự).")
        )
        return None
    return code


def plan_directory_import(uow: UnitOfWork, actor: Actor, file: DirectoryRows) -> Plan:
    """Check the whole file against the rules and the database; write nothing. The people are
    read as a stream, in batches: what the plan keeps of them is their counts and problems."""
    policy.ensure_can_import(actor)
    with uow:
        plan, _tree = _plan(uow.session, actor, file)
        return plan


class _Tree:
    """What the checks of one row need from the rest of the file and the database: the
    organisations and units of the file (small: the tree, not the people), the organisations
    and units of the database met so far (loaded by batch), and compact traces of the people
    already seen (a 64-bit hash of each username and its row: duplicates are found at the end,
    then confirmed by their text)."""

    def __init__(self, s: Session, actor: Actor, plan: Plan) -> None:
        self.s = s
        self.actor = actor
        self.plan = plan
        self.file_orgs: dict[str, _Org] = {}
        self.db_orgs: dict[str, Organization] = {}
        self.absent: set[str] = set()
        self.db_units: dict[tuple[str, str], Unit] = {}
        self.file_units: dict[tuple[str, str], _Unit] = {}
        self.name_hashes = array("q")
        self.name_rows = array("l")

    def load(self, codes: Iterable[str]) -> None:
        """Load the organisations of ``codes`` not seen yet, and their units."""
        todo = {c for c in codes if c and c not in self.db_orgs and c not in self.absent}
        if not todo:
            return
        found = _load_orgs(self.s, todo)
        self.db_orgs |= found
        self.absent |= todo - set(found)
        by_id = {o.id: o.code for o in found.values()}
        keys = list(by_id)
        for i in range(0, len(keys), _CHUNK):
            for u in self.s.scalars(
                select(Unit).where(Unit.organization_id.in_(keys[i : i + _CHUNK]))
            ):
                self.db_units[(by_id[u.organization_id], u.abbreviation)] = u
                self.plan.unit_ids[(by_id[u.organization_id], u.abbreviation)] = u.id

    def org_ok(self, P: list[Problem], sheet: str, row: int, text: str) -> str | None:
        code = _check_code(P, sheet, row, "organization_code", text)
        if code is None:
            if not text:
                P.append(Problem(sheet, row, "organization_code", "Không được để trống."))
            return None
        if code in self.file_orgs:
            return code
        self.load([code])
        org = self.db_orgs.get(code)
        if org is None:
            P.append(
                Problem(
                    sheet,
                    row,
                    "organization_code",
                    f"Không có tổ chức mã {code} trong tệp hay trong hệ thống.",
                )
            )
            return None
        if not policy.in_subtree(self.actor, org.path):
            P.append(Problem(sheet, row, "organization_code", "Tổ chức ngoài phạm vi bạn quản lý."))
            return None
        return code

    def seen(self, username: str, row: int) -> None:
        digest = hashlib.blake2b(username.encode(), digest_size=8).digest()
        self.name_hashes.append(int.from_bytes(digest, "big", signed=True))
        self.name_rows.append(row)

    def duplicates(self, file: DirectoryRows) -> list[Problem]:
        """Usernames that appear twice: candidates by hash (sorting the compact traces), then
        confirmed by reading those rows' usernames again."""
        hashes, rows = self.name_hashes, self.name_rows
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        candidates: set[int] = set()
        for a, b in itertools.pairwise(order):
            if hashes[a] == hashes[b]:
                candidates.update((rows[a], rows[b]))
        del order
        if not candidates:
            return []
        names: dict[str, list[int]] = {}
        for r in file.rows("users"):
            if r.row in candidates:
                names.setdefault(r.get("username").lower(), []).append(r.row)
        out: list[Problem] = []
        for username, found in names.items():
            first, *again = sorted(found)
            out += [
                Problem(
                    "users",
                    row,
                    "username",
                    f"Tên đăng nhập {username} lặp lại (dòng {first}).",
                )
                for row in again
            ]
        return out


def _batches(rows: Iterable[SheetRow], size: int) -> Iterator[list[SheetRow]]:
    batch: list[SheetRow] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _plan(s: Session, actor: Actor, file: DirectoryRows) -> tuple[Plan, _Tree]:
    plan = Plan(problems=list(file.problems))
    P = plan.problems
    tree = _Tree(s, actor, plan)
    organizations = list(file.rows("organizations"))
    units = list(file.rows("units"))
    # ------------------------------------------------------------ organisations
    wanted: set[str] = set()
    for r in organizations + units:
        for key in ("code", "parent_code", "organization_code"):
            if r.get(key):
                wanted.add(directory.normalise_code(r.get(key)))
    tree.load(wanted)
    db_orgs = tree.db_orgs
    file_orgs = tree.file_orgs
    for r in organizations:
        code = _check_code(P, "organizations", r.row, "code", r.get("code"))
        if not r.get("code"):
            P.append(Problem("organizations", r.row, "code", "Không được để trống."))
        parent_code = _check_code(P, "organizations", r.row, "parent_code", r.get("parent_code"))
        level = policy.parse_level(r.get("level"))
        if level is None:
            P.append(
                Problem(
                    "organizations",
                    r.row,
                    "level",
                    f"Cấp «{r.get('level')}» không có; dùng central, province, commune, village.",
                )
            )
        fields = _text_fields(
            P,
            "organizations",
            r,
            ("name", "abbreviation", "address", "email", "phone"),
            required=("name", "abbreviation"),
        )
        if code is None or level is None:
            continue
        if code in file_orgs:
            P.append(
                Problem(
                    "organizations",
                    r.row,
                    "code",
                    f"Mã {code} lặp lại (dòng {file_orgs[code].row}).",
                )
            )
            continue
        file_orgs[code] = _Org(r.row, code, parent_code, level, fields, db_orgs.get(code))
    parents_of_db = (
        {
            o.id: o
            for o in s.scalars(
                select(Organization).where(
                    Organization.id.in_({o.parent_id for o in db_orgs.values() if o.parent_id})
                )
            )
        }
        if db_orgs
        else {}
    )
    cycles = policy.cycle_members(
        {c: (o.parent_code if o.parent_code in file_orgs else None) for c, o in file_orgs.items()}
    )
    for code in sorted(cycles, key=lambda c: file_orgs[c].row):
        P.append(
            Problem("organizations", file_orgs[code].row, "parent_code", "Cây tổ chức có vòng lặp.")
        )
    for o in file_orgs.values():
        if o.code in cycles:
            continue
        if o.existing is not None:
            ex = o.existing
            if not policy.in_subtree(actor, ex.path):
                P.append(
                    Problem("organizations", o.row, "code", "Tổ chức ngoài phạm vi bạn quản lý.")
                )
                continue
            current_parent = parents_of_db.get(ex.parent_id) if ex.parent_id else None
            if (current_parent.code if current_parent else None) != o.parent_code:
                P.append(
                    Problem(
                        "organizations",
                        o.row,
                        "parent_code",
                        "Không đổi tổ chức cấp trên của tổ chức đã có bằng cách nhập tệp.",
                    )
                )
            if ex.level != o.level.value:
                P.append(
                    Problem("organizations", o.row, "level", "Không đổi cấp của tổ chức đã có.")
                )
            continue
        if o.parent_code is None:
            P.append(Problem("organizations", o.row, "parent_code", "Thiếu mã tổ chức cấp trên."))
            continue
        parent_level: OrgLevel | None = None
        if o.parent_code in file_orgs:
            parent_level = file_orgs[o.parent_code].level
        elif o.parent_code in db_orgs:
            parent = db_orgs[o.parent_code]
            if not policy.in_subtree(actor, parent.path):
                P.append(
                    Problem(
                        "organizations",
                        o.row,
                        "parent_code",
                        "Tổ chức cấp trên ngoài phạm vi bạn quản lý.",
                    )
                )
                continue
            parent_level = parent.org_level
        else:
            P.append(
                Problem(
                    "organizations",
                    o.row,
                    "parent_code",
                    f"Tổ chức cấp trên {o.parent_code} không có trong tệp hay trong hệ thống.",
                )
            )
            continue
        if o.level.depth != parent_level.depth + 1:
            P.append(
                Problem(
                    "organizations",
                    o.row,
                    "level",
                    f"Tổ chức trực thuộc {parent_level.label} phải ở cấp kế tiếp.",
                )
            )
    plan.orgs = [o for o in file_orgs.values() if o.code not in cycles]

    def org_ok(sheet: str, row: int, text: str) -> str | None:
        return tree.org_ok(P, sheet, row, text)

    # ------------------------------------------------------------ units
    for r in units:
        if r.get("organization_code"):
            tree.org_ok([], "units", r.row, r.get("organization_code"))  # loads it
    db_units = tree.db_units
    db_unit_abbr = {u.id: u.abbreviation for u in db_units.values()}
    file_units = tree.file_units
    for r in units:
        oc = org_ok("units", r.row, r.get("organization_code"))
        f = _text_fields(P, "units", r, ("abbreviation", "name"), required=("abbreviation", "name"))
        parent_abbr = r.get("parent_abbreviation") or None
        if oc is None or not f["abbreviation"] or not f["name"]:
            continue
        ukey = (oc, f["abbreviation"])
        if ukey in file_units:
            P.append(
                Problem(
                    "units",
                    r.row,
                    "abbreviation",
                    f"Đơn vị {ukey[1]} của {oc} lặp lại (dòng {file_units[ukey].row}).",
                )
            )
            continue
        file_units[ukey] = _Unit(
            r.row, oc, f["abbreviation"], f["name"], parent_abbr, db_units.get(ukey)
        )
    parent_map: dict[str, str | None] = {}
    for (oc, ab), u in db_units.items():
        parent_map[f"{oc}|{ab}"] = (
            f"{oc}|{db_unit_abbr[u.parent_id]}" if u.parent_id in db_unit_abbr else None
        )
    for (oc, ab), fu in file_units.items():
        parent_map[f"{oc}|{ab}"] = f"{oc}|{fu.parent_abbr}" if fu.parent_abbr else None
    unit_cycles = policy.cycle_members(parent_map)
    for (oc, ab), fu in file_units.items():
        if f"{oc}|{ab}" in unit_cycles:
            P.append(Problem("units", fu.row, "parent_abbreviation", "Cây đơn vị có vòng lặp."))
        elif (
            fu.parent_abbr
            and (oc, fu.parent_abbr) not in file_units
            and (oc, fu.parent_abbr) not in db_units
        ):
            P.append(
                Problem(
                    "units",
                    fu.row,
                    "parent_abbreviation",
                    f"Không có đơn vị {fu.parent_abbr} trong tổ chức {oc}.",
                )
            )
    plan.units = list(file_units.values())

    # ------------------------------------------------------------ users
    plan.counts = dict.fromkeys(("users_created", "users_updated"), 0)
    for batch in _batches(file.rows("users"), _WRITE_CHUNK):
        for pu in _check_users(tree, batch, P, seen=True):
            if pu.existing is None:
                plan.counts["users_created"] += 1
            elif _user_changes(pu, plan.unit_ids):
                plan.counts["users_updated"] += 1
    P += tree.duplicates(file)
    plan.problems.sort(
        key=lambda p: (
            list(("", "organizations", "units", "users")).index(p.sheet)
            if p.sheet in ("", "organizations", "units", "users")
            else 9,
            p.row,
        )
    )
    plan.counts = _count(plan) | plan.counts
    if file.files:
        plan.problems[:] = [
            replace(p, file=file.files.get(p.sheet, "")) if p.sheet else p for p in P
        ]
    return plan, tree


def _check_users(tree: _Tree, rows: list[SheetRow], P: list[Problem], *, seen: bool) -> list[_User]:
    """Check a batch of people's rows (problems into ``P``) and return the valid ones, each
    with its stored account if there is one (loaded for the batch)."""
    s, actor = tree.s, tree.actor
    tree.load(
        directory.normalise_code(r.get("organization_code"))
        for r in rows
        if r.get("organization_code")
    )
    names = sorted({r.get("username").lower() for r in rows if r.get("username")})
    db_users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(names)))}
    file_units, db_units = tree.file_units, tree.db_units
    out: list[_User] = []
    for r in rows:
        username = r.get("username").lower()
        if not username:
            P.append(Problem("users", r.row, "username", "Không được để trống."))
        elif not policy.USERNAME_RE.fullmatch(username):
            P.append(
                Problem(
                    "users",
                    r.row,
                    "username",
                    "Tên đăng nhập 2–64 ký tự: chữ không dấu, số, «.», «_», «-».",
                )
            )
            username = ""
        elif seen:
            tree.seen(username, r.row)
        oc = tree.org_ok(P, "users", r.row, r.get("organization_code"))
        f = _text_fields(
            P, "users", r, ("full_name", "position", "email", "phone"), required=("full_name",)
        )
        roles, unknown = policy.parse_roles(r.get("roles"))
        if unknown:
            P.append(Problem("users", r.row, "roles", f"Vai trò không có: {', '.join(unknown)}."))
        clearance = policy.parse_clearance(r.get("clearance"))
        if clearance is None:
            P.append(
                Problem(
                    "users",
                    r.row,
                    "clearance",
                    f"Độ mật «{r.get('clearance')}» không có; dùng none, confidential, secret, top_secret.",
                )
            )
        active = policy.parse_active(r.get("active"))
        if active is None:
            P.append(Problem("users", r.row, "active", "Ghi «có» hoặc «không»."))
        unit_abbr = r.get("unit_abbreviation") or None
        if (
            oc
            and unit_abbr
            and (oc, unit_abbr) not in file_units
            and (oc, unit_abbr) not in db_units
        ):
            P.append(
                Problem(
                    "users",
                    r.row,
                    "unit_abbreviation",
                    f"Không có đơn vị {unit_abbr} trong tổ chức {oc}.",
                )
            )
        if (
            not username
            or oc is None
            or clearance is None
            or active is None
            or unknown
            or not f["full_name"]
        ):
            continue
        existing = db_users.get(username)
        if existing is not None:
            if not policy.in_subtree(actor, existing.organization.path):
                P.append(Problem("users", r.row, "username", "Tên đăng nhập đã được dùng."))
                continue
            if existing.organization.code != oc:
                P.append(
                    Problem(
                        "users",
                        r.row,
                        "organization_code",
                        "Không chuyển người dùng sang tổ chức khác bằng cách nhập tệp.",
                    )
                )
                continue
            if existing.id == actor.user_id:
                if roles != existing.roles or clearance != existing.clearance_level:
                    P.append(
                        Problem(
                            "users",
                            r.row,
                            "roles",
                            "Không ai được tự thay đổi vai trò hoặc độ mật của chính mình.",
                        )
                    )
                if not active:
                    P.append(
                        Problem("users", r.row, "active", "Không thể tự khóa tài khoản của mình.")
                    )
        out.append(_User(r.row, username, oc, unit_abbr, roles, clearance, active, f, existing))
    return out


def _org_changes(o: _Org) -> dict[str, Any]:
    ex = o.existing
    if ex is None:
        return dict(o.fields)
    return {k: v for k, v in o.fields.items() if getattr(ex, k) != v}


def _user_changes(u: _User, unit_ids: dict[tuple[str, str], uuid.UUID | None]) -> dict[str, Any]:
    ex = u.existing
    assert ex is not None
    out = {k: v for k, v in u.fields.items() if getattr(ex, k) != v}
    unit_id = unit_ids.get((u.org_code, u.unit_abbr)) if u.unit_abbr else None
    if ex.unit_id != unit_id:
        out["unit_id"] = unit_id
    if ex.active != u.active:
        out["active"] = u.active
    split = directory.split_change(ex.roles, ex.clearance_level, u.roles, u.clearance)
    if split.roles_now is not None and split.roles_now != ex.roles:
        out["roles"] = sorted(split.roles_now)
    if split.clearance_now is not None and split.clearance_now != ex.clearance_level:
        out["clearance"] = split.clearance_now.value
    return out


# What an import reports it created and updated (the plan's and the result's counts).
COUNT_KEYS = (
    "organizations_created",
    "organizations_updated",
    "units_created",
    "units_updated",
    "users_created",
    "users_updated",
)


def _count(plan: Plan) -> dict[str, int]:
    c = dict.fromkeys(COUNT_KEYS, 0)
    for o in plan.orgs:
        if o.existing is None:
            c["organizations_created"] += 1
        elif _org_changes(o):
            c["organizations_updated"] += 1
    for u in plan.units:
        if u.existing is None:
            c["units_created"] += 1
        elif u.existing.name != u.name:
            c["units_updated"] += 1
    return c


def _activation_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def activation_hash(code: str) -> str:
    norm = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(norm.encode()).hexdigest()


def _topo(orgs: list[_Org]) -> list[_Org]:
    by_code = {o.code: o for o in orgs}
    out: list[_Org] = []
    seen: set[str] = set()

    def visit(o: _Org) -> None:
        if o.code in seen:
            return
        seen.add(o.code)
        if o.parent_code in by_code:
            visit(by_code[o.parent_code])
        out.append(o)

    for o in orgs:
        visit(o)
    return out


def import_directory(
    uow: UnitOfWork,
    actor: Actor,
    file: DirectoryRows,
    *,
    source: str = "",
    link_base: str | None = None,
    activation_days: int = ACTIVATION_DAYS,
    on_activation: Callable[[ActivationLine], None] | None = None,
    email_links: bool = False,
) -> ImportResult:
    """Apply the file, all or nothing. Raises :class:`ImportInvalidError` (nothing written) when
    the file has any problem.

    The file is read twice, as a stream: a first pass checks everything (keeping the tree and
    compact traces of the people, not their rows), the second writes the people in batches of
    ``_WRITE_CHUNK`` inside the one transaction, letting go of each batch once flushed, and
    records one audit entry per organisation and batch. Each new person's activation line goes
    to ``on_activation`` (kept in ``ImportResult.activations`` when none is given). With
    ``email_links``, people with an e-mail address get no code now: an outbox message asks the
    worker to issue one and e-mail them its link (:func:`issue_emailed_activation`)."""
    policy.ensure_can_import(actor)
    with uow:
        s = uow.session
        plan, tree = _plan(s, actor, file)
        if not plan.ok:
            raise ImportInvalidError(plan.problems)
        now = uow.now()
        expires = now + dt.timedelta(days=activation_days)
        touched: dict[uuid.UUID, dict[str, Any]] = {}
        counts = dict.fromkeys(COUNT_KEYS, 0)
        kept: list[ActivationLine] = []
        give = on_activation or kept.append
        emailed = 0

        def note(org_id: uuid.UUID, key: str, value: Any) -> None:
            entry = touched.setdefault(org_id, {})
            if isinstance(value, list):
                entry.setdefault(key, []).extend(value)
            else:
                entry[key] = value

        def record_touched() -> None:
            for org_id, details in touched.items():
                audit.record(
                    uow,
                    "directory_imported",
                    actor=actor,
                    organization_id=org_id,
                    object_type="organization",
                    object_id=org_id,
                    details={"source": source} | details,
                )
            for k, v in _count_applied(touched).items():
                counts[k] += v
            touched.clear()

        orgs: dict[str, Organization] = {}
        for o in _topo(plan.orgs):
            if o.existing is not None:
                orgs[o.code] = o.existing
                changes = _org_changes(o)
                if changes:
                    for k, v in changes.items():
                        setattr(o.existing, k, v)
                    directory.queue_registration(uow, o.existing.id)
                    note(o.existing.id, "organization_updated", sorted(changes))
                continue
            parent = (
                orgs.get(o.parent_code or "")
                or s.scalars(select(Organization).where(Organization.code == o.parent_code)).one()
            )
            org_id = new_id()
            org = Organization(
                id=org_id,
                parent_id=parent.id,
                level=o.level.value,
                code=o.code,
                path=f"{parent.path}{org_id}/",
                **o.fields,
            )
            s.add(org)
            orgs[o.code] = org
            directory.queue_registration(uow, org_id)
            note(org_id, "organization_created", o.code)
        s.flush()

        def org_of(code: str) -> Organization:
            if code not in orgs:
                orgs[code] = s.scalars(select(Organization).where(Organization.code == code)).one()
            return orgs[code]

        unit_ids: dict[tuple[str, str], uuid.UUID | None] = {}
        for (oc, ab), u in _db_units_for(
            s,
            set(tree.db_orgs) | {o.code for o in plan.orgs},
            org_of,
        ).items():
            unit_ids[(oc, ab)] = u.id
        new_units: dict[int, Unit] = {}  # by id() of the file's unit
        for fu in plan.units:
            org = org_of(fu.org_code)
            if fu.existing is None:
                unit = Unit(id=new_id(), organization_id=org.id, name=fu.name, abbreviation=fu.abbr)
                s.add(unit)
                unit_ids[(fu.org_code, fu.abbr)] = unit.id
                new_units[id(fu)] = unit
                note(org.id, "units_created", [fu.abbr])
            elif fu.existing.name != fu.name:
                fu.existing.name = fu.name
                note(org.id, "units_updated", [fu.abbr])
        s.flush()
        for fu in plan.units:
            want = unit_ids.get((fu.org_code, fu.parent_abbr)) if fu.parent_abbr else None
            uid = unit_ids[(fu.org_code, fu.abbr)]
            unit = fu.existing or new_units[id(fu)]
            if unit.parent_id != want:
                unit.parent_id = want
                if fu.existing is not None:
                    note(org_of(fu.org_code).id, "units_updated", [fu.abbr])
            del uid

        pending = 0
        requester = s.get_one(User, actor.user_id)
        fresh: list[Any] = []
        for batch in _batches(file.rows("users"), _WRITE_CHUNK):
            problems: list[Problem] = []
            people = _check_users(tree, batch, problems, seen=False)
            if problems:  # the file changed between the two readings
                raise ImportInvalidError(problems)
            del batch
            open_requests = _open_requests(s, [u.existing.id for u in people if u.existing])
            to_email: list[str] = []
            for pu in people:
                org = org_of(pu.org_code)
                unit_id = unit_ids.get((pu.org_code, pu.unit_abbr)) if pu.unit_abbr else None
                if pu.existing is None:
                    split = directory.split_change(
                        frozenset(), Secrecy.NONE, pu.roles, pu.clearance
                    )
                    user = User(
                        id=new_id(),
                        organization_id=org.id,
                        unit_id=unit_id,
                        username=pu.username,
                        password_hash=UNUSABLE_PASSWORD,
                        clearance=(split.clearance_now or Secrecy.NONE).value,
                        active=pu.active,
                        role_rows=[UserRole(role=r.value) for r in sorted(split.roles_now or ())],
                        **pu.fields,
                    )
                    s.add(user)
                    fresh.append(user)
                    if email_links and pu.fields.get("email") and pu.active:
                        to_email.append(str(user.id))
                    else:
                        code = _activation_code()
                        activation = UserActivation(
                            user_id=user.id,
                            code_hash=activation_hash(code),
                            created_by_id=actor.user_id,
                            created_at=now,
                            expires_at=expires,
                        )
                        s.add(activation)
                        fresh.append(activation)
                        give(
                            ActivationLine(
                                pu.username,
                                pu.fields["full_name"],
                                pu.org_code,
                                code,
                                activation_link(link_base, pu.username, code),
                                expires,
                            )
                        )
                    note(org.id, "users_created", [pu.username])
                    current_roles, current_clearance = frozenset[Role](), Secrecy.NONE
                else:
                    user = pu.existing
                    fresh.append(user)
                    changes = _user_changes(pu, unit_ids)
                    roles = changes.pop("roles", None)
                    if changes or roles is not None:
                        if roles is not None:
                            user.role_rows = [UserRole(role=r.value) for r in roles]
                        if changes.get("active") is False:
                            directory.end_user_sessions(uow, user.id)
                        for k, v in changes.items():
                            setattr(user, k, v)
                        note(org.id, "users_updated", [pu.username])
                    current_roles, current_clearance = user.roles, user.clearance_level
                    if roles is not None:
                        current_roles = frozenset(roles)
                split = directory.split_change(
                    current_roles, current_clearance, pu.roles, pu.clearance
                )
                if split.needs_approval:
                    asked = (
                        tuple(sorted(r.value for r in split.roles_to_grant)) or None,
                        split.clearance_to_grant.value if split.clearance_to_grant else None,
                    )
                    if asked in open_requests.get(user.id, set()):
                        continue
                    request = PrivilegeRequest(
                        id=new_id(),
                        organization_id=org.id,
                        user=user,
                        requested_by=requester,
                        roles=list(asked[0]) if asked[0] else None,
                        clearance=asked[1],
                        requested_at=now,
                        decided_by=None,
                    )
                    s.add(request)
                    fresh.append(request)
                    pending += 1
                    note(org.id, "privileges_requested", [pu.username])
                    audit.record(
                        uow,
                        "privilege_requested",
                        actor=actor,
                        organization_id=org.id,
                        object_type="user",
                        object_id=user.id,
                        details={
                            "request_id": str(request.id),
                            "roles": list(asked[0]) if asked[0] else None,
                            "clearance": asked[1],
                            "import": True,
                        },
                    )
            if to_email:
                uow.enqueue(
                    ACTIVATION_EMAIL_TOPIC,
                    activation_email_payload(to_email, actor.user_id, now, activation_days),
                )
                emailed += len(to_email)
            # The batch is written and let go of: the transaction stays one (a failure
            # anywhere, even an unexpected database error, writes nothing), but the session
            # does not keep every created object alive until the commit.
            s.flush()
            record_touched()
            s.flush()
            for obj in fresh:
                if obj in s and obj is not requester:
                    s.expunge(obj)
            fresh.clear()
            del people
        record_touched()  # the tree's changes when the file has no people
        counts |= {"privilege_requests": pending, "activations_emailed": emailed}
        uow.commit()
        return ImportResult(counts, kept, pending)


def activation_link(link_base: str | None, username: str, code: str) -> str | None:
    """The page where ``username`` exchanges ``code`` for a password (None without a base)."""
    if not link_base:
        return None
    return f"{link_base.rstrip('/')}/activate?{urlencode({'u': username, 'code': code})}"


def _count_applied(touched: dict[uuid.UUID, dict[str, Any]]) -> dict[str, int]:
    c = {
        "organizations_created": 0,
        "organizations_updated": 0,
        "units_created": 0,
        "units_updated": 0,
        "users_created": 0,
        "users_updated": 0,
    }
    for d in touched.values():
        c["organizations_created"] += "organization_created" in d
        c["organizations_updated"] += "organization_updated" in d
        for k in ("units_created", "units_updated", "users_created", "users_updated"):
            c[k] += len(set(d.get(k, [])))
    return c


def _db_units_for(s: Session, codes: set[str], org_of: Any) -> dict[tuple[str, str], Unit]:
    ids = {org_of(c).id: c for c in codes}
    out: dict[tuple[str, str], Unit] = {}
    keys = list(ids)
    for i in range(0, len(keys), _CHUNK):
        for u in s.scalars(select(Unit).where(Unit.organization_id.in_(keys[i : i + _CHUNK]))):
            out[(ids[u.organization_id], u.abbreviation)] = u
    return out


def _open_requests(
    s: Session, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[tuple[tuple[str, ...] | None, str | None]]]:
    out: dict[uuid.UUID, set[Any]] = {}
    for i in range(0, len(user_ids), _CHUNK):
        for r in s.scalars(
            select(PrivilegeRequest).where(
                PrivilegeRequest.user_id.in_(user_ids[i : i + _CHUNK]),
                PrivilegeRequest.state == "pending",
            )
        ):
            out.setdefault(r.user_id, set()).add((tuple(r.roles) if r.roles else None, r.clearance))
    return out


def activate_account(uow: UnitOfWork, cmd: ActivateAccount) -> User:
    """Exchange a one-time activation code for a password of the person's choice: single use,
    expiring; every other unused code of the person ends with it."""
    refused = ValidationError.field(
        "code", "Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn.", code="invalid_activation"
    )
    with uow:
        s = uow.session
        user = s.scalars(select(User).where(User.username == cmd.username.lower())).first()
        if user is None or not user.active:
            raise refused
        found = s.scalars(
            select(UserActivation)
            .where(
                UserActivation.user_id == user.id,
                UserActivation.code_hash == activation_hash(cmd.code),
            )
            .with_for_update()
        ).first()
        now = uow.now()
        if found is None:
            raise refused
        next_state(activation_state(found.used_at, found.expires_at, now), ActivationAction.USE)
        found.used_at = now
        s.flush()
        # The person's other codes end with it, and their sessions (directory.replace_password).
        directory.replace_password(uow, user, directory.hash_password(cmd.password))
        audit.record(
            uow,
            "account_activated",
            organization_id=user.organization_id,
            object_type="user",
            object_id=user.id,
            actor_name=user.username,
        )
        uow.commit()
        return user


@dataclass(frozen=True)
class ActivationEmail:
    """An activation e-mail, in Vietnamese: to whom, its subject and body (which hold the
    one-time link: it is handed to the sender and never stored or logged)."""

    to: str
    to_name: str
    subject: str
    body: str


def email_activations(
    uow: UnitOfWork,
    payload: dict[str, Any],
    *,
    link_base: str | None,
    send: Callable[[ActivationEmail], None],
) -> int:
    """The worker's side of ``ACTIVATION_EMAIL_TOPIC``: for each person of the message who is
    still waiting (active, never signed in with a password of their own, with an e-mail
    address) issue a fresh one-time code, hand the e-mail with its link to ``send``, then
    commit the code's hash, one person at a time. The code exists only in the e-mail: the
    database keeps its hash, the outbox only the people's ids. A retried message skips those
    already sent a code since the message was written (delivery at least once: a send that
    succeeded before a failed commit is sent again, with a new code). Returns how many were
    sent."""
    issued_by = uuid.UUID(str(payload["issued_by"]))
    since = dt.datetime.fromisoformat(str(payload["issued_at"]))
    days = int(payload.get("days", ACTIVATION_DAYS))
    sent = 0
    for raw in payload.get("user_ids", []):
        with uow:
            s = uow.session
            user = s.get(User, uuid.UUID(str(raw)), with_for_update={"of": User})
            if (
                user is None
                or not user.active
                or not user.email
                or user.password_hash != UNUSABLE_PASSWORD
            ):
                continue
            already = s.scalars(
                select(UserActivation.id).where(
                    UserActivation.user_id == user.id,
                    UserActivation.created_at >= since,
                    UserActivation.created_by_id == issued_by,
                )
            ).first()
            if already is not None:
                continue
            now = uow.now()
            expires = now + dt.timedelta(days=days)
            code = _activation_code()
            s.add(
                UserActivation(
                    user_id=user.id,
                    code_hash=activation_hash(code),
                    created_by_id=issued_by,
                    created_at=now,
                    expires_at=expires,
                )
            )
            s.flush()
            link = activation_link(link_base, user.username, code)
            lines = [
                f"Kính gửi {user.full_name},",
                "",
                "Tài khoản của bạn trên Hệ thống thông tin điều hành tác nghiệp (DHTN) đã được "
                "tạo.",
                f"Tên đăng nhập: {user.username}",
                "",
            ]
            if link:
                lines += ["Để kích hoạt tài khoản và tự chọn mật khẩu, mở liên kết sau:", link]
            else:
                lines += [
                    "Để kích hoạt tài khoản, mở trang «Kích hoạt tài khoản» của hệ thống và "
                    f"nhập mã: {code}"
                ]
            lines += [
                "",
                "Liên kết chỉ dùng được một lần và hết hạn lúc "
                f"{expires.strftime('%H:%M ngày %d/%m/%Y')} (giờ UTC).",
                "Nếu bạn không chờ thư này, hãy bỏ qua nó và báo cho quản trị viên.",
            ]
            send(
                ActivationEmail(
                    to=user.email,
                    to_name=user.full_name,
                    subject="Kích hoạt tài khoản DHTN",
                    body="\n".join(lines),
                )
            )
            audit.record(
                uow,
                "activation_emailed",
                organization_id=user.organization_id,
                object_type="user",
                object_id=user.id,
                details={"expires_at": expires.isoformat()},
                actor_name="system",
            )
            uow.commit()
            sent += 1
    return sent


def activation_email_payload(
    user_ids: Sequence[str], issued_by: uuid.UUID, issued_at: dt.datetime, days: int
) -> dict[str, Any]:
    """The outbox message asking the worker to e-mail these people their activation link:
    ids only, never a code."""
    return {
        "user_ids": list(user_ids),
        "issued_by": str(issued_by),
        "issued_at": issued_at.isoformat(),
        "days": days,
    }


@dataclass(frozen=True)
class StagedImport:
    """An uploaded workbook stored (checked: size, type, zip-bomb limits) and its plan;
    ``files`` names the CSV files it was made of (sheet → file name), if any."""

    key: str
    filename: str
    plan: Plan
    files: dict[str, str] = field(default_factory=dict)


def stage_directory_upload(uow: UnitOfWork, actor: Actor, upload: Upload) -> StagedImport:
    """The page's preview: store the workbook through the checked upload path, read it back and
    plan it (nothing of the directory is written). The caller keeps ``key`` to confirm."""
    policy.ensure_can_import(actor)
    with uow:
        stored = store_uploads(uow, [upload])[0].checked
        if stored.file_type != FileType.XLSX:
            raise ValidationError.field(
                "file", "Chỉ nhận sổ tính Excel (.xlsx) hoặc tệp CSV.", code="unsupported_file_type"
            )
        reader = open_object(uow, stored.ref.key)
        try:
            parsed = WorkbookRows(reader.readall())
        finally:
            reader.close()
        return StagedImport(stored.ref.key, stored.filename, _plan(uow.session, actor, parsed)[0])


def stage_directory_csv(uow: UnitOfWork, actor: Actor, uploads: Sequence[Upload]) -> StagedImport:
    """The page's preview of CSV files (``organizations.csv``, ``units.csv``, ``users.csv``, any
    of them, in one upload): each read within the deployment's upload limit, checked and planned
    as the CLI does (problems name the file, row and column); then kept, for the confirmation,
    as one workbook stored through the checked upload path."""
    policy.ensure_can_import(actor)
    with uow:
        limit = upload_limits(uow).max_size
        files: list[tuple[str, bytes]] = []
        for up in uploads:
            data = up.stream.read(limit + 1)
            if len(data) > limit:
                raise FileRefusedError(FileTooLargeError(), up.filename)
            if b"\x00" in data:
                raise FileRefusedError(UnsupportedFileTypeError(), up.filename)
            files.append((up.filename, data))
        rows = CsvRows(files)
        del files
        plan = _plan(uow.session, actor, rows)[0]
        book = csv_workbook(rows)
        name = ", ".join(rows.files.values()) or "csv"
        stored = store_uploads(
            uow,
            [Upload(io.BytesIO(book), "danh-muc-csv.xlsx", FileType.XLSX.media_type)],
        )[0].checked
        return StagedImport(stored.ref.key, name[:200], plan, dict(rows.files))


def import_staged(
    uow: UnitOfWork,
    actor: Actor,
    key: str,
    *,
    source: str = "",
    link_base: str | None = None,
    files: dict[str, str] | None = None,
    email_links: bool = False,
) -> ImportResult:
    """The page's confirmation: import the workbook stored by :func:`stage_directory_upload`
    or :func:`stage_directory_csv` (the caller vouches that this actor staged ``key``)."""
    policy.ensure_can_import(actor)
    reader = open_object(uow, key)
    try:
        data = reader.readall()
    finally:
        reader.close()
    return import_directory(
        uow,
        actor,
        WorkbookRows(data, files),
        source=source,
        link_base=link_base,
        email_links=email_links,
    )
