"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright; screenshots land in
var/screenshots/ so a person can look at them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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
    page = context.new_page()
    # CSP violations and script errors show up here; a page must have none.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page
