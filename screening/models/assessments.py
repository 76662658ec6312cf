"""Assessments, drafts and the anonymous report facts.

A report fact carries no reference to a patient, so it stays when the patient is erased.
Reports read only the facts as counted by month (``report_counts``, kept by triggers on
this table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import SEALED, Base, UTCDateTime, new_uuid, utcnow
from .sealing import Sealed, SealedJSON

AGE_BANDS = ("under_65", "65_74", "75_84", "85_plus")
SETTINGS = ("home_care", "gp_practice")


class ReportFact(Base):
    __tablename__ = "report_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    age_band: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(6))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    setting: Mapped[str] = mapped_column(String(16))
    instrument: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str | None] = mapped_column(String(3), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    positive: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # DUDIT, AUDIT-C
    # An AUDIT that extends an AUDIT-C (items 1-3 carried over): the AUDIT report counts how
    # many of its assessments began as an AUDIT-C, so that the two reports can be put
    # together without counting one screening twice.
    is_extension: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    pw_elder_care: Mapped[bool] = mapped_column(Boolean, default=False)
    pw_gp: Mapped[bool] = mapped_column(Boolean, default=False)
    pw_substance_use_consultant: Mapped[bool] = mapped_column(Boolean, default=False)
    pw_specialist_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    conversation_delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    # none | pending | on_time | late
    follow_up: Mapped[str] = mapped_column(String(8), default="none")

    __table_args__ = (
        CheckConstraint(f"age_band IN {AGE_BANDS!r}", name="age_band"),
        CheckConstraint("sex IN ('male', 'female')", name="sex"),
        CheckConstraint(f"setting IN {SETTINGS!r}", name="setting"),
        CheckConstraint("follow_up IN ('none', 'pending', 'on_time', 'late')", name="follow_up"),
        # Covers every column the report counts are keyed and counted by: a GROUP BY over the
        # facts (the counts' backfill in migration 0006, a check) is one ordered scan.
        Index(
            "ix_report_facts_report", "instrument", "month", "zone", "positive", "age_band",
            "sex", "level", "setting", "unit_id", "conversation_delivered", "follow_up",
            "pw_elder_care", "pw_gp", "pw_substance_use_consultant", "pw_specialist_referral",
            "is_extension",
        ),
    )


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True)
    # The anonymous report fact; deleted (None here) when the assessment is voided, so that
    # reports leave it out (services.voiding).
    fact_id: Mapped[int | None] = mapped_column(ForeignKey("report_facts.id"), nullable=True)
    # A random token per form: a double click or a resend stores one assessment.
    submission_token: Mapped[str] = mapped_column(String(64), unique=True)
    instrument: Mapped[str] = mapped_column(String(32))
    instrument_version: Mapped[str] = mapped_column(String(32))
    item_text_version: Mapped[str] = mapped_column(String(64))
    rule_set: Mapped[str] = mapped_column(String(32))
    rule_set_version: Mapped[str] = mapped_column(String(32))
    # SHA-256 of the canonical content of the instrument and rule-set files that produced
    # the result (screening.core.fingerprint); None for results stored before they were kept.
    instrument_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rule_set_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The assessment this one extends (an AUDIT whose items 1-3 were carried over from this
    # AUDIT-C). One live extension per assessment: a voided one leaves room for another.
    extends_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str | None] = mapped_column(String(3), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of flag ids
    pathways: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of pathway ids
    follow_up_weeks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    setting: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                   nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answers_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=SEALED)
    context_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, info=SEALED)
    # Voided: entered wrongly (wrong patient, wrong answers). Kept and shown as void, left out
    # of reports, with who, when and why (the reason sealed).
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                  nullable=True)
    void_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True,
                                                             info=SEALED)

    answers = SealedJSON()  # {"q1": 2, ...}
    context = SealedJSON()  # age at assessment, medication checklist answers
    void_reason = Sealed()

    __table_args__ = (
        Index("ix_assessments_extends_id", "extends_id", unique=True,
              sqlite_where=text("voided_at IS NULL"), postgresql_where=text("voided_at IS NULL")),
    )


class Draft(Base):
    """Answers in progress, per user, patient and instrument."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    instrument: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answers_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=SEALED)

    answers = SealedJSON()

    __table_args__ = (UniqueConstraint("staff_id", "patient_id", "instrument"),)
