"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright; screenshots land in
var/screenshots/ so a person can look at them."""

from __future__ import annotations

import shutil
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and libraries that call asyncio.run() (pyHanko) fail under it in later test modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run scripts/install-system-deps.sh")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
def page_errors() -> list[str]:
    return []


BROWSER_WAIT_MS = 120_000


def new_page(
    browser: Any, viewport: dict[str, int], errors: list[str], *, service_workers: bool = False
) -> Any:
    """A page in a new context. Its service worker is blocked unless ``service_workers``: the
    pages' tests test the pages as the server serves them; the worker (offline pages, pushes)
    has its own test (test_pwa.py), and a worker left over from an earlier page of the context
    must not stand between a later page and the server."""
    context = browser.new_context(
        viewport=viewport,
        locale="vi-VN",
        device_scale_factor=1,
        service_workers="allow" if service_workers else "block",
    )
    # The suite runs in two processes on two cores, each beside its own servers, LibreOffice
    # and OCR: a page that answers in a second alone has taken over 30 s (Playwright's default
    # wait) there. A wait is not a measurement (bench/ measures speed), so it may be long.
    context.set_default_timeout(BROWSER_WAIT_MS)
    context.set_default_navigation_timeout(BROWSER_WAIT_MS)
    _TRAFFIC[context] = _watch_requests(context)
    context.add_init_script(_RECORD_SUBMITS)
    page = context.new_page()
    watch_errors(page, errors)
    return page


@dataclass
class _Traffic:
    """A context's network as a failed test reports it: the requests sent and not yet finished
    (nor failed), with when each was sent and whether its answer began (a wait for an answer
    that never came says what else the browser was waiting for), and its last 30 answers with
    the session cookie each request carried and what the answer set (a late answer can set an
    older cookie over a newer one)."""

    pending: dict[Any, tuple[float, str]] = field(default_factory=dict)
    answers: deque[tuple[float, Any]] = field(default_factory=lambda: deque(maxlen=30))


_TRAFFIC: dict[Any, _Traffic] = {}


def _watch_requests(context: Any) -> _Traffic:
    traffic = _Traffic()

    def answered(response: Any) -> None:
        if response.request in traffic.pending:
            sent_at, _ = traffic.pending[response.request]
            traffic.pending[response.request] = (sent_at, f"answered {response.status}")
        traffic.answers.append((time.monotonic(), response))

    context.on("request", lambda r: traffic.pending.__setitem__(r, (time.monotonic(), "sent")))
    context.on("response", answered)
    context.on("requestfinished", lambda r: traffic.pending.pop(r, None))
    context.on("requestfailed", lambda r: traffic.pending.pop(r, None))
    return traffic


def _traffic_report(context: Any) -> list[str]:
    traffic = _TRAFFIC.get(context, _Traffic())
    now = time.monotonic()
    out = []
    for request, (sent_at, state) in list(traffic.pending.items()):
        try:
            kind = request.resource_type + (" (service worker)" if request.service_worker else "")
        except Exception:
            kind = "?"
        out.append(
            f"  in flight {now - sent_at:.1f} s: {request.method} {request.url} [{kind}] {state}"
        )
    if not out:
        out.append("  in flight: none")
    for at, response in traffic.answers:
        try:
            sent = response.request.all_headers().get("cookie", "")
            got = response.all_headers().get("set-cookie", "")
        except Exception:
            sent = got = "?"
        sent_session = [c.strip()[:40] for c in sent.split(";") if "session" in c]
        cookie = "deleted" if "1970" in got else got[:40]
        out.append(
            f"  {now - at:.1f} s ago: {response.request.method} {response.url} {response.status}"
            f" sent={sent_session} set={cookie!r}"
        )
    return out


# Each form a page sent (its action, and whether a script stopped it): a click whose
# navigation never came says whether the form was sent at all.
_RECORD_SUBMITS = """window.__dhtnSubmits = [];
addEventListener('submit', e => setTimeout(() => window.__dhtnSubmits.push(
  `${new Date().toISOString()} ${e.target.method} ${e.target.action}` +
  (e.defaultPrevented ? ' (prevented)' : ''))), true);"""


def _workers_report(page: Any) -> list[str]:
    """The state of the context's service workers, as DevTools sees them."""
    try:
        cdp = page.context.new_cdp_session(page)
        versions: list[Any] = []
        cdp.on("ServiceWorker.workerVersionUpdated", lambda e: versions.extend(e["versions"]))
        cdp.send("ServiceWorker.enable")
        page.wait_for_timeout(500)
        cdp.detach()
    except Exception as exc:
        return [f"  service workers: (no answer: {type(exc).__name__})"]
    return [
        f"  service worker {v['versionId']}: {v['runningStatus']} {v['status']}" for v in versions
    ] or ["  service workers: none"]


def watch_errors(page: Any, errors: list[str]) -> None:
    """Collect ``page``'s console errors and uncaught script errors in ``errors``: CSP
    violations and script errors show up there, and a page must have none."""
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


# What a page shows when a browser test fails: its address, its alerts and the state of its
# images. Playwright bounds a wait_for_function (a page whose script hangs answers nothing within
# it), where an evaluate would wait as long as the page does.
_PAGE_STATE = """() => ({
  title: document.title,
  ready: document.readyState,
  visibility: document.visibilityState,
  submits: window.__dhtnSubmits || [],
  alerts: [...document.querySelectorAll('.alert')].map(a => a.innerText.trim().slice(0, 300)),
  images: [...document.querySelectorAll('img')].slice(0, 5).map(i =>
    `${i.getAttribute('src')} complete=${i.complete} natural=${i.naturalWidth}x${i.naturalHeight} ` +
    `box=${Math.round(i.getBoundingClientRect().width)}x${Math.round(i.getBoundingClientRect().height)}`),
})"""


def _pages_report(contexts: list[Any], name: str) -> str:
    out = []
    for c, context in enumerate(contexts):
        out.append(f"context {c}:")
        out.extend(_traffic_report(context))
        for p, page in enumerate(context.pages):
            out.append(f"context {c} page {p}: {page.url}")
            try:
                state = page.wait_for_function(_PAGE_STATE, timeout=5_000).json_value()
                out.extend(f"  {key}: {value}" for key, value in state.items())
            except Exception as exc:  # a hung or closed page: say so and go on
                out.append(f"  (no answer from the page: {type(exc).__name__})")
            if p == 0:
                out.extend(_workers_report(page))
            try:
                SHOTS.mkdir(parents=True, exist_ok=True)
                shot = SHOTS / f"failed-{name}-{c}-{p}.png"
                page.screenshot(path=str(shot), full_page=True, timeout=10_000)
                out.append(f"  screenshot: {shot}")
            except Exception as exc:
                out.append(f"  (no screenshot: {type(exc).__name__})")
    return "\n".join(out) or "(no page open)"


# The contexts the module's browser held before a test: a failure reports only the test's own.
_CONTEXTS_BEFORE = pytest.StashKey[list[Any]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed browser test reports what each page it opened showed at that moment (and saves
    a screenshot of each): a wait that timed out says which page state it waited in. Pages of
    earlier tests of the module (a failed test leaves its context open) are left out."""
    report = yield
    browser = getattr(item, "funcargs", {}).get("browser")
    if browser is None:
        return report
    if call.when == "setup":
        item.stash[_CONTEXTS_BEFORE] = list(browser.contexts)
    elif call.when == "call" and report.failed:
        before = item.stash.get(_CONTEXTS_BEFORE, [])
        mine = [c for c in browser.contexts if c not in before]
        report.sections.append(("browser pages", _pages_report(mine, item.name)))
    return report
