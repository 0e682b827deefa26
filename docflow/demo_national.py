"""The national-scale demo tree (``dhtn demo seed --national``, issue 15): the real shape of the
Front with obviously fake codes.

1 central committee, 34 provinces, 3,321 communes (a few large provinces, many middle-sized
ones), the standard committee units of each level, and people at every level (40,000 by
default; 270,000 for the whole Front) with the working roles (admin, clerk, leader, unit head,
specialist), plus an incoming and an outgoing register of the current year per organisation.

Everything is deterministic: the same ``users`` gives the same tree, the same ids (UUIDv5 of
the code or username) and the same usernames, so a load test can compute whom to sign in as
(:func:`national_plan`). Codes end in ``Z90``: the letter Z, which no real organisation has,
and a number the small demo (``Z01``…) does not use. Usernames start with ``z`` and follow the
organisation: ``ztw.*`` (central), ``zt07.*`` (province 7), ``zt07x012.*`` (its 12th commune);
the first people of each organisation are ``<org>.quantri`` (admin), ``<org>.vanthu`` (clerk),
``<org>.lanhdao`` (leader), then ``<org>.truongban<i>`` (unit heads), ``<org>.cv<n>``.

Rows are written in bulk (Core ``INSERT … executemany`` in chunks, no ORM object per row), in
one transaction: an interrupted run leaves nothing, and a second run finds the central
committee and says the tree is there (it creates nothing and changes nothing).

Passwords: by default every account gets the unusable hash of imported accounts (nobody can
sign in until an admin hands out an activation code); with ``password`` every account shares
that one password (hashed once), which is what a load test needs.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text

from docflow import audit
from docflow.demo import SeedResult, seed_reference_data
from docflow.directory.orgcodes import is_valid_code
from docflow.directory.passwords import hash_password
from docflow.enums import Direction, OrgLevel, Role
from docflow.imports import UNUSABLE_PASSWORD
from docflow.models import Organization, Register, Unit, User, UserRole
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

SUFFIX = "Z90"
CENTRAL_CODE = f"000.00.00.{SUFFIX}"
PROVINCES = 34
COMMUNES = 3321
DEFAULT_USERS = 40_000
FULL_USERS = 270_000
_NS = uuid.UUID("6f1c2a52-15d0-4e4b-9a55-0000000000f5")
_CHUNK = 5000

# The standard units of a committee at each level (abbreviation, name).
UNITS: dict[OrgLevel, tuple[tuple[str, str], ...]] = {
    OrgLevel.CENTRAL: (
        ("BTT", "Ban Thường trực"),
        ("VP", "Văn phòng"),
        ("TCKT", "Ban Tổ chức - Kiểm tra"),
        ("TG", "Ban Tuyên giáo"),
        ("DCGSPBXH", "Ban Dân chủ, Giám sát và Phản biện xã hội"),
        ("PT", "Ban Phong trào"),
        ("DN", "Ban Đối ngoại và Kiều bào"),
        ("DTTG", "Ban Dân tộc - Tôn giáo"),
    ),
    OrgLevel.PROVINCE: (
        ("BTT", "Ban Thường trực"),
        ("VP", "Văn phòng"),
        ("TCKT", "Ban Tổ chức - Kiểm tra"),
        ("TG", "Ban Tuyên giáo"),
        ("DCPL", "Ban Dân chủ - Pháp luật"),
        ("PT", "Ban Phong trào"),
    ),
    OrgLevel.COMMUNE: (
        ("BTT", "Ban Thường trực"),
        ("VP", "Bộ phận Văn phòng"),
        ("CTMT", "Bộ phận Công tác Mặt trận"),
    ),
}
# Share of the people at each level (the rest after each organisation's core four).
_SHARE = {OrgLevel.CENTRAL: 0.01, OrgLevel.PROVINCE: 0.09, OrgLevel.COMMUNE: 0.90}
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
_MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Kim")
_GIVEN: tuple[str, ...] = (
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh", "Lan",
    "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang",
)  # fmt: skip


@dataclass(frozen=True)
class NationalOrg:
    id: uuid.UUID
    code: str
    parent_id: uuid.UUID | None
    level: OrgLevel
    name: str
    slug: str  # the username prefix: ztw, zt07, zt07x012
    path: str


@dataclass(frozen=True)
class NationalUser:
    id: uuid.UUID
    username: str
    organization_id: uuid.UUID
    unit: str
    roles: tuple[Role, ...]
    full_name: str
    position: str


@dataclass
class NationalPlan:
    """The whole tree as it will be (or was) written; what a load test reads to pick people."""

    organizations: list[NationalOrg]
    users_per_org: dict[uuid.UUID, int]
    users: int

    def people(self) -> Iterator[NationalUser]:
        """Every person, organisation by organisation (generated, not stored in memory)."""
        for org in self.organizations:
            yield from _people_of(org, self.users_per_org[org.id])

    def usernames(self, role: Role, level: OrgLevel | None = None) -> Iterator[str]:
        """The usernames holding ``role`` (one per organisation for admin, clerk, leader)."""
        for org in self.organizations:
            if level is not None and org.level != level:
                continue
            for person in _people_of(org, min(self.users_per_org[org.id], 64)):
                if role in person.roles:
                    yield person.username


@dataclass
class NationalResult:
    created: bool
    organizations: int = 0
    units: int = 0
    users: int = 0
    roles: int = 0
    registers: int = 0
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)


def _oid(key: str) -> uuid.UUID:
    return uuid.uuid5(_NS, key)


def commune_counts(total: int = COMMUNES, provinces: int = PROVINCES) -> list[int]:
    """How many communes each province has: a few large ones (up to ~170, as the two big
    cities), most between 60 and 120; the sum is exactly ``total`` (largest remainders)."""
    rng = random.Random(15)
    weights = [rng.uniform(0.6, 1.25) for _ in range(provinces)]
    for big in (0, 1, 5):  # the two cities and one large province
        if big < provinces:
            weights[big] = 1.75
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(provinces), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _commune_code(province: int, k: int) -> str:
    return f"{province:03d}.{k // 100:02d}.{k % 100:02d}.{SUFFIX}"


def national_plan(users: int = DEFAULT_USERS) -> NationalPlan:
    """The tree and the number of people of each organisation for ``users`` people in all."""
    orgs: list[NationalOrg] = []
    central_id = _oid(CENTRAL_CODE)
    orgs.append(
        NationalOrg(
            central_id,
            CENTRAL_CODE,
            None,
            OrgLevel.CENTRAL,
            "Ủy ban Trung ương MTTQ Việt Nam (mẫu quốc gia)",
            "ztw",
            f"/{central_id}/",
        )
    )
    for p, communes in enumerate(commune_counts(), start=1):
        code = f"000.00.{p:02d}.{SUFFIX}"
        pid = _oid(code)
        ppath = f"/{central_id}/{pid}/"
        orgs.append(
            NationalOrg(
                pid,
                code,
                central_id,
                OrgLevel.PROVINCE,
                f"Ủy ban MTTQ Việt Nam tỉnh Mẫu {p:02d}",
                f"zt{p:02d}",
                ppath,
            )
        )
        for k in range(1, communes + 1):
            ccode = _commune_code(p, k)
            cid = _oid(ccode)
            orgs.append(
                NationalOrg(
                    cid,
                    ccode,
                    pid,
                    OrgLevel.COMMUNE,
                    f"Ủy ban MTTQ Việt Nam xã Mẫu {p:02d}-{k:03d}",
                    f"zt{p:02d}x{k:03d}",
                    f"{ppath}{cid}/",
                )
            )
    return NationalPlan(orgs, _allocate(orgs, users), users)


def _allocate(orgs: Sequence[NationalOrg], users: int) -> dict[uuid.UUID, int]:
    """Four people per organisation at least (admin, clerk, leader, one specialist); the rest
    shared between the levels by ``_SHARE`` and evenly inside a level (remainders to the
    first organisations)."""
    floor = 4
    per: dict[uuid.UUID, int] = {o.id: floor for o in orgs}
    spare = max(0, users - floor * len(orgs))
    for level, share in _SHARE.items():
        members = [o for o in orgs if o.level == level]
        budget = int(spare * share) if level != OrgLevel.COMMUNE else 0
        if level == OrgLevel.COMMUNE:
            budget = spare - sum(int(spare * s) for lv, s in _SHARE.items() if lv != level)
        each, rest = divmod(budget, len(members))
        for i, o in enumerate(members):
            per[o.id] += each + (1 if i < rest else 0)
    return per


def _people_of(org: NationalOrg, count: int) -> Iterator[NationalUser]:
    """The organisation's people in a fixed order: admin, clerk, leader, a first specialist,
    the unit heads, then more specialists spread over the units."""
    units = UNITS[org.level]
    rng = random.Random(org.code)
    working = [u for u, _ in units if u not in ("BTT", "VP")]
    order: list[tuple[str, str, tuple[Role, ...], str]] = [
        ("quantri", "VP", (Role.ADMIN,), "Quản trị viên"),
        ("vanthu", "VP", (Role.CLERK,), "Văn thư"),
        ("lanhdao", "BTT", (Role.LEADER,), "Chủ tịch"),
        ("cv0001", working[0], (Role.SPECIALIST,), "Chuyên viên"),
    ]
    order += [
        (f"truongban{i}", u, (Role.UNIT_HEAD,), "Trưởng ban") for i, u in enumerate(working, 1)
    ]
    for n in range(count):
        if n < len(order):
            suffix, unit, roles, position = order[n]
        else:
            k = n - len(order) + 2
            suffix, unit = f"cv{k:04d}", working[k % len(working)]
            roles, position = (Role.SPECIALIST,), "Chuyên viên"
        name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
        username = f"{org.slug}.{suffix}"
        yield NationalUser(_oid(username), username, org.id, unit, roles, name, position)


def _chunks(rows: Iterable[dict[str, Any]], size: int = _CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def national_counts(uow: UnitOfWork) -> dict[str, int]:
    """What the national tree holds now (organisations, units, people with a ``Z90`` code)."""
    with uow:
        s = uow.session
        org_ids = select(Organization.id).where(Organization.code.like(f"%.{SUFFIX}"))
        return {
            "organizations": s.scalar(select(func.count()).select_from(org_ids.subquery())) or 0,
            "units": s.scalar(
                select(func.count()).where(Unit.organization_id.in_(org_ids)).select_from(Unit)
            )
            or 0,
            "users": s.scalar(
                select(func.count()).where(User.organization_id.in_(org_ids)).select_from(User)
            )
            or 0,
            "registers": s.scalar(
                select(func.count())
                .where(Register.organization_id.in_(org_ids))
                .select_from(Register)
            )
            or 0,
        }


def seed_national(
    uow: UnitOfWork, *, users: int = DEFAULT_USERS, password: str | None = None
) -> NationalResult:
    """Create the national tree, or find it there (then nothing is written).

    ``password``: one password every account shares (hashed once); None gives each the
    unusable hash of imported accounts (activation codes are handed out from the admin pages).
    """
    if users < 0:
        raise ValueError("users must be positive")
    started = time.perf_counter()
    plan = national_plan(users)
    with uow:
        s = uow.session
        if s.scalar(select(Organization.id).where(Organization.code == CENTRAL_CODE)):
            uow.rollback()
            found = national_counts(uow)
            return NationalResult(
                created=False,
                organizations=found["organizations"],
                units=found["units"],
                users=found["users"],
                registers=found["registers"],
                seconds=time.perf_counter() - started,
            )
        reference = SeedResult()
        seed_reference_data(uow, reference)
        s.flush()
        now = uow.now()
        year = local_date(now).year
        result = NationalResult(created=True)
        conn = s.connection()
        for org in plan.organizations:
            if not is_valid_code(org.code):  # pragma: no cover - the plan makes valid codes
                raise ValueError(f"invalid national code {org.code}")
        # Parents before children: the plan lists the central, then each province before its
        # communes, so each chunk's parents are already written.
        for batch in _chunks(
            {
                "id": o.id,
                "parent_id": o.parent_id,
                "level": o.level.value,
                "name": o.name,
                "abbreviation": "MTTW" if o.level == OrgLevel.CENTRAL else "MTTQ",
                "code": o.code,
                "path": o.path,
                "active": True,
                "created_at": now,
            }
            for o in plan.organizations
        ):
            conn.execute(insert(Organization), batch)
            result.organizations += len(batch)
        unit_ids: dict[tuple[uuid.UUID, str], uuid.UUID] = {}

        def unit_rows() -> Iterator[dict[str, Any]]:
            for o in plan.organizations:
                for abbr, name in UNITS[o.level]:
                    uid = _oid(f"{o.code}/{abbr}")
                    unit_ids[(o.id, abbr)] = uid
                    yield {
                        "id": uid,
                        "organization_id": o.id,
                        "parent_id": None,
                        "name": name,
                        "abbreviation": abbr,
                        "active": True,
                        "created_at": now,
                    }

        for batch in _chunks(unit_rows()):
            conn.execute(insert(Unit), batch)
            result.units += len(batch)
        password_hash = hash_password(password) if password else UNUSABLE_PASSWORD
        roles: list[dict[str, Any]] = []
        for batch in _chunks(
            {
                "id": p.id,
                "organization_id": p.organization_id,
                "unit_id": unit_ids[(p.organization_id, p.unit)],
                "username": p.username,
                "full_name": p.full_name,
                "position": p.position,
                "password_hash": password_hash,
                "clearance": "none",
                "active": True,
                "created_at": now,
                "_roles": p.roles,
            }
            for p in plan.people()
        ):
            roles = [
                {"user_id": r["id"], "role": role.value} for r in batch for role in r["_roles"]
            ]
            for r in batch:
                del r["_roles"]
            conn.execute(insert(User), batch)
            conn.execute(insert(UserRole), roles)
            result.users += len(batch)
            result.roles += len(roles)
        for batch in _chunks(
            {
                "id": _oid(f"{o.code}/register/{d.value}/{year}"),
                "organization_id": o.id,
                "direction": d.value,
                "year": year,
                "name": f"Sổ {d.label.lower()} năm {year}",
                "secret_series": False,
                "last_number": 0,
                "active": True,
                "created_at": now,
            }
            for o in plan.organizations
            for d in Direction
        ):
            conn.execute(insert(Register), batch)
            result.registers += len(batch)
        audit.record(
            uow,
            "demo_national_seeded",
            organization_id=plan.organizations[0].id,
            actor_name="dhtn demo seed --national",
            details={
                "organizations": result.organizations,
                "units": result.units,
                "users": result.users,
                "registers": result.registers,
                "shared_password": bool(password),
            },
        )
        uow.commit()
    # Fresh statistics: the planner otherwise believes the tables as small as before the bulk
    # insert (autovacuum comes later) and scans the whole tree for a page of 50 people.
    with uow:
        uow.session.execute(
            text(
                "ANALYZE organizations, units, users, user_roles, registers"
                if uow.session.get_bind().dialect.name == "postgresql"
                else "ANALYZE"
            )
        )
        uow.commit()
    result.seconds = time.perf_counter() - started
    return result


def level_counts(plan: NationalPlan) -> dict[str, int]:
    """Organisations per level (central 1, province 34, commune 3,321)."""
    out: dict[str, int] = {}
    for o in plan.organizations:
        out[o.level.value] = out.get(o.level.value, 0) + 1
    return out


__all__ = [
    "CENTRAL_CODE",
    "COMMUNES",
    "DEFAULT_USERS",
    "FULL_USERS",
    "PROVINCES",
    "SUFFIX",
    "NationalOrg",
    "NationalPlan",
    "NationalResult",
    "NationalUser",
    "commune_counts",
    "level_counts",
    "national_counts",
    "national_plan",
    "seed_national",
]
