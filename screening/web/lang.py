"""Language switch (bokmål / English), available before login."""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, request, session

from ..i18n import LANGUAGES
from ..services.accounts import set_locale
from .context import database
from .navigation import safe_next

bp = Blueprint("lang", __name__)


@bp.post("/lang")
def switch() -> Response:
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        staff = getattr(g, "staff", None)
        if staff is not None and staff.stage == "full":
            set_locale(database(), staff.id, chosen)
    return redirect(safe_next(request.form.get("next")), code=303)  # type: ignore[return-value]
