"""Follow-up tasks: made from a conversation's plan (for the patient's own unit or the
clinician's) or when a unit accepts a referral (:mod:`services.referrals`); closing one
with its outcome; and the report fact's follow-up state.

A task for another unit than the patient's or the clinician's is never made here: that is
a referral, which the receiving unit accepts (and with it gets access to the patient).

The report fact's ``follow_up`` (design.md §8, "follow-up done on time") is computed over
the fact's tasks, cancelled ones left out:

* ``pending`` while any task is open (a rescheduled task is replaced by an open one);
* otherwise ``on_time`` when every closed task was closed by its date with the outcome
  ``done`` or ``declined`` (the patient was reached and said no: the unit did its part),
  and ``late`` when any was closed after its date or with ``not_reached`` (the follow-up
  did not take place). The date that counts is the first one planned: the due date of the
  first task in a chain of reschedulings (a reschedule moves the work, not the promise
  made to the patient). Closing dates are Oslo dates.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_date, local_today
from ..models import Assessment, FollowUp, Patient, ReportFact, Staff, Unit
from ..models.base import new_uuid, utcnow
from ..models.conversations import OUTCOMES
from ..models.sealing import attach_key
from . import access_log, patients
from .access_log import Actor
from .care import AccessDenied

PATHWAY_UNIT_KIND = {
    "elder_care": "home_care",
    "gp": "gp_office",
    "substance_use_consultant": "substance_use_service",
    # A nurse cannot refer to specialist care: the GP makes the referral.
    "specialist_referral": "gp_office",
}
DEFAULT_MODE = {
    "elder_care": "home_visit",
    "gp": "consultation",
    "substance_use_consultant": "phone",
    "specialist_referral": "consultation",
}
MODES = ("home_visit", "phone", "consultation")
NOTE_MAX = 2000


class FollowUpError(ValueError):
    """A follow-up that cannot be closed as asked; ``code``: ``bad_outcome``,
    ``date_missing``, ``past_date``, ``note_too_long``, ``not_open``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_due_date(due: date, today: date | None = None) -> None:
    """A due date set by a person (a plan, a reschedule, an acceptance): not in the past,
    as Oslo's calendar has it. ``FollowUpError("past_date")``."""
    if due < (today or local_today()):
        raise FollowUpError("past_date")


def clean_note(note: str | None, limit: int = NOTE_MAX) -> str | None:
    """A free-text note as stored: NFC, stripped, None when empty; too long is refused."""
    text = unicodedata.normalize("NFC", note or "").strip()
    if len(text) > limit:
        raise FollowUpError("note_too_long")
    return text or None


# ------------------------------------------------------------------------------ making tasks


def unit_kinds(session: Session, unit_ids: frozenset[int] | set[int]) -> dict[int, str]:
    if not unit_ids:
        return {}
    return dict(session.execute(select(Unit.id, Unit.kind).where(Unit.id.in_(unit_ids))).all())


def own_unit_for(session: Session, pathway: str, patient_unit_id: int,
                 user_unit_ids: frozenset[int]) -> int | None:
    """The unit that follows a pathway up without a referral: the patient's own unit when
    it is of the pathway's kind, else one of the clinician's units of that kind. None:
    the pathway belongs to another unit, and reaches it by a referral."""
    kind = PATHWAY_UNIT_KIND[pathway]
    candidates = {patient_unit_id, *user_unit_ids}
    active = dict(session.execute(
        select(Unit.id, Unit.kind).where(Unit.id.in_(candidates), Unit.active.is_(True))).all())
    if active.get(patient_unit_id) == kind:
        return patient_unit_id
    mine = sorted(unit_id for unit_id in user_unit_ids if active.get(unit_id) == kind)
    return mine[0] if mine else None


def add_task(session: Session, assessment: Assessment, *, pathway: str, unit_id: int,
             due_date: date, mode: str, repeat_audit: bool = False,
             responsible_id: int | None = None,
             rescheduled_from_id: int | None = None) -> FollowUp:
    task = FollowUp(uuid=new_uuid(), patient_id=assessment.patient_id,
                    assessment_id=assessment.id, fact_id=assessment.fact_id, pathway=pathway,
                    unit_id=unit_id, due_date=due_date, mode=mode, repeat_audit=repeat_audit,
                    status="open", responsible_id=responsible_id,
                    rescheduled_from_id=rescheduled_from_id, created_at=utcnow())
    session.add(task)
    return task


