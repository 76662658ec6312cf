"""Brief-intervention conversations and follow-up tasks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import SEALED, Base, UTCDateTime, new_uuid, utcnow
from .sealing import Sealed, SealedJSON

PATHWAYS = ("elder_care", "gp", "substance_use_consultant", "specialist_referral")
OUTCOMES = ("done", "not_reached", "declined", "rescheduled")


class Conversation(Base):
    """The checklist record of clinical-rules §4, sealed; ``version`` detects overlapping
    edits (the second writer gets a conflict instead of overwriting)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True)
    chosen_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                   nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    record_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=SEALED)

    record = SealedJSON()

    __mapper_args__ = {"version_id_col": version}


class FollowUp(Base):
    """A dated task for a unit, made from a pathway: by the conversation's follow-up plan
    (for the patient's own unit or the clinician's), or when a unit accepts a referral.

    ``status`` is ``open`` until the unit closes it (``closed``, with an ``outcome``) or it
    is ``cancelled``. Outcomes: ``done``, ``not_reached`` (the patient could not be
    reached), ``declined`` (the patient declined the follow-up), ``rescheduled`` (a new open
    task with the new date was made; ``rescheduled_from_id`` points back). ``done_at`` and
    ``done_by`` say when and by whom it was closed. ``responsible_id`` is the clinician who
    has the task ("mine" on the worklist): who planned it in a conversation, accepted the
    referral it came from, or took it over. ``note`` is an optional closing note (sealed)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    # None once the assessment is voided (its report fact is deleted).
    fact_id: Mapped[int | None] = mapped_column(ForeignKey("report_facts.id"), index=True,
                                                nullable=True)
    pathway: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    mode: Mapped[str] = mapped_column(String(16))  # home_visit | phone | consultation
    repeat_audit: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(9), default="open")
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                nullable=True)
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True, index=True)
    rescheduled_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, info=SEALED)

    note = Sealed()

    __table_args__ = (
        CheckConstraint(f"pathway IN {PATHWAYS!r}", name="pathway"),
        CheckConstraint("status IN ('open', 'closed', 'cancelled')", name="status"),
        CheckConstraint(f"outcome IN {OUTCOMES!r}", name="outcome"),
        # An outcome exactly when closed.
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL)", name="closed_outcome"),
        CheckConstraint("mode IN ('home_visit', 'phone', 'consultation')", name="mode"),
    )
