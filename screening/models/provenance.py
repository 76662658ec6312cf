"""The fingerprints of the instrument and rule-set files seen, by kind, id and version.

Written by ``flask instruments record`` (which ``flask db upgrade`` runs after migrating,
so ``make run`` and ``make serve`` do too) and by the first result made with a file not
recorded yet (services.provenance); read at every start, which refuses to start when a
file's content differs from what was recorded under its id and version. A fingerprint is
the SHA-256 of a file's canonical content (screening.core.fingerprint): no patient data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

KINDS = ("instrument", "conversation", "rule_set")


class InstrumentFingerprint(Base):
    __tablename__ = "instrument_fingerprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(255))  # the file's name when it was recorded
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "file_id", "version"),
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
    )