def update_fact(session: Session, fact_id: int | None) -> None:
    """Recompute the report fact's follow-up state from its tasks (module docstring). None:
    the assessment was voided, and its fact is gone from the reports."""
    if fact_id is None:
        return
    rows = session.execute(
        select(FollowUp.id, FollowUp.status, FollowUp.outcome, FollowUp.due_date,
               FollowUp.done_at, FollowUp.rescheduled_from_id)
        .where(FollowUp.fact_id == fact_id)).all()
    live = [r for r in rows if r.status != "cancelled"]
    if not live:
        state = "none"
    elif any(r.status == "open" for r in live):
        state = "pending"
    else:
        due_of = {r.id: (r.due_date, r.rescheduled_from_id) for r in rows}

        def first_due(row: Any) -> date:
            due, parent = row.due_date, row.rescheduled_from_id
            seen = {row.id}
            while parent is not None and parent in due_of and parent not in seen:
                seen.add(parent)
                due, parent = due_of[parent]
            return due

        final = [r for r in live if r.outcome != "rescheduled"]
        on_time = all(
            r.outcome in ("done", "declined") and r.done_at is not None
            and local_date(r.done_at) <= first_due(r)
            for r in final)
        state = "on_time" if final and on_time else "late"
    session.execute(update(ReportFact).where(ReportFact.id == fact_id).values(follow_up=state))


def follow_ups_of(session: Session, patient_row: Patient) -> list[FollowUp]:
    return list(session.scalars(
        select(FollowUp).where(FollowUp.patient_id == patient_row.id)
        .order_by(FollowUp.due_date, FollowUp.id)))


# ------------------------------------------------------------------------------ one task


@dataclass(frozen=True)
class TaskView:
    """A follow-up as its page shows it (the patient opened, the read logged)."""

    uuid: str
    patient: Any  # patients.PatientRecord
    assessment_uuid: str
    pathway: str
    unit_name: str
    due_date: date
    mode: str
    repeat_audit: bool
    status: str
    outcome: str | None
    done_at: datetime | None
    done_by_name: str | None
    responsible_name: str | None
    mine: bool
    note: str | None
    rescheduled_to: date | None  # the new task's date when this one was rescheduled
    rescheduled_from: date | None  # the date this task replaced


def _deny_other_unit(session: Session, keyring: KeyRing, user: Any, follow_up: FollowUp,
                     patient_uuid: str) -> None:
    """Only the unit a task is assigned to may open or close it: the refusal is logged
    (committed with the AccessDenied raised next)."""
    if follow_up.unit_id not in getattr(user, "unit_ids", ()):
        access_log.record(session, keyring, Actor(user.id, user.role), "access_denied",
                          patient_uuid, outcome="denied")
        raise AccessDenied("follow-up of another unit")


def _find(session: Session, follow_up_uuid: str) -> tuple[FollowUp, Patient]:
    canonical = patients.canonical_uuid(follow_up_uuid)
    follow_up = None if canonical is None else session.scalar(
        select(FollowUp).where(FollowUp.uuid == canonical))
    if follow_up is None:
        raise patients.PatientError("not_found")
    patient_row = session.get(Patient, follow_up.patient_id)
    assert patient_row is not None
    return follow_up, patient_row


