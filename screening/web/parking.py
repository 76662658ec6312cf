"""A form sent after the login session ended is not lost: it is parked (sealed, for its
author), the user logs in again and comes back to the form with every answer as she sent it
(``services.parked_forms``). Views opt in with :func:`parkable`; their GET side puts the
answers back with :func:`restored_form`.

A form is parked only when the browser shows whose session it was (the session cookie names
a session of an active, fully logged-in account, live or ended) and the form carries that
cookie's CSRF token, so a form from another site or another browser is never kept. The
cookie holds only the parked form's random uuid; the answers go into no URL and no log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from ..services import accounts, parked_forms
from .context import database, keyring

log = logging.getLogger("screening.web")
F = TypeVar("F", bound=Callable[..., Any])
PARKED_KEY = "parked"
ENDED_KEY = "ended_sid"  # the session token after a logout: whose form a late POST is


def parkable(back: str | None = None) -> Callable[[F], F]:
    """Mark a POST view whose form is kept across an ended session. ``back`` is the endpoint
    of the page that shows the form again (given the POST's URL arguments that it takes);
    default: the same address."""

    def mark(view: F) -> F:
        view.parkable = back or True  # type: ignore[attr-defined]
        return view

    return mark


def is_parkable(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return request.method == "POST" and bool(getattr(view, "parkable", False))


def _here() -> str:
    return request.script_root + request.path


def _form_address() -> tuple[str, str]:
    """(endpoint, address) of the page that shows the posted form again."""
    view = current_app.view_functions[request.endpoint or ""]
    back = getattr(view, "parkable", True)
    if isinstance(back, str):
        args = request.view_args or {}
        wanted = {name for rule in current_app.url_map.iter_rules(back) for name in rule.arguments}
        return back, url_for(back, **{k: v for k, v in args.items() if k in wanted})
    return request.endpoint or "", _here()


def _fields() -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.form.items(multi=True)
            if name != "csrf_token"]


def _park(staff_id: int) -> bool:
    endpoint, path = _form_address()
    try:
        handle = parked_forms.park(database(), keyring(), staff_id, endpoint, path, _fields(),
                                   about=request.view_args)
    except parked_forms.ParkError:
        log.warning("form at %s not parked: too large", request.endpoint)
        return False
    session[PARKED_KEY] = handle
    return True


def park_for_login() -> Response:
    """A POST to a parkable form without a live session: keep the answers if the browser
    shows whose they are, and send the user to the login page, then back to the form."""
    token = session.get("sid") or session.get(ENDED_KEY)
    owner = accounts.session_owner(database(), token) if isinstance(token, str) else None
    kept = False
    if owner is not None:
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            owner = None
    if owner is not None:
        kept = _park(owner)
    _endpoint, path = _form_address()
    if kept:
        flash(_("Your session had ended, so the form was not sent. Your answers are kept: "
                "log in again, and you are back on the form to check them and send it."),
              "info")
    else:
        flash(_("Your session has ended. Please log in again."), "info")
    return redirect(url_for("auth.login", next=path), code=303)


def restored_form() -> MultiDict[str, str] | None:
    """On a form's GET: the answers parked for this user and this form, once."""
    handle = session.get(PARKED_KEY)
    if not isinstance(handle, str) or g.staff is None:
        return None
    fields = parked_forms.take(database(), keyring(), g.staff.id, handle,
                               request.endpoint or "", _here())
    if fields is None:
        if not parked_forms.exists(database(), handle):
            session.pop(PARKED_KEY, None)
        return None
    session.pop(PARKED_KEY, None)
    flash(_("Here is the form as you sent it before your session ended: nothing was saved "
            "yet. Check it and send it again."), "info")
    return MultiDict(fields)
