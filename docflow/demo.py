"""The demo dataset of API.md §1: three organisations, their units, people and registers.

Idempotent: running it again adds only what is missing. Codes use the letter Z, which no real
organisation has; ``suffix`` replaces ``Z01`` so a second installation's codes differ. The
suffix changes organisation codes only: usernames are those of API.md's demo table in every
installation (each installation has its own database, so they never meet).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select

from docflow import audit
from docflow.directory.orgcodes import is_valid_code
from docflow.directory.passwords import hash_password
from docflow.enums import Direction, OrgLevel, Role, Secrecy
from docflow.ids import new_id
from docflow.models import DocumentType, Holiday, Organization, Register, Unit, User, UserRole
from docflow.reference import DOCUMENT_TYPES, HOLIDAYS_2026
from docflow.uow import UnitOfWork
from docflow.workdays import local_date


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    position: str
    unit: str | None
    roles: tuple[Role, ...]
    clearance: Secrecy = Secrecy.NONE


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    abbreviation: str
    code_prefix: str  # joined with the suffix, e.g. "000.00.01." + "Z01"
    level: OrgLevel
    parent: str | None
    units: tuple[tuple[str, str], ...]
    users: tuple[DemoUser, ...]


DEMO_ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "tw",
        "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
        "MTTW",
        "000.00.00.",
        OrgLevel.CENTRAL,
        None,
        (
            ("BTT", "Ban Thường trực"),
            ("VP", "Văn phòng"),
            ("DCGSPBXH", "Ban Dân chủ, Giám sát và Phản biện xã hội"),
            ("TG", "Ban Tuyên giáo"),
        ),
        (
            DemoUser("admin", "Quản trị hệ thống", "Quản trị viên", "VP", (Role.ADMIN,)),
            DemoUser("vanthu.tw", "Trần Thị Thu", "Văn thư", "VP", (Role.CLERK,)),
            DemoUser(
                "lanhdao.tw",
                "Lê Văn Minh",
                "Phó Chủ tịch",
                "BTT",
                (Role.LEADER,),
                Secrecy.SECRET,
            ),
            DemoUser(
                "truongban.dcgs", "Phạm Thị Hạnh", "Trưởng ban", "DCGSPBXH", (Role.UNIT_HEAD,)
            ),
            DemoUser(
                "chuyenvien.dcgs", "Đỗ Quang Huy", "Chuyên viên", "DCGSPBXH", (Role.SPECIALIST,)
            ),
            DemoUser("chuyenvien.tg", "Vũ Thị Lan", "Chuyên viên", "TG", (Role.SPECIALIST,)),
            DemoUser("luutru.tw", "Mai Thị Ngọc", "Lưu trữ viên", "VP", (Role.ARCHIVIST,)),
        ),
    ),
    DemoOrg(
        "tinh",
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo",
        "MTTQ",
        "000.00.01.",
        OrgLevel.PROVINCE,
        "tw",
        (("BTT", "Ban Thường trực"), ("VP", "Văn phòng")),
        (
            DemoUser("vanthu.tinh", "Ngô Thị Mai", "Văn thư", "VP", (Role.CLERK,)),
            DemoUser("lanhdao.tinh", "Hoàng Văn Nam", "Chủ tịch", "BTT", (Role.LEADER,)),
            DemoUser("chuyenvien.tinh", "Bùi Thị Hoa", "Chuyên viên", "VP", (Role.SPECIALIST,)),
        ),
    ),
    DemoOrg(
        "phuong",
        "Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo",
        "MTTQ",
        "000.01.01.",
        OrgLevel.COMMUNE,
        "tinh",
        (("BTT", "Ban Thường trực"),),
        (
            DemoUser("vanthu.phuong", "Đinh Thị Yến", "Văn thư", "BTT", (Role.CLERK,)),
            DemoUser("lanhdao.phuong", "Trịnh Văn Khoa", "Chủ tịch", "BTT", (Role.LEADER,)),
        ),
    ),
)

DEMO_USERNAMES: tuple[str, ...] = tuple(u.username for o in DEMO_ORGS for u in o.users)


@dataclass
class SeedResult:
    """What the seeding did: objects created (0 everywhere on a second run)."""

    organizations: int = 0
    units: int = 0
    users: int = 0
    registers: int = 0
    holidays: int = 0
    document_types: int = 0
    codes: dict[str, str] = field(default_factory=dict)


def seed_reference_data(uow: UnitOfWork, result: SeedResult) -> None:
    s = uow.session
    for code, name, abbr, edxml in DOCUMENT_TYPES:
        if s.get(DocumentType, code) is None:
            s.add(DocumentType(code=code, name=name, abbreviation=abbr, edxml_type=edxml))
            result.document_types += 1
    for day, name, kind in HOLIDAYS_2026:
        if s.get(Holiday, day) is None:
            s.add(Holiday(day=day, name=name, kind=kind.value))
            result.holidays += 1


def seed_demo(uow: UnitOfWork, *, password: str, suffix: str = "Z01") -> SeedResult:
    """Create the demo organisations, units, users and this year's registers."""
    result = SeedResult()
    with uow:
        s = uow.session
        seed_reference_data(uow, result)
        year = local_date(uow.now()).year
        orgs: dict[str, Organization] = {}
        password_hash: str | None = None
        for spec in DEMO_ORGS:
            code = spec.code_prefix + suffix
            if not is_valid_code(code):
                raise ValueError(f"demo suffix gives an invalid code: {code}")
            result.codes[spec.key] = code
            org = s.scalars(select(Organization).where(Organization.code == code)).one_or_none()
            if org is None:
                parent = orgs[spec.parent] if spec.parent else None
                org_id = new_id()
                org = Organization(
                    id=org_id,
                    parent_id=parent.id if parent else None,
                    level=spec.level.value,
                    name=spec.name,
                    abbreviation=spec.abbreviation,
                    code=code,
                    path=(parent.path if parent else "/") + f"{org_id}/",
                )
                s.add(org)
                s.flush()
                result.organizations += 1
            orgs[spec.key] = org
            units = {
                u.abbreviation: u
                for u in s.scalars(select(Unit).where(Unit.organization_id == org.id))
            }
            for abbr, name in spec.units:
                if abbr not in units:
                    units[abbr] = Unit(organization_id=org.id, name=name, abbreviation=abbr)
                    s.add(units[abbr])
                    result.units += 1
            s.flush()
            for du in spec.users:
                username = du.username  # the same in every installation (API.md §1)
                if s.scalars(select(User.id).where(User.username == username)).first():
                    continue
                password_hash = password_hash or hash_password(password)
                s.add(
                    User(
                        organization_id=org.id,
                        unit_id=units[du.unit].id if du.unit else None,
                        username=username,
                        full_name=du.full_name,
                        position=du.position,
                        password_hash=password_hash,
                        clearance=du.clearance.value,
                        role_rows=[UserRole(role=r.value) for r in du.roles],
                    )
                )
                result.users += 1
            for direction in Direction:
                name = f"Sổ {direction.label.lower()} năm {year}"
                exists = s.scalars(
                    select(Register.id).where(
                        Register.organization_id == org.id,
                        Register.direction == direction.value,
                        Register.year == year,
                    )
                ).first()
                if not exists:
                    s.add(
                        Register(
                            organization_id=org.id, direction=direction.value, year=year, name=name
                        )
                    )
                    result.registers += 1
        if result.organizations or result.users or result.registers:
            audit.record(
                uow,
                "demo_seeded",
                organization_id=orgs["tw"].id,
                actor_name="dhtn demo seed",
                details={k: v for k, v in vars(result).items() if k != "codes"},
            )
        uow.commit()
    return result


@dataclass(frozen=True)
class SigningPerson:
    """A demo leader or clerk who gets a certificate from the demo PKI."""

    user_id: uuid.UUID
    username: str
    full_name: str
    org_code: str
    org_name: str


def signing_people(uow: UnitOfWork) -> list[SigningPerson]:
    """Leaders and clerks of the demo organisations (codes with the letter Z)."""
    with uow:
        rows = uow.session.execute(
            select(User, Organization)
            .join(Organization, User.organization_id == Organization.id)
            .where(Organization.code.like("%.Z__"), User.active.is_(True))
            .order_by(User.username)
        ).all()
        return [
            SigningPerson(u.id, u.username, u.full_name, o.code, o.name)
            for u, o in rows
            if u.roles & {Role.LEADER, Role.CLERK}
        ]


def attach_signature_images(uow: UnitOfWork, keys: dict[uuid.UUID, str]) -> None:
    """Record each user's stored signature image (demo seeding; no actor involved)."""
    with uow:
        for user_id, key in keys.items():
            user = uow.session.get(User, user_id)
            if user is not None and user.signature_image_key != key:
                user.signature_image_key = key
        uow.commit()
