"""The OpenAPI description is the contract: Schemathesis, an independent property-based tester,
drives a real server (``dhtn run`` on PostgreSQL with the demo data) from
``/api/v1/openapi.json`` with every check, the stateful phase included, a fixed seed and a
bounded number of examples.

It must find no server error, no response outside its schema, no undocumented status code or
content type, and no request the description calls invalid being accepted. A request the
description calls valid may be refused only by what the operation lists under
``x-business-rules`` (422, the rules JSON Schema cannot say) or, for uploads, 415 (a file's
real type is read from its bytes).

``CONTRACT_EXAMPLES`` (default 12) sets the examples per operation and phase: 105 operations,
about 6 000 cases, about 3.5 minutes for the whole test on two shared, loaded cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import fresh_pg_database

pytestmark = [pytest.mark.pg, pytest.mark.slow, pytest.mark.contract]

PASSWORD = "contract-demo-password"
SEED = 20261203
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "12"))
#: The public operations' limits (429 with Retry-After, documented), raised for the run.
RATE_LIMITS = (
    "DHTN_PUBLIC_RATE_LIMIT",
    "DHTN_PUBLIC_RATE_LIMIT_GLOBAL",
    "DHTN_FEEDBACK_RATE_LIMIT",
    "DHTN_FEEDBACK_PHONE_LIMIT",
    "DHTN_FEEDBACK_RATE_LIMIT_GLOBAL",
)
DEFAULT_POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429"]

#: Who calls what: the demo account whose role the operation is for (by tag), so that the
#: tester reaches the logic behind the permission checks. Operations that end sessions or change
#: a password get an account of their own, so that they cannot sign the others out.
USER_OF_TAG = {
    "admin": "admin",
    "audit": "admin",
    "calendar": "admin",
    "outgoing": "lanhdao.tw",
    "signing": "lanhdao.tw",
    "tasks": "lanhdao.tw",
}
DEFAULT_USER = "vanthu.tw"
#: One account each, so that one ending its sessions does not leave the others only 401s.
SESSION_ENDERS = {
    "delete_token": "chuyenvien.tg",
    "logout_everywhere": "chuyenvien.tinh",
    "change_password": "vanthu.tinh",
}
#: The accounts above sign the requests: the admin may change any other account and
#: organisation, so the operations that deactivate or re-key one are pointed at a user and an
#: organisation (the commune's) that sign nothing; created ones come through the links.
PINNED_USER = "chuyenvien.dcgs"
PINNED_ORG_OF = "vanthu.phuong"
PINNED = {
    "update_user": "user_id",
    "set_password": "user_id",
    "update_organization": "org_id",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dhtn run`` (as ``make run``) on a fresh PostgreSQL database, seeded with the demo."""
    from tests.servers import dhtn_env, dhtn_running

    env = dhtn_env(
        tmp_path_factory.mktemp("contract"),
        PASSWORD,
        DHTN_DATABASE_URL=fresh_pg_database("_contract"),
        DHTN_TASKS_EAGER="true",
        # Every action's answer (built from the changed row) is held to a fresh read: a
        # difference answers 500, which fails the run.
        DHTN_CHECK_ACTION_ANSWERS="true",
        # The public operations' rate limits are the server's to enforce, not the tester's to
        # trip: raised so that every generated request reaches the logic behind them.
        **{name: "100000/60" for name in RATE_LIMITS},
    )
    with dhtn_running(env) as running:
        yield running.base


def _login(base: str, username: str) -> dict[str, Any]:
    r = requests.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=180
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def contract_config(spec: dict[str, Any], tokens: dict[str, str], pins: dict[str, str]) -> str:
    """A Schemathesis configuration: per operation, the caller and what refusals it documents."""
    lines = [
        "[auth]",
        "auto-signup = false",  # the accounts are the demo's, given per operation below
        "",
        "[generation]",
        'database = "none"',
        # NUL in any text is refused 422 invalid_text by every operation (info.description;
        # pinned in test_description.py), so it is not generated as "valid" data.
        "allow-x00 = false",
        "",
    ]
    for path_item in spec["paths"].values():
        for op in path_item.values():
            op_id = op["operationId"]
            user = (
                SESSION_ENDERS[op_id]
                if op_id in SESSION_ENDERS
                else USER_OF_TAG.get(op["tags"][0], DEFAULT_USER)
            )
            positive = list(DEFAULT_POSITIVE)
            if op.get("x-business-rules"):
                positive.append("422")
            if "415" in op["responses"]:
                positive.append("415")
            lines += [
                "[[operations]]",
                f"include-operation-id = {_toml(op_id)}",
                f"headers = {{ Authorization = {_toml('Bearer ' + tokens[user])} }}",
                f"checks.positive_data_acceptance.expected-statuses = {_toml(positive)}",
            ]
            if op_id in PINNED:
                name = PINNED[op_id]
                lines.append(f"parameters = {{ {_toml('path.' + name)} = {_toml(pins[name])} }}")
            lines.append("")
    return "\n".join(lines)


def test_the_description_is_the_contract(server: str, tmp_path: Path) -> None:
    spec = requests.get(f"{server}/api/v1/openapi.json", timeout=180).json()
    users = {DEFAULT_USER, *SESSION_ENDERS.values(), *USER_OF_TAG.values()}
    tokens = {u: str(_login(server, u)["access_token"]) for u in users}
    pins = {
        "user_id": _login(server, PINNED_USER)["user"]["id"],
        "org_id": _login(server, PINNED_ORG_OF)["user"]["organization"]["id"],
    }
    config = tmp_path / "schemathesis.toml"
    config.write_text(contract_config(spec, tokens, pins), encoding="utf-8")
    report = tmp_path / "junit.xml"
    started = time.monotonic()
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{server}/api/v1/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            str(SEED),
            "--max-examples",
            str(EXAMPLES),
            # One worker: two threads parsing schemas at once trip a CPython 3.11 AST check.
            "--workers",
            "1",
            # Generous: the shared CI machine may be slow; a real stall still fails.
            "--max-response-time",
            "120",
            "--request-timeout",
            "180",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tmp_path,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.txt").write_text(output, encoding="utf-8")
    print(output[-6000:])
    print(f"schemathesis: {elapsed:.0f} s")
    assert result.returncode == 0, output[-20000:]
