"""The people of DOMAIN.md at work, through the JSON API, behind nginx (Locust).

- clerks (văn thư) register incoming documents with a 1 MB PDF and present them to a leader;
- leaders (lãnh đạo) open their box, read a document, assign it to a specialist with a deadline;
- specialists (chuyên viên) open their box, read, start and complete; they look at their tasks;
- everyone searches and reads the notifications, with think times between steps.

The accounts come from ``bench/load/generate.py`` (``loadclerk.N``, ``loadleader.N``,
``loadspec.N``); the runner passes them in ``DHTN_LOAD_ACCOUNTS`` (a JSON file: username, id,
role) with the password in ``DHTN_LOAD_PASSWORD`` and the CA file in ``DHTN_LOAD_CA``.
``HealthzUser`` alone (``--class-picker``/class name) measures the ``/healthz`` ceiling.

Signing is left to the signing issue's benchmark (bench/signing.py); issuing an outgoing
document needs a signed draft and is not part of this mix yet.

The simulated people use Locust's ``FastHttpUser`` (geventhttpclient): the load generator shares
the two cores with the stack it measures, and the requests-based ``HttpUser`` cost about
2.5 ms of CPU per request there. Uploads are encoded with urllib3's multipart encoder
(``bench/load/mix.py``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import ssl
import threading
from typing import Any

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

from bench.load.mix import SEARCHES, pdf_of_one_megabyte, registration

ACCOUNTS: list[dict[str, str]] = json.loads(
    open(os.environ["DHTN_LOAD_ACCOUNTS"], encoding="utf-8").read()  # noqa: SIM115
    if os.environ.get("DHTN_LOAD_ACCOUNTS")
    else "[]"
)
PASSWORD = os.environ.get("DHTN_LOAD_PASSWORD", "")
CA = os.environ.get("DHTN_LOAD_CA")
# Think time between two steps of a person, in seconds (``--think`` of the runner).
THINK = tuple(float(x) for x in os.environ.get("DHTN_LOAD_THINK", "1,4").split(","))
_counters = {role: itertools.count() for role in ("clerk", "leader", "specialist")}
_lock = threading.Lock()
_serial = itertools.count(1)
PDF = pdf_of_one_megabyte()
# Whether the simulated browsers revalidate what they hold (``--no-revalidate`` of the runner).
REVALIDATE = os.environ.get("DHTN_LOAD_REVALIDATE", "1") != "0"


def people(role: str) -> list[dict[str, str]]:
    return [a for a in ACCOUNTS if a["role"] == role]


def verified_tls(cafile: str | None = None) -> ssl.SSLContext:
    """Certificates are checked against the run's own certificate (never switched off); the
    ``cafile`` geventhttpclient offers (the public roots) would not know it."""
    del cafile
    return ssl.create_default_context(cafile=CA)


class Person(FastHttpUser):  # type: ignore[misc]
    abstract = True
    role = ""
    wait_time = between(THINK[0], THINK[-1])
    insecure = False
    ssl_context_factory = staticmethod(verified_tls)

    def on_start(self) -> None:
        self.headers: dict[str, str] = {}
        self.held: dict[str, tuple[str, str]] = {}  # path → (ETag, body): the browser's cache
        accounts = people(self.role)
        with _lock:
            me = accounts[next(_counters[self.role]) % len(accounts)]
        self.me = me
        if me.get("token"):  # issued by the runner: signed in this morning
            self.headers["Authorization"] = f"Bearer {me['token']}"
            return
        r = self.client.post(
            "/api/v1/auth/token",
            json={"username": me["username"], "password": PASSWORD},
            name="POST /api/v1/auth/token",
        )
        r.raise_for_status()
        self.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def get(self, path: str, name: str) -> Any:
        """A GET as a browser makes it: what it holds of ``path`` (the answers carry an
        ``ETag`` and ``Cache-Control: no-cache``) is asked again with ``If-None-Match``, and a
        304 answers from what it holds (``self.held``, the JSON), as the PWA's fetch does
        with the HTTP cache (``REVALIDATE``: off to measure every answer in full)."""
        held = self.held.get(path) if REVALIDATE else None
        headers = {**self.headers, "If-None-Match": held[0]} if held else self.headers
        with self.client.get(path, name=name, headers=headers, catch_response=True) as r:
            if r.status_code == 304:  # its own line in the report: what revalidation costs
                r.request_meta["name"] = f"{name} (304)"
            elif r.status_code == 200 and REVALIDATE and r.headers.get("ETag"):
                self.held[path] = (r.headers["ETag"], r.text)
        return r

    def json_of(self, path: str, r: Any) -> dict[str, Any]:
        """The answer's JSON, or what the browser holds of it for a 304."""
        if r.status_code == 304:
            return dict(json.loads(self.held[path][1]))
        return dict(r.json()) if r.ok else {}

    def box(self, which: str = "inbox") -> list[dict[str, Any]]:
        path = f"/api/v1/documents?box={which}&limit=20"
        r = self.get(path, name=f"GET /api/v1/documents?box={which}")
        return list(self.json_of(path, r).get("items", []))

    def read(self, doc_id: str) -> None:
        self.get(f"/api/v1/documents/{doc_id}", name="GET /api/v1/documents/{id}")

    def act(self, doc_id: str, action: str, **params: Any) -> bool:
        with self.client.post(
            f"/api/v1/documents/{doc_id}/actions",
            json={"action": action, **params},
            name=f"POST /api/v1/documents/{{id}}/actions {action}",
            headers=self.headers,
            catch_response=True,
        ) as r:
            # 409: someone else (another simulated leader of the same box) moved it first.
            if r.status_code == 409:
                r.success()
                return False
            # 403: the same race when the document is no longer the caller's to act on (a
            # leader sharing the account gave it to another specialist meanwhile). Counted as
            # an error unless the document, read again, shows that; this reads the assignment
            # and submission facts, not the server's list of allowed actions, so a refusal the
            # rules do not explain is still an error.
            if r.status_code == 403 and not self.still_mine(doc_id, action):
                r.success()
                return False
            return bool(r.ok)

    def still_mine(self, doc_id: str, action: str) -> bool:
        """Whether the document still names the caller for ``action``: an open assignment of
        theirs (start, complete), or submitted to them and not yet under way (assign)."""
        path = f"/api/v1/documents/{doc_id}"
        r = self.get(path, name="GET /api/v1/documents/{id} (after 403)")
        if not (r.ok or r.status_code == 304):
            return True
        doc = self.json_of(path, r)
        if action in ("start", "complete"):
            return any(
                a.get("user_id") == self.me["id"] and a.get("state") in ("pending", "in_progress")
                for a in doc.get("assignments", [])
            )
        if action == "assign":
            # Once the work is under way (another simulated leader of the same account
            # assigned it and the specialist started), only the unit passes it on.
            return (doc.get("submitted_to") or {}).get("id") == self.me["id"] and doc.get(
                "state"
            ) != "in_progress"
        return True

    @task(2)
    def search(self) -> None:
        q = random.choice(SEARCHES)
        self.get(f"/api/v1/documents?box=all&q={q}&limit=20", name="GET /api/v1/documents?q=")

    @task(2)
    def notifications(self) -> None:
        self.get("/api/v1/notifications?limit=20", name="GET /api/v1/notifications")

    @task(1)
    def counters(self) -> None:
        self.get("/api/v1/me/counters", name="GET /api/v1/me/counters")


