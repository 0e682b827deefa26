"""Accessibility of the pages people use, checked by an independent engine: axe-core (Deque,
pinned in tests/browser/package.json, installed by `make test`) runs inside each page in
headless Chromium, at phone (390×844) and desktop width, against the WCAG 2.0/2.1 A and AA rules
(the level Circular 26/2020/TT-BTTTT asks of state websites). A page fails on any violation of
impact "serious" or "critical", and the failure names each rule, its impact and the elements it
found. A phone screenshot of each page lands in var/screenshots/a11y-<page>-phone.png, and every
violation found (of any impact) in var/screenshots/a11y-report.json.

The pages keep their Content-Security-Policy (script-src 'self'): axe is served to the page
from its own origin by a route of the test, so the page's own script errors still count."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import DESKTOP, PHONE, SHOTS, new_page
from tests.browser.test_dossiers import _handled_document, _token
from tests.conftest import EMBEDDED_PASSWORD
from tests.pdfs import make_pdf

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__axe-core.min.js"  # served by the test's route, never by the application
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
REPORT = SHOTS / "a11y-report.json"

# (name, who is signed in — None for the public pages —, address; {doc}, {task}, {dossier},
# {outgoing}, {org}, {code} are the objects the module fixture makes or finds).
PAGES: list[tuple[str, str | None, str]] = [
    ("login", None, "/login"),
    ("verify", None, "/verify"),
    ("gopy-form", None, "/gop-y/{code}"),
    ("gopy-lookup", None, "/gop-y/tra-cuu"),
    ("gopy-lookup-unknown", None, "/gop-y/tra-cuu?ma=PA-0000-0000"),
    ("gopy-results", None, "/gop-y/{code}/ket-qua"),
    ("home-clerk", "vanthu.tw", "/"),
    ("incoming-list", "vanthu.tw", "/documents"),
    ("incoming-new", "vanthu.tw", "/incoming/new"),
    ("document", "vanthu.tw", "/documents/{doc}"),
    ("home-leader", "lanhdao.tw", "/"),
    ("tasks", "lanhdao.tw", "/tasks"),
    ("task", "lanhdao.tw", "/tasks/{task}"),
    ("task-new", "lanhdao.tw", "/tasks/new"),
    ("task-stats", "lanhdao.tw", "/tasks/stats"),
    ("reports", "lanhdao.tw", "/bao-cao"),
    ("rollup", "lanhdao.tw", "/thong-ke"),
    ("notifications", "lanhdao.tw", "/notifications"),
    ("delegation", "lanhdao.tw", "/delegations/new"),
    ("account", "lanhdao.tw", "/account"),
    ("home-specialist", "chuyenvien.dcgs", "/"),
    ("outgoing-list", "chuyenvien.dcgs", "/outgoing"),
    ("outgoing-new", "chuyenvien.dcgs", "/outgoing/new"),
    ("outgoing-draft", "chuyenvien.dcgs", "/outgoing/{outgoing}"),
    ("dossiers", "chuyenvien.dcgs", "/dossiers"),
    ("dossier", "chuyenvien.dcgs", "/dossiers/{dossier}"),
    ("dossier-new", "chuyenvien.dcgs", "/dossiers/new"),
    ("archive-dossiers", "luutru.tw", "/dossiers?state=transferred"),
    ("file-plan", "luutru.tw", "/file-plan"),
    ("disposals", "luutru.tw", "/disposals"),
    ("feedback-list", "lanhdao.phuong", "/feedback"),
    ("feedback-mailbox", "lanhdao.phuong", "/feedback/mailbox"),
    ("feedback-paper", "lanhdao.phuong", "/feedback/new"),
    ("admin", "admin", "/admin"),
    ("admin-org", "admin", "/admin/organizations/{org}"),
    ("admin-people", "admin", "/admin/people"),
    ("admin-tree", "admin", "/admin/tree"),
    ("admin-audit", "admin", "/admin/audit"),
    ("admin-holidays", "admin", "/admin/holidays"),
    ("admin-import", "admin", "/admin/import"),
    ("admin-exchange", "admin", "/admin/exchange"),
]


@pytest.fixture(scope="module")
def objects(embedded_server: dict[str, Any]) -> dict[str, str]:
    """A received document handled by DCGSPBXH, a task on it, a dossier and an outgoing draft
    (made through the API), the ward's public mailbox code and the central committee's id."""
    base = embedded_server["base"]
    run = uuid.uuid4().hex[:6].upper()
    doc = _handled_document(base, f"Kế hoạch giám sát chính sách an sinh xã hội {run}")
    leader, head, spec = (
        _token(base, u) for u in ("lanhdao.tw", "truongban.dcgs", "chuyenvien.dcgs")
    )
    me = requests.get(f"{base}/api/v1/me", headers=head, timeout=30).json()
    org, unit = me["organization"]["id"], (me.get("unit") or {}).get("id")
    r = requests.post(
        f"{base}/api/v1/tasks",
        headers=leader,
        json={
            "title": f"Tổng hợp kết quả giám sát {run}",
            "due_date": (dt.date.today() + dt.timedelta(days=14)).isoformat(),
            "document_id": doc,
            "lead": {"unit_id": unit} if unit else {"user_id": me["id"]},
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    task = r.json()["id"]
    r = requests.post(
        f"{base}/api/v1/dossiers",
        headers=head,
        json={"organization_id": org, "year": dt.date.today().year, "code": f"A11Y.{run}",
              "title": f"Hồ sơ giám sát an sinh xã hội {run}", "retention_years": 10},
        timeout=30,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    dossier = r.json()["id"]
    signer = requests.get(f"{base}/api/v1/me", headers=leader, timeout=30).json()["id"]
    meta = {
        "doc_type": "KH",
        "subject": f"Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội {run}",
        "signer_user_id": signer,
        "competence": "TM.",
        "authority": "Ban Thường trực",
        "recipients": [],
    }
    r = requests.post(
        f"{base}/api/v1/outgoing",
        headers=spec,
        data={"meta": json.dumps(meta)},
        files={"files": ("du-thao.pdf", io.BytesIO(make_pdf(2)), "application/pdf")},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    outgoing = r.json()["id"]
    return {"doc": doc, "task": task, "dossier": dossier, "outgoing": outgoing, "org": org}


@pytest.fixture(scope="module")
def sessions(browser: Any, embedded_server: dict[str, Any]) -> Iterator[dict[Any, Any]]:
    """One signed-in page per (person, viewport), opened when a test first needs it: each test
    goes from there to its page."""
    REPORT.unlink(missing_ok=True)
    opened: dict[Any, Any] = {}
    yield opened
    for page, _ in opened.values():
        page.context.close()


def _page_for(
    browser: Any, base: str, sessions: dict[Any, Any], who: str | None, label: str
) -> tuple[Any, list[str]]:
    key = (who, label)
    if key not in sessions:
        errors: list[str] = []
        page = new_page(browser, VIEWPORTS[label], errors)
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        page.route(base + AXE_PATH, lambda route: route.fulfill(
            status=200, content_type="text/javascript; charset=utf-8", body=AXE.read_bytes()
        ))  # fmt: skip
        if who is not None:
            page.goto(base + "/login")
            page.get_by_label("Tên đăng nhập").fill(who)
            page.get_by_label("Mật khẩu").fill(EMBEDDED_PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url(base + "/")
        sessions[key] = (page, errors)
    return sessions[key]


@pytest.fixture(scope="module")
def mailbox_code(browser: Any, embedded_server: dict[str, Any], sessions: dict[Any, Any]) -> str:
    """The ward's public feedback mailbox, as its leader's mailbox page links to it."""
    base = embedded_server["base"]
    page, _ = _page_for(browser, base, sessions, "lanhdao.phuong", "desktop")
    page.goto(base + "/feedback/mailbox")
    link = page.locator("a[href*='/gop-y/']").first.get_attribute("href")
    assert link
    return link.rstrip("/").rsplit("/", 1)[-1]


def _run_axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE_PATH)
    page.wait_for_function("() => typeof window.axe === 'object'")
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
             .then(r => r.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               targets: v.nodes.map(n => n.target.join(' ')),
               why: v.nodes.map(n => (n.failureSummary || '').split('\\n').slice(-1)[0].trim()),
             })))""",
        TAGS,
    )
    return list(result)


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}, {len(v['targets'])} element(s)): {v['help']}")
        lines.extend(
            f"    {t}: {why}" for t, why in list(zip(v["targets"], v["why"], strict=False))[:4]
        )
        if len(v["targets"]) > 4:
            lines.append(f"    … and {len(v['targets']) - 4} more")
    return "\n".join(lines)


