"""Headers on every response: a strict Content-Security-Policy, nosniff, a Referrer-Policy,
no caching of anything but static files; HSTS and Secure cookies in production."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.app.staffing import make_staff, make_units, sign_in
from tests.app.test_authorization import CSRF_PAGE, World, build_world, request, routes

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
REQUIRED_CSP = ("default-src 'none'", "object-src 'none'", "base-uri 'none'",
                "frame-ancestors 'none'", "script-src 'self'", "form-action 'self'")


def header_problems(response: Any, where: str) -> list[str]:
    headers = response.headers
    problems = []
    if response.mimetype == "text/html":
        csp = headers.get("Content-Security-Policy", "")
        missing = [d for d in REQUIRED_CSP if d not in csp]
        if missing:
            problems.append(f"{where}: CSP lacks {missing}")
        if "unsafe-inline" in csp or "unsafe-eval" in csp or "*" in csp:
            problems.append(f"{where}: CSP allows inline/eval/any host: {csp}")
        if headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{where}: no nosniff")
        if headers.get("Referrer-Policy") not in ("no-referrer", "same-origin",
                                                  "strict-origin-when-cross-origin"):
            problems.append(f"{where}: Referrer-Policy {headers.get('Referrer-Policy')!r}")
        body = response.get_data(as_text=True)
        if INLINE_SCRIPT.search(body) or EVENT_HANDLER.search(body):
            problems.append(f"{where}: inline script or event handler")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: no nosniff")
    if not where.startswith("static") and "no-store" not in headers.get("Cache-Control", ""):
        problems.append(f"{where}: Cache-Control {headers.get('Cache-Control')!r}")
    if "Strict-Transport-Security" in headers:
        problems.append(f"{where}: HSTS outside production")
    return problems


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build_world(app)


def test_every_response_of_every_route_carries_the_headers(world: World) -> None:
    problems: list[str] = []
    html_pages = 0
    for rule, method in routes(world.app):
        subjects = ("anonymous", "nurse_care", "nurse_other", "admin", "analyst")
        if method != "GET":
            subjects = ("nurse_care", "admin")
        for subject in subjects:
            _client, response = request(world, rule, method, subject)
            html_pages += response.mimetype == "text/html"
            problems += header_problems(response, f"{rule.endpoint} {method} {subject}")
    assert not problems, "\n".join(problems)
    assert html_pages > 20


def test_error_pages_carry_the_headers(world: World) -> None:
    client = world.client("nurse_care")
    responses = {
        "404": client.get(CSRF_PAGE),
        "405": client.post("/healthz"),
        "400 csrf": client.post("/admin/units", data={}),
        "403": client.get("/admin/"),
    }
    for name, response in responses.items():
        assert response.mimetype == "text/html", name
        assert not header_problems(response, name), header_problems(response, name)


def test_production_adds_hsts_and_secure_cookies(instance_dir, database_url) -> None:  # type: ignore[no-untyped-def]
    from screening import create_app
    from screening.settings import Settings

    app = create_app(Settings(env="production", instance_dir=instance_dir,
                              database_url=database_url, allow_sqlite_in_production=True,
                              argon2_time_cost=1, argon2_memory_kib=8))
    try:
        make_units(app)
        nurse = make_staff(app, "nurse1", "nurse", ("home-a",))
        client = app.test_client()
        response = client.get("/login", base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        cookie = response.headers.get("Set-Cookie", "")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        sign_in(app, client, nurse)
        page = client.get("/", base_url="https://localhost")
        assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    finally:
        app.extensions["screening.db"].dispose()
