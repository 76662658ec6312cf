"""Times and dates as people in the municipality read them: Europe/Oslo, summer and winter
time. Everything is stored in UTC (``models.base.UTCDateTime``); this module turns a stored
instant into the local date or time shown on a page, and gives "today" as it is in Oslo (a
server's clock or ``date.today()`` is UTC or whatever the host says, and is wrong for an
hour or two around midnight).

Standard library only (``zoneinfo``), so the services, the web layer and the commands can
all use it. One date format in the interface: ``dd.mm.åååå``; files (CSV, XLSX) carry ISO
8601 with the offset (:func:`iso_local`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_local(moment: datetime) -> datetime:
    """An aware instant in Oslo time. A naive value is refused: it has no instant."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store and pass UTC-aware values")
    return moment.astimezone(OSLO)


def local_today(now: datetime | None = None) -> date:
    """Today's date in Oslo."""
    return to_local(now or now_utc()).date()


def local_date(moment: datetime | date) -> date:
    """The Oslo calendar date of an instant; a date is already one."""
    return to_local(moment).date() if isinstance(moment, datetime) else moment


def local_month(moment: datetime) -> str:
    """``YYYY-MM`` of the instant's month in Oslo (what reports count it under)."""
    return to_local(moment).strftime("%Y-%m")


def format_date(value: datetime | date | None) -> str:
    """``dd.mm.åååå``; an instant is turned into its Oslo date first. None gives ""."""
    if value is None:
        return ""
    return local_date(value).strftime("%d.%m.%Y")


def format_time(value: datetime | None) -> str:
    """``HH:MM`` in Oslo."""
    return "" if value is None else to_local(value).strftime("%H:%M")


def format_datetime(value: datetime | None) -> str:
    """``dd.mm.åååå HH:MM`` in Oslo."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.strftime('%d.%m.%Y')} {local.strftime('%H:%M')}"


def iso_local(value: datetime | None) -> str:
    """ISO 8601 in Oslo time with its offset, to the second: ``2026-03-29T03:30:00+02:00``."""
    return "" if value is None else to_local(value).replace(microsecond=0).isoformat()


def quarter_name(year: int, quarter: int, lang: str = "nb") -> str:
    """"1. kvartal 2026" (bokmål) or "Q1 2026" (English)."""
    return f"{quarter}. kvartal {year}" if lang == "nb" else f"Q{quarter} {year}"


def local_day_start(day: date) -> datetime:
    """The instant (UTC) at which ``day`` begins in Oslo: a filter "from 29.03.2026 to
    29.03.2026" covers ``local_day_start(29.03.) <= at < local_day_start(30.03.)``, which is
    23 hours long that day (and 25 on the last Sunday of October)."""
    return datetime(day.year, day.month, day.day, tzinfo=OSLO).astimezone(UTC)
