"""Login required by default, roles as decorators, and security headers on every response.

Only the endpoints in ``PUBLIC_ENDPOINTS`` answer without a full (two-factor) login; a new
route is protected unless it is added there, and a test walks the URL map to hold this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from ..services.accounts import resume
from .context import close_db_session, database, settings

PUBLIC_ENDPOINTS = frozenset({
    "static",
    "health.healthz",
    "lang.switch",
    "auth.login",
    "auth.enrol",
    "auth.logout",
})

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

F = TypeVar("F", bound=Callable[..., Any])


def register_security(app: Flask) -> None:
    app.before_request(_load_user)
    app.before_request(_require_login)
    app.after_request(_headers)
    app.teardown_appcontext(close_db_session)


def _load_user() -> None:
    g.staff = None
    token = session.get("sid")
    if not isinstance(token, str):
        return
    conf = settings()
    user = resume(database(), token, timedelta(minutes=conf.session_idle_minutes),
                  timedelta(hours=conf.session_max_hours))
    if user is None:
        session.pop("sid", None)
        g.session_expired = True
        return
    g.staff = user


def _require_login() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None  # unknown URLs fall through to the 404 handler
    user = g.staff
    if user is not None and user.stage == "full":
        return None
    if user is not None and user.stage == "enrol":
        return redirect(url_for("auth.enrol"))  # type: ignore[return-value]
    if getattr(g, "session_expired", False):
        flash(_("Your session has ended. Please log in again."), "info")
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target.rstrip("?") if target else None))  # type: ignore[return-value]


def roles(*allowed: str) -> Callable[[F], F]:
    """Allow a view only for the given roles (login is already required everywhere)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.staff is None or g.staff.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if settings().production:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response
