"""Login required by default, roles as decorators, and security headers on every response.

Only the endpoints in ``PUBLIC_ENDPOINTS`` answer without a full (two-factor) login; a new
route is protected unless it is added there, and a test walks the URL map to hold this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ..extensions import csrf
from ..services.accounts import resume
from .context import close_db_session, database, settings
from .parking import ENDED_KEY, is_parkable, park_for_login

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
        # Kept under another name: a form sent now still shows whose it was (web.parking).
        session.pop("sid", None)
        session[ENDED_KEY] = token
        g.session_expired = True
        return
    g.staff = user


def _require_login() -> BaseResponse | None:
    """Login first, then CSRF (``WTF_CSRF_CHECK_DEFAULT`` is off so that this order holds):
    a form sent after the session ended is kept for its author and she is sent to log in
    (``web.parking``), never answered with a 400 that loses what she typed."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # unknown URLs fall through to the 404 handler
    if endpoint in PUBLIC_ENDPOINTS:
        _check_csrf()
        return None
    user = g.staff
    if user is not None and user.stage == "full":
        _check_csrf()
        return None
    if user is not None and user.stage == "enrol":
        return redirect(url_for("auth.enrol"))
    if is_parkable(endpoint):
        return park_for_login()
    if getattr(g, "session_expired", False):
        flash(_("Your session has ended. Please log in again."), "info")
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target.rstrip("?") if target else None))


def _check_csrf() -> None:
    if request.method in current_app.config["WTF_CSRF_METHODS"]:
        csrf.protect()  # CSRFError: the 400 page (web.errors)


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
