"""Drafts: answers in progress, sealed, per user, patient and instrument, so that an expired
session or a dropped connection loses nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Draft, Patient
from ..models.base import new_uuid, utcnow
from ..models.sealing import attach_key
from . import patients

_DRAFT = select(Draft).where(
    Draft.staff_id == bindparam("staff"),
    Draft.patient_id == bindparam("patient"),
    Draft.instrument == bindparam("instrument"),
)


def save_draft(
    db: Database,
    keyring: KeyRing,
    user: Any,
    patient_uuid: str,
    instrument_id: str,
    answers: Mapping[str, Any],
) -> None:
    """Keep answers in progress (sealed, per user, patient and instrument)."""
    with db.write() as session:
        record, patient_row = patients.load_patient(
            session, keyring, user, patient_uuid, action="draft_save"
        )
        draft = session.scalar(
            select(Draft).where(
                Draft.staff_id == user.id,
                Draft.patient_id == record.id,
                Draft.instrument == instrument_id,
            )
        )
        if draft is None:
            draft = Draft(
                uuid=new_uuid(), staff_id=user.id, patient_id=record.id, instrument=instrument_id
            )
            session.add(draft)
        attach_key(draft, patients.data_key(keyring, patient_row))
        draft.answers = dict(answers)
        draft.updated_at = utcnow()


def load_draft(
    session: Session, keyring: KeyRing, user: Any, patient_row: Patient, instrument_id: str
) -> dict[str, Any] | None:
    draft = session.scalar(
        _DRAFT, {"staff": user.id, "patient": patient_row.id, "instrument": instrument_id}
    )
    if draft is None:
        return None
    attach_key(draft, patients.data_key(keyring, patient_row))
    answers = draft.answers
    return answers if isinstance(answers, dict) else None
