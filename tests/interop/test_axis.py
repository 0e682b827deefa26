"""The axis client against the simulator, over real HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from interop import (
    AxisAuthError,
    AxisClient,
    AxisConflictError,
    AxisNotFoundError,
    AxisRequestError,
    AxisUnavailableError,
    EdxmlForbiddenError,
    Organ,
    StatusCode,
    StatusMessage,
    build_package_bytes,
    build_status_bytes,
    make_sim_app,
    parse_package,
    parse_status,
)
from interop.axis_auth import format_timestamp, sign
from tests.servers import free_port

from .conftest import (
    FIXTURES,
    ORG_PHUONG,
    ORG_TINH,
    ORG_TW,
    SECRET_A,
    SECRET_B,
    SYSTEM_A,
    SYSTEM_B,
    Sim,
    client_for,
    sample_package,
    start_sim,
)


def signed_headers(system: str, secret: str, **logical: str) -> dict[str, str]:
    now = format_timestamp(dt.datetime.now(dt.UTC))
    return sign({**logical, "systemid": system, "timestamp": now}, secret)


def stored_files(sim: Sim) -> list[str]:
    return sorted(p.name for d in ("messages", "incoming") for p in (sim.data_dir / d).iterdir())


def test_a_package_goes_from_one_installation_to_another(
    client_a: AxisClient, client_b: AxisClient, tmp_path: Path
) -> None:
    package = sample_package(to=(ORG_TINH, ORG_PHUONG))
    data = build_package_bytes(package)
    sent = client_a.send_edoc(data)
    assert sent.sha256 == hashlib.sha256(data).hexdigest()
    assert sent.size == len(data)
    assert sent.document_id == "000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT"
    assert not sent.duplicate

    (item,) = client_b.get_received_list()
    assert item.doc_id == sent.doc_id
    assert (item.from_code, item.to) == (ORG_TW.organ_id, (ORG_TINH.organ_id, ORG_PHUONG.organ_id))
    assert (item.sha256, item.size, item.status) == (sent.sha256, len(data), "new")
    assert item.document_id == sent.document_id
    assert client_a.get_received_list() == []

    assert client_b.get_edoc(sent.doc_id) == data
    target = tmp_path / "received.edxml"
    with target.open("wb") as sink:
        downloaded = client_b.download_edoc(sent.doc_id, sink)
    assert downloaded.sha256 == sent.sha256 and target.read_bytes() == data
    with parse_package(target, expected_sha256=item.sha256) as result:
        assert result.package == package

    client_b.update_status(sent.doc_id, "processing")
    assert [i.status for i in client_b.get_received_list()] == ["processing"]
    client_b.update_status(sent.doc_id, "done")
    assert client_b.get_received_list() == []
    (mine,) = client_a.get_sent_list()
    assert {d.code: d.status for d in mine.deliveries} == {
        ORG_TINH.organ_id: "done",
        ORG_PHUONG.organ_id: "done",
    }


def test_status_messages_travel_the_same_way(client_a: AxisClient, client_b: AxisClient) -> None:
    package = sample_package()
    client_a.send_edoc(build_package_bytes(package))
    status = StatusMessage.about(
        package,
        from_=ORG_TINH,
        status_code=StatusCode.ARRIVED,
        timestamp=dt.datetime(2026, 6, 18, 3, 0, 5, tzinfo=dt.UTC),
        description="Đã đến",
    )
    sent = client_b.send_edoc(build_status_bytes(status), messagetype="status")
    assert sent.document_id == package.document_id
    assert client_a.get_received_list() == []  # edoc list: status messages are listed apart
    (item,) = client_a.get_received_list("status")
    with parse_status(client_a.get_edoc(item.doc_id)) as result:
        assert result.status == status
    client_a.update_status(item.doc_id, "done")
    assert client_a.get_received_list("status") == []


def test_a_package_may_come_from_a_path_or_a_stream(
    client_a: AxisClient, client_b: AxisClient, tmp_path: Path
) -> None:
    path = tmp_path / "out.edxml"
    path.write_bytes(build_package_bytes(sample_package("70")))
    by_path = client_a.send_edoc(path)
    by_stream = client_a.send_edoc(io.BytesIO(build_package_bytes(sample_package("71"))))
    assert {i.doc_id for i in client_b.get_received_list()} == {by_path.doc_id, by_stream.doc_id}


def test_a_duplicate_send_is_one_message(client_a: AxisClient, client_b: AxisClient) -> None:
    data = build_package_bytes(sample_package())
    first = client_a.send_edoc(data)
    again = client_a.send_edoc(build_package_bytes(sample_package()))  # rebuilt: same bytes
    assert again.doc_id == first.doc_id and again.duplicate
    assert len(client_b.get_received_list()) == 1
    other = client_a.send_edoc(build_package_bytes(sample_package("61")))
    assert other.doc_id != first.doc_id and not other.duplicate


def test_the_agency_registry(client_a: AxisClient, client_b: AxisClient) -> None:
    agencies = {a.code: a for a in client_a.get_agencies()}
    assert set(agencies) == {ORG_TW.organ_id, ORG_TINH.organ_id, ORG_PHUONG.organ_id}
    assert agencies[ORG_TINH.organ_id].system_id == SYSTEM_B
    assert agencies[ORG_TINH.organ_id].parent_code == ORG_TW.organ_id
    assert agencies[ORG_TINH.organ_id].name == "Ủy ban MTTQ Việt Nam tỉnh Demo"
    renamed = client_b.register_agency(ORG_TINH.organ_id, "Ủy ban MTTQ tỉnh Demo (mới)")
    assert renamed.system_id == SYSTEM_B
    assert {a.code: a.name for a in client_a.get_agencies()}[ORG_TINH.organ_id].endswith("(mới)")
    with pytest.raises(AxisConflictError) as taken:
        client_a.register_agency(ORG_TINH.organ_id, "Chiếm mã")
    assert taken.value.details["status"] == 409
    with pytest.raises(AxisConflictError):
        client_a.register_agency(SYSTEM_B, "Mã của hệ thống khác")


def test_wrong_secret_unknown_system_and_stale_clock_are_refused(sim: Sim) -> None:
    cases = [
        (client_for(sim.url, SYSTEM_A, "sai-khóa"), 401, "axis_signature_invalid"),
        (client_for(sim.url, "SYS.LA", SECRET_A), 403, "axis_unknown_system"),
        (
            client_for(
                sim.url,
                SYSTEM_A,
                SECRET_A,
                clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
            ),
            401,
            "axis_timestamp_invalid",
        ),
    ]
    for client, status, code in cases:
        with pytest.raises(AxisAuthError) as refused:
            client.get_agencies()
        assert refused.value.details["status"] == status
        assert refused.value.details["axis_code"] == code
        assert not refused.value.retryable


def test_tampered_or_unsigned_headers_are_refused(sim: Sim, client_a: AxisClient) -> None:
    url = f"{sim.url}/getReceivedEdocList"
    good = signed_headers(SYSTEM_A, SECRET_A, servicetype="eDoc", messagetype="edoc")
    assert requests.post(url, headers=good, timeout=5).status_code == 200
    changed = {**good, "XroadVnpt-messagetype": "status"}
    added = {**good, "XroadVnpt-docid": "x"}
    missing = {k: v for k, v in good.items() if k != "XroadVnpt-hash-header"}
    for headers, code in (
        (changed, "axis_signature_invalid"),
        (added, "axis_signature_invalid"),
        (missing, "axis_signature_missing"),
        ({}, "axis_signature_missing"),
    ):
        response = requests.post(url, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {
            "status": "FAIL",
            "ErrorCode": code,
            "ErrorDesc": response.json()["ErrorDesc"],
        }
    # Another layout of the same JSON (as a hash-map-ordered SDK would send) is accepted.
    document = json.loads(good["XroadVnpt-sign-header"])
    relaid = json.dumps(dict(reversed(list(document.items()))), indent=1)
    import hashlib as h
    import hmac

    resigned = {
        **good,
        "XroadVnpt-sign-header": relaid.replace("\n", ""),
        "XroadVnpt-hash-header": hmac.new(
            SECRET_A.encode(), relaid.replace("\n", "").encode(), h.sha256
        ).hexdigest(),
    }
    assert requests.post(url, headers=resigned, timeout=5).status_code == 200


def test_refusals_of_the_axis_are_specific(
    sim: Sim, client_a: AxisClient, client_b: AxisClient
) -> None:
    with pytest.raises(AxisAuthError) as not_yours:
        client_a.send_edoc(build_package_bytes(sample_package(from_=ORG_TINH)))
    assert not_yours.value.details["axis_code"] == "axis_sender_not_allowed"
    with pytest.raises(AxisRequestError) as nobody:
        client_a.send_edoc(build_package_bytes(sample_package()), to=["000.99.99.Z99"])
    assert nobody.value.details["axis_code"] == "axis_unknown_recipient"
    sent = client_a.send_edoc(build_package_bytes(sample_package()))
    stranger = client_for(sim.url, SYSTEM_B, SECRET_B)
    with pytest.raises(AxisNotFoundError):
        stranger.get_edoc("0" * 32)
    with pytest.raises(AxisNotFoundError):
        client_a.update_status(sent.doc_id, "done")  # only a recipient acknowledges
    with pytest.raises(ValueError):
        client_b.update_status(sent.doc_id, "archived")  # type: ignore[arg-type]


def test_hostile_packages_are_refused_and_nothing_is_kept(sim: Sim, client_a: AxisClient) -> None:
    hostile = (FIXTURES / "hostile_billion_laughs.edxml").read_bytes()
    with pytest.raises(EdxmlForbiddenError):
        client_a.send_edoc(hostile, to=[ORG_TW.organ_id])  # refused before leaving
    before = stored_files(sim)
    for body, announced, code in (
        (hostile, hashlib.sha256(hostile).hexdigest(), "edxml_dtd_forbidden"),
        (b"<edXML/>", hashlib.sha256(b"<edXML/>").hexdigest(), "edxml_wrong_namespace"),
        (build_package_bytes(sample_package()), "0" * 64, "axis_hash_mismatch"),
    ):
        headers = signed_headers(
            SYSTEM_A,
            SECRET_A,
            **{
                "from": ORG_TW.organ_id,
                "to": json.dumps([ORG_TW.organ_id]),
                "servicetype": "eDoc",
                "messagetype": "edoc",
                "hash-file": announced,
            },
        )
        response = requests.post(f"{sim.url}/sendEdoc", data=body, headers=headers, timeout=5)
        assert response.status_code in (400, 422), response.text
        assert response.json()["ErrorCode"] == code
    assert stored_files(sim) == before
    assert client_a.get_sent_list() == []


class Flaky:
    """WSGI middleware in front of the simulator: the first ``failures`` requests get a 503,
    before (``lose_answer=False``) or after (``True``) the simulator has handled them."""

    def __init__(self, app: Any, failures: int, lose_answer: bool = False) -> None:
        self.app, self.failures, self.lose_answer = app, failures, lose_answer
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.requests += 1
        if self.requests <= self.failures:
            if self.lose_answer:
                list(self.app(environ, lambda *a, **k: None))
            else:
                environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response("503 Service Unavailable", [("Retry-After", "0")])
            return [b"busy"]
        return self.app(environ, start_response)


@pytest.fixture
def flaky_sim(tmp_path: Path) -> Iterator[tuple[Sim, Flaky]]:
    flaky = Flaky(make_sim_app(tmp_path / "axis", {SYSTEM_A: SECRET_A, SYSTEM_B: SECRET_B}), 0)
    running = start_sim(tmp_path / "axis", app=flaky)
    setup = client_for(running.url, SYSTEM_A, SECRET_A)
    setup.register_agency(ORG_TW.organ_id, ORG_TW.organ_name)
    client_for(running.url, SYSTEM_B, SECRET_B).register_agency(ORG_TINH.organ_id, "Tỉnh")
    flaky.requests = 0
    yield running, flaky
    running.server.shutdown()
    running.server.server_close()


def test_503s_are_retried_with_backoff_then_succeed(flaky_sim: tuple[Sim, Flaky]) -> None:
    sim, flaky = flaky_sim
    flaky.failures = 2
    delays: list[float] = []
    client = client_for(sim.url, SYSTEM_A, SECRET_A, retries=3, sleep=delays.append)
    sent = client.send_edoc(build_package_bytes(sample_package()))
    assert flaky.requests == 3 and len(delays) == 2 and sent.doc_id
    flaky.requests, flaky.failures = 0, 5
    with pytest.raises(AxisUnavailableError) as gave_up:
        client_for(sim.url, SYSTEM_A, SECRET_A, retries=2, sleep=delays.append).get_agencies()
    assert gave_up.value.retryable and gave_up.value.details["status"] == 503
    assert flaky.requests == 3
    # A 5xx may come from a gateway after the axis stored the request: it may have reached it.
    assert gave_up.value.details["reached"] is True


def test_a_send_whose_answer_was_lost_is_not_duplicated(flaky_sim: tuple[Sim, Flaky]) -> None:
    sim, flaky = flaky_sim
    flaky.failures, flaky.lose_answer = 1, True
    client = client_for(sim.url, SYSTEM_A, SECRET_A, retries=2, sleep=lambda _: None)
    sent = client.send_edoc(build_package_bytes(sample_package()))
    assert sent.duplicate  # the retry found the message the lost answer had stored
    received = client_for(sim.url, SYSTEM_B, SECRET_B).get_received_list()
    assert [item.doc_id for item in received] == [sent.doc_id]


def test_connection_refused_is_retried_until_the_axis_is_up(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started: list[Sim] = []

    def start_later() -> None:
        time.sleep(0.6)
        started.append(start_sim(tmp_path / "axis", port=port))

    threading.Thread(target=start_later, daemon=True).start()
    client = client_for(url, SYSTEM_A, SECRET_A, retries=8, backoff=0.2, max_backoff=0.4)
    try:
        agency = client.register_agency(ORG_TW.organ_id, ORG_TW.organ_name)
        assert agency.system_id == SYSTEM_A
    finally:
        for running in started:
            running.server.shutdown()
            running.server.server_close()
    with pytest.raises(AxisUnavailableError) as down:
        client_for(url, SYSTEM_A, SECRET_A, retries=1, backoff=0.01).get_agencies()
    assert down.value.details["reason"] == "ConnectionError"


def test_a_read_timeout_may_have_reached_the_axis(tmp_path: Path) -> None:
    """The axis took the request and never answered in time: the send may have left."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        client = client_for(url, SYSTEM_A, SECRET_A, retries=0, timeout=0.3)
        with pytest.raises(AxisUnavailableError) as lost:
            client.send_edoc(build_package_bytes(sample_package()))
    assert lost.value.details["reason"] == "ReadTimeout"
    assert lost.value.details["reached"] is True


def test_organ_codes_may_be_system_ids(sim: Sim) -> None:
    """A developer without a registry: the system id itself is an address."""
    a = client_for(sim.url, SYSTEM_A, SECRET_A)
    b = client_for(sim.url, SYSTEM_B, SECRET_B)
    package = sample_package(from_=Organ(SYSTEM_A), to=(Organ(SYSTEM_B),))
    a.send_edoc(build_package_bytes(package))
    assert len(b.get_received_list()) == 1