class Clerk(Person):
    role = "clerk"
    weight = 2

    @task(4)
    def register_and_present(self) -> None:
        body, content_type = registration(PDF, next(_serial), "TAI")
        r = self.client.post(
            "/api/v1/incoming",
            data=body,
            headers={**self.headers, "Content-Type": content_type},
            name="POST /api/v1/incoming (1 MB PDF)",
        )
        if not r.ok:
            return
        leader = random.choice(people("leader"))
        self.act(r.json()["id"], "submit", to_user_id=leader["id"])

    @task(2)
    def look_at_the_box(self) -> None:
        self.box("all")


class Leader(Person):
    role = "leader"
    weight = 3

    @task(6)
    def direct(self) -> None:
        items = self.box("inbox")
        if not items:
            return
        doc = random.choice(items)
        self.read(doc["id"])
        spec = random.choice(people("specialist"))
        self.act(
            doc["id"],
            "assign",
            lead={"user_id": spec["id"]},
            due_in_working_days=5,
            comment="Đề nghị đồng chí xử lý.",
        )

    @task(2)
    def processing(self) -> None:
        self.box("processing")


class Specialist(Person):
    role = "specialist"
    weight = 10

    @task(6)
    def handle(self) -> None:
        items = self.box("inbox")
        if not items:
            return
        doc = random.choice(items)
        self.read(doc["id"])
        self.act(doc["id"], "start")
        self.act(doc["id"], "complete", comment="Đã xử lý, báo cáo lãnh đạo.")

    @task(3)
    def my_tasks(self) -> None:
        self.get("/api/v1/tasks?limit=20", name="GET /api/v1/tasks")

    @task(1)
    def done(self) -> None:
        self.box("done")


class HealthzUser(FastHttpUser):  # type: ignore[misc]
    """The ceiling: the same server answering /healthz as fast as it can."""

    wait_time = constant(0)
    insecure = False
    ssl_context_factory = staticmethod(verified_tls)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="GET /healthz")