def view(db: Database, keyring: KeyRing, user: Any, follow_up_uuid: str,
         action: str = "patient_view") -> TaskView:
    """One task of the user's units, with its patient (care relationship checked, the read
    logged). ``PatientError("not_found")``; ``AccessDenied`` for another unit's task."""
    with db.write() as session:
        follow_up, patient_row = _find(session, follow_up_uuid)
        _deny_other_unit(session, keyring, user, follow_up, patient_row.uuid)
        record = patients.open_patient(session, keyring, user, patient_row.uuid, action=action)
        attach_key(follow_up, patients.data_key(keyring, patient_row))
        names = dict(session.execute(select(Staff.id, Staff.display_name).where(
            Staff.id.in_({follow_up.done_by, follow_up.responsible_id} - {None}))).all())
        successor = session.scalar(select(FollowUp.due_date).where(
            FollowUp.rescheduled_from_id == follow_up.id).order_by(FollowUp.id).limit(1))
        previous = None if follow_up.rescheduled_from_id is None else session.scalar(
            select(FollowUp.due_date).where(FollowUp.id == follow_up.rescheduled_from_id))
        return TaskView(
            follow_up.uuid, record,
            session.scalar(select(Assessment.uuid).where(
                Assessment.id == follow_up.assessment_id)) or "",
            follow_up.pathway, session.get(Unit, follow_up.unit_id).name,  # type: ignore[union-attr]
            follow_up.due_date, follow_up.mode, follow_up.repeat_audit, follow_up.status,
            follow_up.outcome, follow_up.done_at, names.get(follow_up.done_by or 0),
            names.get(follow_up.responsible_id or 0), follow_up.responsible_id == user.id,
            follow_up.note, successor, previous)


@dataclass(frozen=True)
class Closed:
    patient_uuid: str
    outcome: str
    repeat_audit: bool
    new_task_uuid: str | None  # the rescheduled task
    already: bool  # it was closed before (a resend): nothing changed


def close(db: Database, keyring: KeyRing, user: Any, follow_up_uuid: str, outcome: str,
          new_date: date | None = None, note: str | None = None,
          today: date | None = None) -> Closed:
    """Close an open task of the user's units with its outcome; ``rescheduled`` needs a new
    date (today or later) and makes a new open task for it. One transaction with the report
    fact's state and the access-log row (``follow_up_update``). A task already closed is
    left as it is (``already``): a resend changes nothing."""
    today = today or local_today()
    if outcome not in OUTCOMES:
        raise FollowUpError("bad_outcome")
    if outcome == "rescheduled":
        if new_date is None:
            raise FollowUpError("date_missing")
        check_due_date(new_date, today)
    text = clean_note(note)
    with db.write() as session:
        follow_up, patient_row = _find(session, follow_up_uuid)
        _deny_other_unit(session, keyring, user, follow_up, patient_row.uuid)
        patients.open_patient(session, keyring, user, patient_row.uuid,
                              action="follow_up_update")
        if follow_up.status != "open":
            return Closed(patient_row.uuid, follow_up.outcome or "", follow_up.repeat_audit,
                          None, True)
        follow_up.status, follow_up.outcome = "closed", outcome
        follow_up.done_at, follow_up.done_by = utcnow(), user.id
        if text is not None:
            attach_key(follow_up, patients.data_key(keyring, patient_row))
            follow_up.note = text
        new_uuid_ = None
        if outcome == "rescheduled":
            assessment = session.get(Assessment, follow_up.assessment_id)
            assert assessment is not None and new_date is not None
            successor = add_task(
                session, assessment, pathway=follow_up.pathway, unit_id=follow_up.unit_id,
                due_date=new_date, mode=follow_up.mode, repeat_audit=follow_up.repeat_audit,
                responsible_id=follow_up.responsible_id or user.id,
                rescheduled_from_id=follow_up.id)
            new_uuid_ = successor.uuid
        session.flush()
        update_fact(session, follow_up.fact_id)
        return Closed(patient_row.uuid, outcome, follow_up.repeat_audit, new_uuid_, False)


def take_over(db: Database, keyring: KeyRing, user: Any, follow_up_uuid: str) -> str:
    """Make the user responsible for an open task of her unit ("mine"); logged as
    ``follow_up_update``. Returns the patient's uuid."""
    with db.write() as session:
        follow_up, patient_row = _find(session, follow_up_uuid)
        _deny_other_unit(session, keyring, user, follow_up, patient_row.uuid)
        patients.open_patient(session, keyring, user, patient_row.uuid,
                              action="follow_up_update")
        if follow_up.status == "open":
            follow_up.responsible_id = user.id
        return patient_row.uuid
