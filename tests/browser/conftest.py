"""A live server in a thread and Debian's Chromium driven by Playwright.

Every request the page makes is recorded, so that tests can show that none left 127.0.0.1.
Fixtures for the clinician's round: units and staff with TOTP secrets (``clinic``), and
``open_page`` for extra browser contexts (JavaScript off, phone size, ...), each closed at the
end of the test.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.app.staffing import Person, make_staff, make_units

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is not installed (make test installs it)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


class RequestLog:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def foreign(self) -> list[str]:
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                out.append(url)
        return out


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """``open_page(**context_options)``: a new tab in a new browser context (its own cookies),
    tablet size and bokmål unless told otherwise, with a request log as ``tab.request_log``."""
    contexts = []

    def open_(**options):  # type: ignore[no-untyped-def]
        options.setdefault("viewport", TABLET)
        options.setdefault("locale", "nb-NO")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()
        log = RequestLog()
        tab.on("request", lambda request: log.urls.append(request.url))
        tab.request_log = log
        return tab

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):  # type: ignore[no-untyped-def]
    return open_page()


@pytest.fixture
def clinic(app) -> dict[str, Person]:  # type: ignore[no-untyped-def]
    """Four units; a home-care nurse and a GP, each with a TOTP secret."""
    make_units(app)
    return {
        "nurse": make_staff(app, "nurse.a", "nurse", ("home-a",)),
        "gp": make_staff(app, "gp.a", "gp", ("gp-a",)),
    }
