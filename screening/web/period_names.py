"""Report periods as people read them: "1. kvartal 2026", "mars 2026", "2026", "februar 2026 –
juli 2026" (English: "Q1 2026", "March 2026"). The core keys months as ``YYYY-MM`` and
quarters as ``YYYY-Qn`` (``core.report_tables.quarter_label``); those machine keys stay in the
core and, for months, in the CSV and XLSX files, and are shown through these functions."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import format_date

from ..core.report_tables import Period
from ..i18n import current_lang
from ..localtime import quarter_name

_QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_text(key: str) -> str:
    """``2026-Q1`` as "1. kvartal 2026" (English "Q1 2026"); anything else unchanged."""
    match = _QUARTER_KEY.match(key)
    if not match:
        return key
    return quarter_name(int(match.group(1)), int(match.group(2)), current_lang())


def month_text(month: str) -> str:
    """``2026-03`` as "mars 2026" (English "March 2026")."""
    year, number = (int(part) for part in month.split("-"))
    return str(format_date(date(year, number, 1), "LLLL y"))


def period_text(period: Period) -> str:
    """A year ("2024"), a quarter ("2. kvartal 2024"), a month ("mai 2024"), or from month
    to month ("februar 2024 – juli 2024")."""
    start_year, start_month = (int(part) for part in period.start.split("-"))
    end_year, end_month = (int(part) for part in period.end.split("-"))
    if period.start == period.end:
        return month_text(period.start)
    if start_year == end_year and (start_month, end_month) == (1, 12):
        return str(start_year)
    if start_year == end_year and start_month % 3 == 1 and end_month == start_month + 2:
        return quarter_name(start_year, end_month // 3, current_lang())
    return f"{month_text(period.start)} – {month_text(period.end)}"
