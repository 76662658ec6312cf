"""Referrals: a pathway sent to a receiving unit, with the patient's consent; accepted or
returned (design.md, "referral")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import SEALED, Base, UTCDateTime, new_uuid, utcnow
from .conversations import PATHWAYS
from .sealing import Sealed

# sent: waiting for the receiving unit; accepted: the unit took it (and has access to the
# patient); returned: the unit sent it back with a note; consent_refused: the patient did
# not consent, nothing was sent (the refusal is the record); external: a GP recorded that
# she referred the patient to specialist care (TSB) herself, outside this app.
STATUSES = ("sent", "accepted", "returned", "consent_refused", "external", "withdrawn")


class Referral(Base):
    """One referral of one patient, made from one assessment's recommended pathway.

    ``to_unit_id`` is the receiving unit (None only for ``external``). ``consent`` is what
    the patient said (None: not recorded, for the accepted referrals migration 0009 made
    from follow-ups assigned to another unit before referrals existed). ``reason`` (why the
    patient is referred) and ``answer_note`` (the receiving unit's note on accepting or
    returning) are sealed under the patient's data key. ``follow_up_id`` is the task the
    receiving unit got when it accepted."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"),
                                               index=True)
    pathway: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                    nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="SET NULL"), nullable=True)
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, info=SEALED)
    answer_note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True,
                                                             info=SEALED)

    reason = Sealed()
    answer_note = Sealed()

    __table_args__ = (
        CheckConstraint(f"pathway IN {PATHWAYS!r}", name="pathway"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        # A refused consent is recorded and nothing is sent; everything else had consent
        # (or, migrated, none recorded).
        CheckConstraint("(status = 'consent_refused') = (consent IS NOT NULL AND NOT consent)",
                        name="consent"),
        CheckConstraint("(status IN ('external', 'consent_refused')) OR to_unit_id IS NOT NULL",
                        name="receiver"),
        # The inbox: referrals waiting for one unit.
        Index("ix_referrals_to_unit_status", "to_unit_id", "status"),
    )
