"""Base layout, language switch, error pages and security headers."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from


def test_home_redirects_to_login_in_bokmal(client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="nb">' in html
    assert "Logg inn" in html and "Brukernavn" in html


def test_language_switch_and_back(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = csrf_from(html)
    response = client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Username" in html
    client.post("/lang", data={"lang": "nb", "next": "/login", "csrf_token": token})
    assert "Brukernavn" in client.get("/login").get_data(as_text=True)


def test_language_switch_needs_csrf_and_refuses_foreign_redirects(client) -> None:
    assert client.post("/lang", data={"lang": "en"}).status_code == 400
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil", "javascript:x"):
        response = client.post("/lang", data={"lang": "en", "next": target, "csrf_token": token})
        assert response.headers["Location"] == "/", target


@pytest.mark.parametrize("lang, title", [("nb", "Fant ikke siden"), ("en", "Page not found")])
def test_404_page_in_both_languages(client, lang: str, title: str) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/lang", data={"lang": lang, "csrf_token": token})
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert title in response.get_data(as_text=True)


def test_500_page_shows_no_internals(app, client) -> None:
    @app.get("/_boom_test")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail 01020312345")

    from screening.web import security

    security.PUBLIC_ENDPOINTS = security.PUBLIC_ENDPOINTS | {"boom"}
    try:
        response = client.get("/_boom_test")
    finally:
        security.PUBLIC_ENDPOINTS = security.PUBLIC_ENDPOINTS - {"boom"}
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Noe gikk galt" in html
    assert "01020312345" not in html and "RuntimeError" not in html and "Traceback" not in html


def test_security_headers_on_html(client) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_no_inline_scripts_or_foreign_assets(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and " on" + "click=" not in html
    assert "http://" not in html and "https://" not in html


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"


def test_healthz_503_when_database_unreadable(instance_dir, tmp_path) -> None:
    from screening import create_app
    from screening.settings import Settings

    folder_not_db = tmp_path / "db-is-a-folder"
    folder_not_db.mkdir()
    app = create_app(Settings(env="test", instance_dir=instance_dir,
                              database_url=f"sqlite:///{folder_not_db}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "unavailable\n"
