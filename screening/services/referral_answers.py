"""The receiving unit's side of a referral (services.referrals has the sending side): its
page, read by the receiving unit as ``referral_view`` with purpose ``referral`` (or by the
sender under her care relationship), and the answer: accept (the unit gets access to the
patient and a follow-up task; the report fact's follow-up state is updated) or return with
a note (sealed) that the sender sees. A referral whose consent was refused was never sent:
the unit it was meant for sees nothing of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Assessment, FollowUp, Patient, Referral, Staff, Unit
from ..models.base import utcnow
from ..models.sealing import Undecryptable, attach_key
from . import access_log, follow_ups, patients
from .access_log import Actor
from .care import AccessDenied, grant_for
from .conversations import weeks_for_level
from .follow_ups import DEFAULT_MODE, MODES, FollowUpError
from .referrals import ReferralError, opened_text

RECEIVED = ("sent", "accepted", "returned")  # what the receiving unit sees (consent given)


@dataclass(frozen=True)
class ReferralView:
    uuid: str
    patient: Any  # patients.PatientRecord (name and age are what the inbox needs)
    assessment_uuid: str
    pathway: str
    status: str
    consent: bool | None
    from_unit_name: str | None
    to_unit_name: str | None
    sender_name: str | None
    sent_at: datetime
    answerer_name: str | None
    answered_at: datetime | None
    reason: str | None
    answer_note: str | None
    receiver: bool  # the user is in the receiving unit (may accept or return)
    record_open: bool  # the user may open the patient's record (care or accepted referral)
    follow_up_uuid: str | None
    default_due: date
    default_mode: str


def _find(session: Session, referral_uuid: str) -> tuple[Referral, Patient]:
    canonical = patients.canonical_uuid(referral_uuid)
    row = None if canonical is None else session.scalar(
        select(Referral).where(Referral.uuid == canonical))
    if row is None:
        raise patients.PatientError("not_found")
    patient_row = session.get(Patient, row.patient_id)
    assert patient_row is not None
    return row, patient_row


def _received(row: Referral, user: Any) -> bool:
    """The user is in the unit the referral was sent to (a refused consent sent nothing)."""
    units: frozenset[int] = getattr(user, "unit_ids", frozenset())
    return row.status in RECEIVED and row.to_unit_id is not None and row.to_unit_id in units


def _open_as_receiver(session: Session, keyring: KeyRing, user: Any, row: Referral,
                      patient_row: Patient, action: str) -> Any:
    """The patient's record for a member of the receiving unit, logged as ``action`` with
    purpose ``referral``; anyone else is refused (``access_denied`` logged, AccessDenied).
    Call it first in the write transaction."""
    if not _received(row, user):
        access_log.record(session, keyring, Actor(user.id, user.role), "access_denied",
                          patient_row.uuid, purpose="referral", outcome="denied")
        raise AccessDenied("referral to another unit")
    actor = Actor(user.id, user.role, row.to_unit_id)
    try:
        record = patients.opened_record(keyring, patient_row)
    except Undecryptable:
        access_log.record(session, keyring, actor, "undecryptable", patient_row.uuid,
                          purpose="referral", outcome="error")
        raise
    access_log.record(session, keyring, actor, action, patient_row.uuid, purpose="referral")
    return record


def view(db: Database, keyring: KeyRing, catalogue: Any, user: Any,
         referral_uuid: str, today: date | None = None,
         receiver_only: bool = False) -> ReferralView:
    """A referral for its receiving unit (``referral_view``/``referral``) or for someone
    with access to the patient (the sender: ``referral_view`` with the grant's purpose).
    Anyone else, and with ``receiver_only`` anyone outside the receiving unit:
    AccessDenied (logged)."""
    today = today or local_today()
    with db.write() as session:
        row, patient_row = _find(session, referral_uuid)
        receiver = _received(row, user)
        if receiver or receiver_only:
            record = _open_as_receiver(session, keyring, user, row, patient_row,
                                       "referral_view")
        else:
            record = patients.open_patient(session, keyring, user, patient_row.uuid,
                                           action="referral_view")
        attach_key(row, patients.data_key(keyring, patient_row))
        names = dict(session.execute(select(Staff.id, Staff.display_name).where(
            Staff.id.in_({row.sent_by, row.answered_by} - {None}))).all())
        unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
        assessment = session.get(Assessment, row.assessment_id)
        assert assessment is not None
        task = None if row.follow_up_id is None else session.scalar(
            select(FollowUp.uuid).where(FollowUp.id == row.follow_up_id))
        return ReferralView(
            row.uuid, record, assessment.uuid, row.pathway, row.status, row.consent,
            unit_names.get(row.from_unit_id or 0), unit_names.get(row.to_unit_id or 0),
            names.get(row.sent_by or 0), row.sent_at, names.get(row.answered_by or 0),
            row.answered_at, opened_text(row, "reason"), opened_text(row, "answer_note"), receiver,
            grant_for(session, user, patient_row) is not None, task,
            _default_due(catalogue, assessment, today), DEFAULT_MODE[row.pathway])


def _default_due(catalogue: Any, assessment: Assessment, today: date) -> date:
    weeks = weeks_for_level(catalogue, assessment.rule_set, assessment.instrument,
                            assessment.level) if catalogue is not None else None
    return today + timedelta(weeks=weeks or 4)


@dataclass(frozen=True)
class Answered:
    status: str
    patient_uuid: str
    follow_up_uuid: str | None
    already: bool  # it had been answered before: nothing changed


def accept(db: Database, keyring: KeyRing, user: Any, referral_uuid: str, *, due_date: date,
           mode: str, note: str | None = None, today: date | None = None) -> Answered:
    """The receiving unit accepts: the referral's unit gets access to the patient and a
    follow-up task (due ``due_date``, not in the past; the accepting clinician responsible);
    the report fact's follow-up state is updated. One transaction, logged as
    ``referral_accept``/``referral``."""
    if mode not in MODES:
        raise ReferralError("bad_mode")
    try:
        follow_ups.check_due_date(due_date, today)
        text = follow_ups.clean_note(note)
    except FollowUpError as err:
        raise ReferralError("past_date" if err.code == "past_date" else err.code) from None
    with db.write() as session:
        row, patient_row = _find(session, referral_uuid)
        _open_as_receiver(session, keyring, user, row, patient_row, "referral_accept")
        if row.status != "sent":
            return Answered(row.status, patient_row.uuid, None, True)
        assessment = session.get(Assessment, row.assessment_id)
        assert assessment is not None and row.to_unit_id is not None
        task = follow_ups.add_task(session, assessment, pathway=row.pathway,
                                   unit_id=row.to_unit_id, due_date=due_date, mode=mode,
                                   responsible_id=user.id)
        session.flush()
        row.status, row.answered_by, row.answered_at = "accepted", user.id, utcnow()
        row.follow_up_id = task.id
        if text is not None:
            attach_key(row, patients.data_key(keyring, patient_row))
            row.answer_note = text
        follow_ups.update_fact(session, assessment.fact_id)
        return Answered("accepted", patient_row.uuid, task.uuid, False)


def give_back(db: Database, keyring: KeyRing, user: Any, referral_uuid: str,
              note: str) -> Answered:
    """The receiving unit returns the referral with a note (required, sealed); logged as
    ``referral_return``/``referral``. The unit gets no access."""
    try:
        text = follow_ups.clean_note(note)
    except FollowUpError:
        raise ReferralError("note_too_long") from None
    if text is None:
        raise ReferralError("note_missing")
    with db.write() as session:
        row, patient_row = _find(session, referral_uuid)
        _open_as_receiver(session, keyring, user, row, patient_row, "referral_return")
        if row.status != "sent":
            return Answered(row.status, patient_row.uuid, None, True)
        row.status, row.answered_by, row.answered_at = "returned", user.id, utcnow()
        attach_key(row, patients.data_key(keyring, patient_row))
        row.answer_note = text
        return Answered("returned", patient_row.uuid, None, False)

