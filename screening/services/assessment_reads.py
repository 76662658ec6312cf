"""Reading stored assessments: one assessment with its patient and conversation (care
relationship checked, the read logged), and a patient's history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Assessment, FollowUp, Patient, Staff, Unit
from ..models.sealing import attach_key
from . import patient_reads, patients

_WITH_PATIENT = (
    select(Assessment, Patient)
    .join(Patient, Patient.id == Assessment.patient_id)
    .where(Assessment.uuid == bindparam("uuid"))
)


@dataclass(frozen=True)
class PlannedFollowUp:
    """A follow-up made from this assessment, as the patient sheet names it."""

    pathway: str
    unit_name: str
    due_date: date
    mode: str
    status: str


_EXTENDS = select(Assessment.uuid, Assessment.created_at, Assessment.instrument).where(
    Assessment.id == bindparam("id"))
_EXTENDED_BY = (
    select(Assessment.uuid, Assessment.created_at)
    .where(Assessment.extends_id == bindparam("id"), Assessment.voided_at.is_(None))
)

_FOLLOW_UPS = (
    select(FollowUp.pathway, Unit.name, FollowUp.due_date, FollowUp.mode, FollowUp.status)
    .join(Unit, Unit.id == FollowUp.unit_id)
    .where(FollowUp.assessment_id == bindparam("assessment"))
    .order_by(FollowUp.due_date, FollowUp.id)
)


@dataclass(frozen=True)
class AssessmentView:
    uuid: str
    patient: Any  # patients.PatientRecord
    instrument: str
    instrument_version: str
    rule_set: str
    rule_set_version: str
    total: int
    zone: str | None
    level: int | None
    flags: tuple[str, ...]
    pathways: tuple[str, ...]
    follow_up_weeks: int | None
    setting: str
    created_at: datetime
    answers: dict[str, int | None]
    context: dict[str, Any]
    conversation: Any  # conversations.ConversationView | None
    created_by: int | None = None
    unit_id: int | None = None
    voided_at: datetime | None = None
    voided_by_name: str | None = None
    void_reason: str | None = None
    follow_ups: tuple[PlannedFollowUp, ...] = ()
    instrument_fingerprint: str | None = None
    rule_set_fingerprint: str | None = None
    # The assessment this one extends (an AUDIT from an AUDIT-C): (uuid, created at,
    # instrument); the live one that extends this one: (uuid, created at); or None.
    extends: tuple[str, datetime, str] | None = None
    extended_by: tuple[str, datetime] | None = None

    @property
    def void(self) -> bool:
        return self.voided_at is not None


def view(
    db: Database, keyring: KeyRing, user: Any, assessment_uuid: str, action: str = "assessment_view"
) -> AssessmentView:
    """Open one assessment (care relationship checked, the read logged). Opened with
    ``action="assessment_export"`` the read is logged with the purpose ``export``."""
    from .conversations import load as load_conversation

    with patient_reads.reading(db) as session:
        found = session.execute(_WITH_PATIENT, {"uuid": str(assessment_uuid)}).first()
        if found is None:
            raise patients.PatientError("not_found")
        row, patient_row = found
        record = patient_reads.open_to_read(
            db, session, keyring, user, patient_row, action=action, afresh=False,
            export=action == "assessment_export",
        ).record
        attach_key(row, patients.data_key(keyring, patient_row))
        conversation = load_conversation(session, keyring, patient_row, row.id)
        voided_by = session.get(Staff, row.voided_by) if row.voided_by is not None else None
        planned = tuple(PlannedFollowUp(*r) for r in session.execute(
            _FOLLOW_UPS, {"assessment": row.id}))
        extends = (session.execute(_EXTENDS, {"id": row.extends_id}).first()
                   if row.extends_id is not None else None)
        context = row.context
        explained = (context or {}).get("explanation") if isinstance(context, dict) else None
        offers = isinstance(explained, dict) and explained.get("extension")
        extended_by = (session.execute(_EXTENDED_BY, {"id": row.id}).first()
                       if offers else None)  # only a result that offers one can have one
        return AssessmentView(
            row.uuid,
            record,
            row.instrument,
            row.instrument_version,
            row.rule_set,
            row.rule_set_version,
            row.total,
            row.zone,
            row.level,
            tuple(json.loads(row.flags)),
            tuple(json.loads(row.pathways)),
            row.follow_up_weeks,
            row.setting,
            row.created_at,
            row.answers,
            context,
            conversation,
            row.created_by,
            row.unit_id,
            row.voided_at,
            voided_by.display_name if voided_by is not None else None,
            row.void_reason if row.voided_at is not None else None,
            planned,
            row.instrument_fingerprint,
            row.rule_set_fingerprint,
            (extends[0], extends[1], extends[2]) if extends else None,
            (extended_by[0], extended_by[1]) if extended_by else None,
        )


def history(session: Session, patient_row: Patient) -> list[Assessment]:
    return list(
        session.scalars(
            select(Assessment)
            .where(Assessment.patient_id == patient_row.id)
            .order_by(Assessment.created_at)
        )
    )
