"""The report facts counted by month and by every key a report groups or filters by.

Database triggers on ``report_facts`` keep this table exact (migration 0006, which also fills
it from the facts already stored): a fact inserted adds its counts to the row of its key, a
fact deleted takes them away, a fact updated does both. No service writes it, and reports
read only this table (``services.reports``), a few thousand rows a year instead of every
fact. A row may fall to n = 0 when facts are deleted; readers skip it.

The key is the primary key, so no key column is NULL (a unique constraint would treat NULLs
as distinct on SQLite): a fact's NULL zone, level or DUDIT outcome is stored as
:data:`NO_ZONE`, :data:`NO_LEVEL` or :data:`NO_OUTCOME`, and ``positive`` as 1, 0 or
:data:`NO_OUTCOME`. :func:`fact_key` maps them back.

A migration that rebuilds ``report_facts`` on SQLite (Alembic's batch mode copies the table)
drops its triggers: it must create them again.
"""

from __future__ import annotations

from sqlalchemy import Integer, PrimaryKeyConstraint, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

NO_ZONE = ""
NO_LEVEL = -1
NO_OUTCOME = -1


class ReportMonthCount(Base):
    __tablename__ = "report_month_counts"

    # The key, in the order of the primary key's index: instrument and month (every report
    # filters by them), then what a report groups by, then the other filters.
    instrument: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    zone: Mapped[str] = mapped_column(String(3))  # NO_ZONE for none
    positive: Mapped[int] = mapped_column(SmallInteger)  # 1, 0, or NO_OUTCOME
    age_band: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(6))
    level: Mapped[int] = mapped_column(Integer)  # NO_LEVEL for none
    unit_id: Mapped[int] = mapped_column(Integer)
    setting: Mapped[str] = mapped_column(String(16))
    # The counts: facts, conversations delivered, follow-ups by state, pathways proposed,
    # extensions.
    n: Mapped[int] = mapped_column(Integer)
    conversations_delivered: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    pw_elder_care: Mapped[int] = mapped_column(Integer)
    pw_gp: Mapped[int] = mapped_column(Integer)
    pw_substance_use_consultant: Mapped[int] = mapped_column(Integer)
    pw_specialist_referral: Mapped[int] = mapped_column(Integer)
    # AUDITs that extend an AUDIT-C (migration 0010).
    extensions: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (
        PrimaryKeyConstraint("instrument", "month", "zone", "positive", "age_band", "sex",
                             "level", "unit_id", "setting"),
    )


def fact_key(zone: str, positive: int, level: int) -> tuple[str | None, bool | None, int | None]:
    """A stored (zone, positive, level) as the fact had it: None where it was NULL."""
    return (None if zone == NO_ZONE else zone,
            None if positive == NO_OUTCOME else bool(positive),
            None if level == NO_LEVEL else level)
