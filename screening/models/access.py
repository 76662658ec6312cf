"""The access log (append-only, hash-chained) and break-the-glass grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import SEALED, Base, UTCDateTime, new_uuid, utcnow
from .sealing import Sealed

ACTIONS = (
    "patient_register", "patient_search", "patient_view", "patient_erase",
    "assessment_create", "assessment_view", "assessment_export", "assessment_void",
    "draft_save", "draft_view",
    "conversation_save", "conversation_view",
    "follow_up_update", "break_glass", "access_report", "access_denied", "undecryptable",
    "patient_list", "patient_correct", "duplicate_refused",
    "referral_send", "referral_view", "referral_accept", "referral_return",
)
OUTCOMES = ("ok", "denied", "error")


class AccessLogEntry(Base):
    """One row per patient touched per request, written in the same transaction as the
    change. ``hash`` = SHA-256 over the previous row's hash and this row's fields, so an
    edit, deletion, insertion or swap anywhere breaks the chain."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(24))
    patient_pseudonym: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    purpose: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(8))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class BreakGlass(Base):
    """Emergency access to a patient outside the user's units: a reason (sealed), at most
    24 hours, listed for an administrator to review."""

    __tablename__ = "break_glass"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                    nullable=True)
    reason_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=SEALED)

    reason = Sealed()


class AccessLogHead(Base):
    """The chain's head (one row): the last entry's id and hash. Appending locks it, so
    concurrent writers chain one after the other, and a cut-off tail is detected."""

    __tablename__ = "access_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