def _record(name: str, label: str, violations: list[dict[str, Any]]) -> None:
    """Every violation found, of any impact, in var/screenshots/a11y-report.json."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(REPORT.read_text())
    except (OSError, ValueError):
        report = {}
    report[f"{name}-{label}"] = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "count": len(v["targets"]),
            "at": dict(list(zip(v["targets"], v["why"], strict=False))[:6]),
        }
        for v in violations
    ]
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True))


@pytest.mark.parametrize("label", list(VIEWPORTS))
@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violation(
    browser: Any,
    embedded_server: dict[str, Any],
    objects: dict[str, str],
    mailbox_code: str,
    sessions: dict[Any, Any],
    name: str,
    who: str | None,
    path: str,
    label: str,
) -> None:
    base = embedded_server["base"]
    page, errors = _page_for(browser, base, sessions, who, label)
    errors.clear()
    response = page.goto(base + path.format(code=mailbox_code, **objects))
    # An unknown tracking code is answered "not found" (404), with a page a person reads.
    expected = 404 if name.endswith("-unknown") else 200
    assert response is not None and response.status == expected, (
        path,
        response and response.status,
    )
    # Until the page's images are in (a draft's pages load after the page): a box they make
    # scroll is given the focus then (a11y.js), and axe must see the page as a person does.
    page.wait_for_load_state("networkidle")
    violations = _run_axe(page)
    _record(name, label, violations)
    if label == "phone":
        page.screenshot(path=str(SHOTS / f"a11y-{name}-phone.png"), full_page=True)
    # The page must not scroll sideways: on a phone a person would have to pan to read it.
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    # Every label in Vietnamese: no internal name of a file's kind shown as it is stored (the
    # draft page showed «searchable · 5 KB» for the OCR's copy of a scan).
    raw = re.findall(
        r"\b(?:searchable|attachment|prepared|draft|signed|main) · ", page.inner_text("body")
    )
    assert not raw, f"{name}: untranslated file kinds {raw}"
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name} at {label} width ({page.url}):\n{_describe(blocking)}"
    assert overflow <= 1, f"{name} at {label} width scrolls sideways by {overflow} px"
    # The page's own console errors (a script refused by the CSP, a failed request); the
    # unknown code's page is itself the "404" the browser reports.
    unknown = name.endswith("-unknown")
    assert not [e for e in errors if not (unknown and "status of 404" in e)], errors
