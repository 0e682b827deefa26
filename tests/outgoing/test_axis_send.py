"""Issued documents reach external recipients through the axis (the simulator is the peer),
and their status messages come back to the sender's deliveries."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from docflow.models import Document, Organization
from interop import Organ, StatusMessage, build_status_bytes, parse_package
from tests.interop.conftest import (
    SECRET_A,
    SECRET_B,
    SYSTEM_A,
    SYSTEM_B,
    Sim,
    client_for,
    start_sim,
)
from tests.outgoing.conftest import Outgoing

EXTERNAL = {"code": "000.00.00.Y96", "name": "Sở Thử nghiệm (ngoài hệ thống)"}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    running = start_sim(tmp_path / "axis")
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_issued_document_goes_out_and_its_statuses_come_back(
    flow: Outgoing, app: Any, sim: Sim
) -> None:
    from app.exchange import poll_axis, register_agencies, send_to_axis
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    register_agencies(rt)
    doc = flow.to_dispatched(recipients=[EXTERNAL])
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
        assert send_to_axis(rt) == 1
        assert send_to_axis(rt) == 0  # sent: no longer queued
        [item] = external.get_received_list("edoc")
        with parse_package(io.BytesIO(external.get_edoc(item.doc_id))) as received:
            package = received.package
            assert package is not None
            issued = flow.get("vanthu.tw", doc).get_json()
            assert str(package.code) == issued["notation"] and package.subject == issued["subject"]
            assert package.from_.organ_id == "000.00.00.Z01"
            pdf = received.attachments[0].read_bytes()
        assert pdf == flow.main_pdf("vanthu.tw", doc)  # the issued, signed PDF itself
        external.update_status(item.doc_id, "done")
        status = StatusMessage.about(
            package,
            from_=Organ(EXTERNAL["code"], EXTERNAL["name"]),
            status_code="03",
            timestamp=dt.datetime.now(dt.UTC),
        )
        external.send_edoc(
            build_status_bytes(status),
            ["000.00.00.Z01"],
            messagetype="status",
            from_code=EXTERNAL["code"],
        )
    assert poll_axis(rt) == 1
    [delivery] = flow.deliveries("vanthu.tw", doc)
    assert (delivery["state"], delivery["status_code"]) == ("sent", "03")


def test_edxml_export_of_an_issued_document(flow: Outgoing) -> None:
    doc = flow.to_dispatched(recipients=[EXTERNAL])
    r = flow.client.get(f"/api/v1/documents/{doc}/edxml", headers=flow.h("vanthu.tw"))
    assert r.status_code == 200 and r.mimetype == "application/xml"
    with parse_package(io.BytesIO(r.data)) as result:
        assert result.package is not None
        assert [o.organ_id for o in result.package.to] == [EXTERNAL["code"]]
        assert result.attachments[0].read_bytes() == flow.main_pdf("vanthu.tw", doc)
    assert (
        flow.client.get(f"/api/v1/documents/{doc}/edxml", headers=flow.h("lanhdao.tw")).status_code
        == 403
    )
    draft = flow.template().get_json()["id"]
    assert flow.client.get(
        f"/api/v1/documents/{draft}/edxml", headers=flow.h("vanthu.tw")
    ).status_code in (404, 409)


def test_a_package_for_no_recipient_is_addressed_to_its_own_organisation(flow: Outgoing) -> None:
    """``package_for`` with nobody to address (the export's fallback when no delivery names a
    system) addresses the package to the document's own organisation, read while building the
    package: a document read for an answer does not bring its organisation along."""
    from interop.outbox import package_for

    doc = flow.to_signed()
    flow.ok("vanthu.tw", doc, "issue")
    with flow.demo.factory() as s:
        own = s.scalars(
            select(Organization.code).join(Document).where(Document.id == uuid.UUID(doc))
        ).one()
    package = package_for(flow.demo.uow(), uuid.UUID(doc), [])
    assert [o.organ_id for o in package.to] == [own]
    assert package.from_.organ_id == own
    # Given recipients, those.
    named = package_for(flow.demo.uow(), uuid.UUID(doc), [Organ(EXTERNAL["code"])])
    assert [o.organ_id for o in named.to] == [EXTERNAL["code"]]
