"""Error pages (400, 403, 404, 405, 413, 500, 503) in the user's language; no internals."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from screening.models.sealing import Undecryptable

from ..services.care import AccessDenied
from .patient_access import NeedsBreakGlass

log = logging.getLogger("screening.web")


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("The request could not be understood"),
              _("The form may have expired. Go back, reload the page and try again.")),
        403: (_("No access"), _("You do not have access to this page.")),
        404: (_("Page not found"), _("The page does not exist or has been moved.")),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        413: (_("Too much data"), _("The form was too large to receive.")),
        500: (_("Something went wrong"),
              _("An unexpected error occurred. Nothing was saved. Please try again.")),
        503: (_("Temporarily unavailable"),
              _("The service cannot reach its database just now. Nothing was saved. "
                "Please try again in a minute.")),
    }


def render_error(code: int) -> tuple[str, int]:
    titles = _titles()
    title, message = titles.get(code, titles[500])
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_err: CSRFError) -> tuple[str, int]:
        return render_error(400)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[str, int]:
        code = err.code or 500
        return render_error(code if code in _titles() else (400 if code < 500 else 500))

    @app.errorhandler(DataError)
    def bad_data(err: DataError) -> tuple[str, int]:
        # The database refused a value (e.g. NUL in text on PostgreSQL): bad input, nothing
        # stored (the transaction rolled back). The value itself is not logged.
        log.warning("database refused a value at %s: %s", request.endpoint,
                    type(getattr(err, "orig", err)).__name__)
        return render_error(400)

    @app.errorhandler(NeedsBreakGlass)
    def needs_break_glass(err: NeedsBreakGlass) -> tuple[str, int]:
        from ..forms.patients import BreakGlassForm

        return render_template("patients/break_glass.html", form=BreakGlassForm(),
                               patient_uuid=err.patient_uuid), 403

    @app.errorhandler(Undecryptable)
    def undecryptable(err: Undecryptable) -> tuple[str, int]:
        # The service has logged the access-log event; never show the stored bytes.
        log.error("undecryptable field %s.%s at %s", err.table, err.column, request.endpoint)
        title = _("A record could not be opened")
        message = _("A stored record could not be opened. Nothing was shown or saved. "
                    "The event is logged; please tell your administrator.")
        return render_template("errors/error.html", code=500, title=title,
                               message=message), 500

    @app.errorhandler(AccessDenied)
    def access_denied(_err: AccessDenied) -> tuple[str, int]:
        return render_error(403)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(err: Exception) -> tuple[str, int]:
        log.warning("database unavailable at %s: %s", request.endpoint, type(err).__name__)
        return render_error(503)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> tuple[str, int]:
        if isinstance(err, DBAPIError) and getattr(err, "connection_invalidated", False):
            return database_unavailable(err)
        # Log only the type and where: exception texts can carry submitted values.
        # The frames (file, line, code) are kept for operators; the message is not.
        frames = "".join(traceback.format_tb(err.__traceback__))
        log.error("unhandled %s at %s\n%s", type(err).__name__, request.endpoint, frames)
        return render_error(500)
