"""Fixtures of the reports tests: the demo tree (centre → province → ward) plus a second
province with its own commune and leader, and the task helpers; the app holds the demo PKI
(the server-held keys leaders approve reports with) and the leaders' signature images."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docflow.directory.passwords import hash_password
from docflow.ids import new_id
from docflow.models import Organization, Unit, User, UserRole
from tests.conftest import DEMO_PASSWORD, Clock, Demo, make_test_settings
from tests.outgoing.conftest import attach_images, demo_pki_dir  # noqa: F401  (the fixture)
from tests.tasks.conftest import Tasks


@pytest.fixture
def app(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    demo_pki_dir: Path,  # noqa: F811
) -> Any:
    """The app with the demo PKI in its data dir, as ``dhtn demo seed`` makes it."""
    from app import create_app

    shutil.copytree(demo_pki_dir, tmp_path / "data" / "pki")
    attach_images(session_factory, clock, demo.store)
    flask_app = create_app(
        make_test_settings(tmp_path, pg_url), session_factory=session_factory, clock=clock
    )
    flask_app.config.update(TESTING=True)
    return flask_app


@dataclass
class Tree:
    demo: Demo
    tasks: Tasks
    other_province: uuid.UUID
    other_commune: uuid.UUID


def add_org(demo: Demo, parent_key: str, name: str, code: str, level: str) -> uuid.UUID:
    with demo.factory() as s:
        parent = s.get_one(
            Organization, demo.org_id(parent_key) if len(parent_key) < 8 else uuid.UUID(parent_key)
        )
        org_id = new_id()
        s.add(
            Organization(
                id=org_id,
                parent_id=parent.id,
                level=level,
                name=name,
                abbreviation="MTTQ",
                code=code,
                path=f"{parent.path}{org_id}/",
            )
        )
        s.flush()
        s.add(Unit(organization_id=org_id, name="Ban Thường trực", abbreviation="BTT"))
        s.commit()
        return org_id


def add_user(demo: Demo, org_id: uuid.UUID, username: str, role: str) -> None:
    with demo.factory() as s:
        unit = s.scalars(select(Unit.id).where(Unit.organization_id == org_id)).first()
        s.add(
            User(
                organization_id=org_id,
                unit_id=unit,
                username=username,
                full_name=f"Người dùng {username}",
                password_hash=hash_password(DEMO_PASSWORD),
                role_rows=[UserRole(role=role)],
            )
        )
        s.commit()


@pytest.fixture
def tree(demo: Demo) -> Tree:
    other = add_org(demo, "tw", "Ủy ban MTTQ tỉnh Khác", "000.00.02.Z01", "province")
    commune = add_org(demo, str(other), "Ủy ban MTTQ xã Khác", "000.02.01.Z01", "commune")
    add_user(demo, other, "lanhdao.tinhkhac", "leader")
    add_user(demo, commune, "lanhdao.xakhac", "leader")
    add_user(demo, commune, "vanthu.xakhac", "clerk")
    return Tree(demo, Tasks(demo), other, commune)
