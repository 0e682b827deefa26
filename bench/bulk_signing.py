"""Signing many at once: 20 drafts signed in one bulk action vs 20 single ``sign`` actions, in
the same run, with the server-held demo key and through a CSC v2 service (remote signing).

    python -m bench.bulk_signing [--quick] [--size N] [--rounds R]

``--quick`` (for ``make bench``): 10 documents, one round.

On PostgreSQL (``DHTN_BENCH_DATABASE_URL``) through the real services: drafts (a 1-page PDF
with the Decree 30 signing fields) waiting for the leader; level B-T with the demo PKI's TSA.
The CSC service is our test server (``tests/signing/csc_server.py``) on loopback holding the
leader's key, with OAuth 2.0 client credentials, a PIN and an OTP; every single remote
signature costs its own token, ``credentials/info``, ``authorize`` and ``signHash``, the bulk
one ONE authorisation for the N hashes.

Printed per mode: the wall time of the N signatures (p50/p95 over the rounds), the per-document
time (p50/p95), the CPU time of this process (the CSC server's threads included: robust to a
loaded machine, unlike wall time), the ratios single/bulk, and the peak Python memory
(tracemalloc, in a separate pass so that it does not slow the timed one; 5 documents with
``--quick``).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from app.config import Settings
from app.pki import DemoSigning
from bench.register_numbers import fresh_database
from docflow import UnitOfWork, load_actor, local_date, make_engine, make_session_factory, utcnow
from docflow.actors import Actor
from docflow.demo import DEMO_ORGS, attach_signature_images, seed_demo, signing_people
from docflow.enums import Role
from docflow.models import Organization, User
from docflow.outgoing import Sign, sign_many
from docflow.outgoing import actions as outgoing_actions
from docflow.outgoing.commands import DraftMeta
from docflow.outgoing.drafts import create_draft
from docflow.uploads import Upload
from signing import make_sample_document, render_signature_image
from signing.testpki import OrgSpec, UserSpec, generate_demo_pki
from storage import open_store
from tests.signing.conftest import free_port, serve
from tests.signing.csc_server import CscServer

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_bulk_signing"
PIN, OTP = "24681357", "97531864"


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


class Setup:
    def __init__(self, url: str, work: Path) -> None:
        fresh_database(url)
        self.engine = make_engine(url, pool_size=8)
        self.factory = make_session_factory(self.engine)
        self.store = open_store(f"file://{work / 'objects'}")
        self.store.initialize()
        seed_demo(UnitOfWork(self.factory), password="bench-bulk-signing")
        pki = generate_demo_pki(
            work / "data" / "pki",
            organizations=[OrgSpec(o.code_prefix + "Z01", o.name) for o in DEMO_ORGS],
            users=[
                UserSpec(u.username, u.full_name, o.code_prefix + "Z01")
                for o in DEMO_ORGS
                for u in o.users
                if set(u.roles) & {Role.LEADER, Role.CLERK}
            ],
        )
        keys = {
            p.user_id: self.store.put(
                io.BytesIO(render_signature_image(p.full_name)), "image/png"
            ).key
            for p in signing_people(UnitOfWork(self.factory))
        }
        attach_signature_images(UnitOfWork(self.factory), keys)
        ident = pki.identity("user:lanhdao.tw")
        self.csc = CscServer(
            "cred-lanhdao",
            ident.private_key(),
            [
                ident.certificate.public_bytes(Encoding.DER),
                *(c.public_bytes(Encoding.DER) for c in pki.chain()),
            ],
            token="bench-token",
            pin=PIN,
            otp=OTP,
            client_id="bench",
            client_secret="bench-secret",
        )
        port = free_port()
        self.http = serve(self.csc, port)
        secret = work / "csc-secret"
        secret.write_text("bench-secret")
        settings = Settings.from_env(
            {"DHTN_DATA_DIR": str(work / "data"), "DHTN_DATABASE_URL": url}
        ).with_overrides(
            csc_url=f"http://127.0.0.1:{port}/csc/v2",
            csc_client_id="bench",
            csc_client_secret_file=secret,
        )
        self.signing = DemoSigning(settings, pki)
        with self.factory() as s:
            today = local_date(utcnow())
            self.user = {
                name: load_actor(
                    s, s.scalars(select(User).where(User.username == name)).one().id, today
                )
                for name in ("chuyenvien.dcgs", "lanhdao.tw")
            }
            self.province = s.scalars(
                select(Organization).where(Organization.code == "000.00.01.Z01")
            ).one()
        self.pdf = make_sample_document(1).pdf
        self.serial = 0

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory, store=self.store, signing=self.signing)

    @property
    def leader(self) -> Actor:
        return self.user["lanhdao.tw"]

    def drafts(self, n: int) -> list[uuid.UUID]:
        """``n`` drafts submitted to the leader."""
        drafter = self.user["chuyenvien.dcgs"]
        ids = []
        for _ in range(n):
            self.serial += 1
            meta = DraftMeta.model_validate(
                {
                    "doc_type": "KH",
                    "subject": f"Kế hoạch {self.serial}",
                    "signer_user_id": str(self.leader.user_id),
                    "recipients": [{"organization_id": str(self.province.id)}],
                }
            )
            doc = create_draft(
                self.uow(),
                drafter,
                meta,
                [Upload(io.BytesIO(self.pdf), "d.pdf", "application/pdf")],
            )
            outgoing_actions.act(
                self.uow(),
                drafter,
                doc.id,
                "submit_for_review",
                {"to_user_id": str(self.leader.user_id)},
            )
            ids.append(doc.id)
        return ids

    def close(self) -> None:
        self.http.shutdown()
        self.engine.dispose()


def _single(setup: Setup, params: dict[str, Any]) -> Callable[[list[uuid.UUID]], list[float]]:
    def run(ids: list[uuid.UUID]) -> list[float]:
        times = []
        for doc_id in ids:
            t = time.perf_counter()
            doc = outgoing_actions.act(setup.uow(), setup.leader, doc_id, "sign", params)
            times.append(time.perf_counter() - t)
            assert doc.state == "signed"
        return times

    return run


def _bulk(setup: Setup, params: dict[str, Any]) -> Callable[[list[uuid.UUID]], list[float]]:
    cmd = Sign.model_validate(params)

    def run(ids: list[uuid.UUID]) -> list[float]:
        t = time.perf_counter()
        outcomes = sign_many(setup.uow(), setup.leader, ids, cmd)
        elapsed = time.perf_counter() - t
        assert all(o.ok for o in outcomes), [o.error for o in outcomes if o.error]
        return [elapsed / len(ids)] * len(ids)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round (for make bench)")
    parser.add_argument(
        "--size", type=int, default=None, help="documents per action (≤ 50; 20, 10 with --quick)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds per mode (default 5)")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the CSC server's request lines
    n = args.size or (10 if args.quick else 20)
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    with tempfile.TemporaryDirectory(prefix="dhtn-bench-bulk-") as tmp:
        setup = Setup(url, Path(tmp))
        remote = {"method": "csc", "credential_id": "cred-lanhdao", "pin": PIN, "otp": OTP}
        modes: list[tuple[str, Callable[[list[uuid.UUID]], list[float]]]] = [
            ("server key, 1 action × N", _single(setup, {})),
            ("server key, bulk", _bulk(setup, {})),
            ("CSC remote, 1 action × N", _single(setup, remote)),
            ("CSC remote, bulk", _bulk(setup, remote)),
        ]
        # Warm-up: sizes the signature containers, opens the connections, loads the fonts.
        for _, run in modes:
            run(setup.drafts(1))
        totals: dict[str, list[float]] = {name: [] for name, _ in modes}
        cpu: dict[str, list[float]] = {name: [] for name, _ in modes}
        per_doc: dict[str, list[float]] = {name: [] for name, _ in modes}
        for _ in range(rounds):
            for name, run in modes:  # interleaved: the machine's load hits every mode alike
                ids = setup.drafts(n)
                started, cpu_started = time.perf_counter(), time.process_time()
                per_doc[name].extend(run(ids))
                totals[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - cpu_started)
        peaks: dict[str, int] = {}
        memory_n = min(n, 5) if args.quick else n
        for name, run in modes:
            ids = setup.drafts(memory_n)
            tracemalloc.start()
            run(ids)
            peaks[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        authorizations = len(setup.csc.authorized)
        setup.close()

    print(f"Signing {n} drafts (1-page PDF, B-T, PostgreSQL), {rounds} round(s) per mode")
    for name, _ in modes:
        whole, each = totals[name], per_doc[name]
        print(
            f"  {name:<27}: {n} docs p50 {pct(whole, 0.5):8.0f} ms  p95 {pct(whole, 0.95):8.0f} ms"
            f"  | per doc p50 {pct(each, 0.5):6.1f} ms  p95 {pct(each, 0.95):6.1f} ms"
            f"  | {n / statistics.median(whole):5.1f} docs/s  | peak {peaks[name] / 2**20:6.1f} MiB"
        )
    print(f"  (peak Python memory of one action with {memory_n} documents, tracemalloc)")
    for name, _ in modes:
        print(f"  CPU of this process, {name:<27}: p50 {pct(cpu[name], 0.5):8.0f} ms")
    for kind in ("server key", "CSC remote"):
        single = statistics.median(totals[f"{kind}, 1 action × N"])
        bulk = statistics.median(totals[f"{kind}, bulk"])
        single_cpu = statistics.median(cpu[f"{kind}, 1 action × N"])
        bulk_cpu = statistics.median(cpu[f"{kind}, bulk"])
        print(
            f"  ratio single/bulk ({kind}): wall {single / bulk:4.2f}×, "
            f"CPU {single_cpu / bulk_cpu:4.2f}×"
        )
    print(f"  CSC authorisations issued in all: {authorizations}")


if __name__ == "__main__":
    main()
