"""The filter of a patient's access-log page, read from the query string (a GET form without
CSRF: it only reads, and it carries no identifier: Oslo dates, an action, a page number).
Dates are written dd.mm.åååå; ISO dates (YYYY-MM-DD) are taken too.
:meth:`AccessLogFilter.query` raises :class:`FilterError` with a code the view turns into a
message in the user's language."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField

from ..localtime import format_date, local_day_start
from ..models.access import ACTIONS
from ..services.access_log import PAGE_SIZE, AccessQuery
from .base import Form

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NORWEGIAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
MAX_PAGE = 100_000
FIRST_YEAR, LAST_YEAR = 2000, 2100


class FilterError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_day(text: str) -> date | None:
    """An ISO date (what a date input sends) or dd.mm.åååå (typed where the browser has no
    date input); empty gives None. Raises :class:`FilterError` ``bad_date``."""
    text = text.strip()
    if not text:
        return None
    iso, typed = _ISO.match(text) if text.isascii() else None, None
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif text.isascii() and (typed := _NORWEGIAN.match(text)):
        day, month, year = (int(part) for part in typed.groups())
    else:
        raise FilterError("bad_date")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FilterError("bad_date")
    try:
        return date(year, month, day)
    except ValueError:
        raise FilterError("bad_date") from None


def parse_page(text: str | None) -> int:
    text = (text or "").strip()
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise FilterError("bad_page")
    return int(text)


DATE_FIELD = {"placeholder": _l("dd.mm.yyyy"), "autocomplete": "off", "size": 10,
              "maxlength": 10}


class AccessLogFilter(Form):
    class Meta:
        csrf = False  # a GET form that only reads

    # Text, not type="date": a date input draws the browser's own format (03/29/2026 in a
    # browser set up in English), and the interface has one: dd.mm.åååå.
    start = StringField(_l("From date"), render_kw=DATE_FIELD)
    end = StringField(_l("To date"), render_kw=DATE_FIELD)
    action = SelectField(_l("What was done"), default="", validate_choice=False)

    def query(self, page: int) -> AccessQuery:
        """Newest first, ``PAGE_SIZE`` a page, the days taken as Oslo days."""
        first = parse_day(self.start.data or "")
        last = parse_day(self.end.data or "")
        # shown (and carried to the other pages) as the interface writes dates
        self.start.data = format_date(first) if first else ""
        self.end.data = format_date(last) if last else ""
        if first is not None and last is not None and first > last:
            raise FilterError("start_after_end")
        action = self.action.data or None
        if action is not None and action not in ACTIONS:
            raise FilterError("unknown_action")
        return AccessQuery(
            since=local_day_start(first) if first else None,
            until=local_day_start(last + timedelta(days=1)) if last else None,
            action=action, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, newest_first=True)
