"""Voiding an assessment that was entered wrongly (wrong patient, answers entered wrongly).

A voided assessment is kept (its answers, result and conversation stay readable to those
with a care relationship, shown as void), with who voided it, when and why (the reason
sealed under the patient's key). It leaves the reports in the same transaction: its report
fact is deleted, and the database triggers on ``report_facts`` take its counts away from
``report_month_counts``. Its open follow-ups are cancelled and its referrals still waiting
for an answer withdrawn. Logged as ``assessment_void``.

Who may void: the clinician who made the assessment, or a colleague who is a member of the
unit the assessment was made in; both also need a care relationship with the patient.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Assessment, FollowUp, Patient, Referral, ReportFact
from ..models.base import utcnow
from ..models.sealing import attach_key
from . import patients

REASON_MIN, REASON_MAX = 5, 500


class VoidError(ValueError):
    """``code``: ``not_found``, ``not_allowed`` (neither its author nor of its unit),
    ``already_void``, ``extended`` (a live assessment extends it: void that one first),
    ``reason_too_short``, ``reason_too_long``, ``bad_reason``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Voided:
    patient_uuid: str
    follow_ups_cancelled: int


def clean_reason(reason: object) -> str:
    """The reason as stored: NFC, stripped, 5-500 characters, no control characters."""
    if not isinstance(reason, str):
        raise VoidError("bad_reason")
    text = unicodedata.normalize("NFC", reason).strip()
    if len(text) < REASON_MIN:
        raise VoidError("reason_too_short")
    if len(text) > REASON_MAX:
        raise VoidError("reason_too_long")
    if any(unicodedata.category(c)[0] == "C" and c not in "\n\t" for c in text):
        raise VoidError("bad_reason")
    return text


def may_void(user: Any, assessment: Assessment) -> bool:
    return assessment.created_by == user.id or assessment.unit_id in user.unit_ids


def void(db: Database, keyring: KeyRing, user: Any, assessment_uuid: str, reason: str,
         now: datetime | None = None) -> Voided:
    """Void one assessment (see the module's docstring); one transaction."""
    text = clean_reason(reason)
    now = now or utcnow()
    with db.write() as session:
        assessment = session.scalar(select(Assessment).where(Assessment.uuid == assessment_uuid))
        if assessment is None:
            raise VoidError("not_found")
        patient_row = session.get(Patient, assessment.patient_id)
        assert patient_row is not None
        # The care relationship first (a refusal is logged and raised as AccessDenied).
        patients.open_patient(session, keyring, user, patient_row.uuid, action="assessment_void")
        if not may_void(user, assessment):
            raise VoidError("not_allowed")
        if assessment.voided_at is not None:
            raise VoidError("already_void")
        if session.scalar(select(Assessment.id).where(Assessment.extends_id == assessment.id,
                                                      Assessment.voided_at.is_(None))):
            # Its answers live on in the assessment that extends it (an AUDIT-C and its AUDIT):
            # that one is voided first, so that no result stands on answers marked wrong.
            raise VoidError("extended")
        attach_key(assessment, patients.data_key(keyring, patient_row))
        assessment.voided_at = now
        assessment.voided_by = user.id
        assessment.void_reason = text
        fact_id = assessment.fact_id
        assessment.fact_id = None
        cancelled = len(session.scalars(
            update(FollowUp)
            .where(FollowUp.assessment_id == assessment.id, FollowUp.status == "open")
            .values(status="cancelled").returning(FollowUp.id)).all())
        session.execute(update(FollowUp).where(FollowUp.assessment_id == assessment.id)
                        .values(fact_id=None))
        # Referrals still waiting for an answer are withdrawn; an accepted one stays (the
        # receiving unit has the patient in its care now).
        session.execute(update(Referral)
                        .where(Referral.assessment_id == assessment.id, Referral.status == "sent")
                        .values(status="withdrawn"))
        session.flush()
        if fact_id is not None:
            session.execute(delete(ReportFact).where(ReportFact.id == fact_id))
        return Voided(patient_row.uuid, cancelled)
