"""The list of who has seen or changed a patient's record (the patient's right of access):
filtered by Oslo dates and by action, newest first, ``PAGE_SIZE`` entries a page. The filter
is a GET form (dates, an action, a page number: no identifier in the URL); a bad filter gets
a message and 422, never a 500. Opening the list is itself logged (``access_report``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from ..forms.access_log import AccessLogFilter, FilterError, parse_page
from ..forms.admin import choice
from ..models.access import ACTIONS
from ..services import access_log
from ..services.access_log import PAGE_SIZE, AccessPage
from .context import keyring
from .patient_access import opened_patient
from .templating import ACTION_NAMES


def _messages() -> dict[str, str]:
    return {
        "bad_date": _("Write the date as dd.mm.yyyy, for example 29.03.2026."),
        "start_after_end": _("The from date comes after the to date."),
        "unknown_action": _("Choose what was done from the list."),
        "bad_page": _("There is no such page. Start again from the first page."),
    }


def _filter_form() -> AccessLogFilter:
    form = AccessLogFilter(request.args)
    form.action.choices = [choice("", _("Everything"))] + [
        choice(action, str(ACTION_NAMES[action])) for action in ACTIONS]
    return form


def _page_url(patient_uuid: str, form: AccessLogFilter, number: int) -> str:
    """The same filter on another page: Oslo dates, an action code, a number."""
    kept: dict[str, Any] = {name: value for name, value in (("start", form.start.data),
                                                             ("end", form.end.data),
                                                             ("action", form.action.data))
                            if value}
    if number > 1:
        kept["page"] = number
    return url_for("patients.access_history", patient_uuid=patient_uuid, **kept)


def render(patient_uuid: str) -> tuple[str, int]:
    form = _filter_form()
    error: str | None = None
    query = None
    number = 1
    try:
        number = parse_page(request.args.get("page"))
        query = form.query(number)
    except FilterError as err:
        error = _messages()[err.code]
    listing: AccessPage | None = None
    with opened_patient(patient_uuid, action="access_report") as (record, session, row):
        if query is not None:
            listing = access_log.patient_page(session, keyring(), row.uuid, query)
            if not listing.lines and listing.total:  # past the last page: show the last
                number = (listing.total - 1) // PAGE_SIZE + 1
                query = dataclasses.replace(query, offset=(number - 1) * PAGE_SIZE)
                listing = access_log.patient_page(session, keyring(), row.uuid, query)
    context: dict[str, Any] = {"record": record, "form": form, "error": error,
                               "listing": listing, "page": number}
    if listing is not None:
        pages = max((listing.total - 1) // PAGE_SIZE + 1, 1)
        first = (number - 1) * PAGE_SIZE + 1
        context.update(
            pages=pages, first=first if listing.lines else 0,
            last=first + len(listing.lines) - 1,
            newer=_page_url(record.uuid, form, number - 1) if number > 1 else None,
            older=_page_url(record.uuid, form, number + 1) if number < pages else None,
            filtered=bool(form.start.data or form.end.data or form.action.data))
    return render_template("patients/access_log.html", **context), 422 if error else 200
