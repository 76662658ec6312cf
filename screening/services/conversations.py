"""The brief-intervention conversation (checklist of clinical-rules §4) and the follow-up
tasks it creates; the worklist of a clinician's units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..core.catalogue import Catalogue
from ..core.conversation import check_conversation, stamp_routes
from ..core.errors import AnswerError
from ..core.rulesets import LevelPolicy
from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Assessment, Conversation, FollowUp, Patient, ReportFact, Unit
from ..models.base import new_uuid, utcnow
from ..models.sealing import attach_key
from . import access_log, patients
from .access_log import Actor
from .care import AccessDenied

CHECKLIST = "brief_intervention"
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


class ConversationError(ValueError):
    def __init__(self, code: str, problems: tuple[AnswerError, ...] = ()) -> None:
        super().__init__(code)
        self.code = code
        self.problems = problems


def weeks_for_level(
    catalogue: Catalogue, rule_set_id: str, instrument_id: str, level: int | None
) -> int | None:
    """Follow-up interval of the rule set for an action level (None: no follow-up)."""
    if level is None:
        return None
    try:
        policy = catalogue.rule_set(rule_set_id).policy(instrument_id)
    except LookupError:
        return None
    if not isinstance(policy, LevelPolicy) or not policy.follow_up:
        return None
    entry = policy.follow_up[min(max(level, 1), len(policy.follow_up)) - 1]
    return entry.weeks


@dataclass(frozen=True)
class ConversationView:
    uuid: str
    version: int
    record: dict[str, Any]
    chosen_level: int | None
    created_at: datetime
    updated_at: datetime


_OF_ASSESSMENT = select(Conversation).where(Conversation.assessment_id == bindparam("assessment"))


def load(
    session: Session, keyring: KeyRing, patient_row: Patient, assessment_id: int
) -> ConversationView | None:
    row = session.scalar(_OF_ASSESSMENT, {"assessment": assessment_id})
    if row is None:
        return None
    attach_key(row, patients.data_key(keyring, patient_row))
    return ConversationView(
        row.uuid, row.version, row.record, row.chosen_level, row.created_at, row.updated_at
    )


def save(
    db: Database,
    keyring: KeyRing,
    catalogue: Catalogue,
    user: Any,
    *,
    assessment_uuid: str,
    record: Mapping[str, Any],
    expected_version: int | None,
    today: date | None = None,
) -> str:
    """Check and store the conversation record; on the first save create the follow-up
    tasks for the chosen pathways. ``expected_version`` is the version the form was opened
    with (None for a new record): a different stored version is a conflict, never a silent
    overwrite. Returns the conversation uuid."""
    today = today or local_today()
    checklist = catalogue.conversation(CHECKLIST)
    with db.write() as session:
        assessment = session.scalar(select(Assessment).where(Assessment.uuid == assessment_uuid))
        if assessment is None:
            raise patients.PatientError("not_found")
        patient_row = session.get(Patient, assessment.patient_id)
        assert patient_row is not None
        patients.open_patient(session, keyring, user, patient_row.uuid, action="conversation_save")
        suggested = assessment.level or 1
        problems = check_conversation(checklist, record, suggested)
        if problems:
            raise ConversationError("invalid", problems)
        chosen = (record.get("override") or {}).get("chosen_level")
        effective = chosen if isinstance(chosen, int) else suggested
        key = patients.data_key(keyring, patient_row)
        row = session.scalar(
            select(Conversation).where(Conversation.assessment_id == assessment.id)
        )
        now = utcnow()
        if row is None:
            if expected_version is not None:
                raise ConversationError("conflict")
            row = Conversation(
                uuid=new_uuid(),
                assessment_id=assessment.id,
                patient_id=patient_row.id,
                created_by=user.id,
                created_at=now,
            )
            attach_key(row, key)
            row.record = stamp_routes(checklist, record, None, now.isoformat())
            row.chosen_level = chosen if isinstance(chosen, int) else None
            row.updated_at = now
            session.add(row)
            session.flush()
            created = _create_follow_ups(
                session, catalogue, assessment, patient_row, record, effective, today, user
            )
            fact = (session.get(ReportFact, assessment.fact_id)
                    if assessment.fact_id is not None else None)
            if fact is not None:
                fact.conversation_delivered = True
                if created:
                    fact.follow_up = "pending"
        else:
            if expected_version is None or row.version != expected_version:
                raise ConversationError("conflict")
            attach_key(row, key)
            row.record = stamp_routes(checklist, record, row.record, now.isoformat())
            row.chosen_level = chosen if isinstance(chosen, int) else None
            row.updated_at = now
            try:
                session.flush()
            except StaleDataError:
                raise ConversationError("conflict") from None
        return row.uuid


def _unit_for(session: Session, pathway: str, patient_row: Patient, user: Any) -> int | None:
    kind = PATHWAY_UNIT_KIND[pathway]
    units = (
        session.execute(
            select(Unit.id).where(Unit.kind == kind, Unit.active.is_(True)).order_by(Unit.code)
        )
        .scalars()
        .all()
    )
    if not units:
        return None
    if patient_row.unit_id in units:
        return patient_row.unit_id
    for unit_id in sorted(getattr(user, "unit_ids", ())):
        if unit_id in units:
            return unit_id
    return units[0]


def _create_follow_ups(
    session: Session,
    catalogue: Catalogue,
    assessment: Assessment,
    patient_row: Patient,
    record: Mapping[str, Any],
    level: int,
    today: date,
    user: Any,
) -> int:
    """One task for the follow-up of item 10 (its date, mode and repeat AUDIT), and one per
    referral the patient consented to. Returns how many were created."""
    weeks = weeks_for_level(catalogue, assessment.rule_set, assessment.instrument, level) or 4
    plan = record.get("follow_up") or {}
    tasks: dict[str, tuple[date, str, bool]] = {}
    by = plan.get("by")
    if isinstance(by, str) and by in PATHWAY_UNIT_KIND:
        due = plan.get("date")
        due_date = (
            date.fromisoformat(due)
            if isinstance(due, str) and due
            else today + timedelta(weeks=weeks)
        )
        tasks[by] = (
            due_date,
            plan.get("mode") or DEFAULT_MODE[by],
            plan.get("repeat_audit") is True,
        )
    for referral in (record.get("referrals") or {}).get("referrals") or []:
        pathway = referral.get("pathway")
        if (
            referral.get("consent") is True
            and pathway in PATHWAY_UNIT_KIND
            and pathway not in tasks
        ):
            tasks[pathway] = (today + timedelta(weeks=weeks), DEFAULT_MODE[pathway], False)
    created = 0
    for pathway, (due_date, mode, repeat) in tasks.items():
        unit_id = _unit_for(session, pathway, patient_row, user)
        if unit_id is None:
            continue
        session.add(
            FollowUp(
                uuid=new_uuid(),
                patient_id=patient_row.id,
                assessment_id=assessment.id,
                fact_id=assessment.fact_id,
                pathway=pathway,
                unit_id=unit_id,
                due_date=due_date,
                mode=mode,
                repeat_audit=repeat,
                status="open",
            )
        )
        created += 1
    return created


# ------------------------------------------------------------------------------ worklist


@dataclass(frozen=True)
class Task:
    uuid: str
    patient_uuid: str
    patient_name: str
    pathway: str
    unit_name: str
    due_date: date
    mode: str
    repeat_audit: bool
    status: str
    done_at: datetime | None


def worklist(
    db: Database, keyring: KeyRing, user: Any, today: date | None = None, done_days: int = 30
) -> list[Task]:
    """Open follow-ups of the user's units, and those done in the last ``done_days``; each
    patient shown is opened (care relationship checked, the read logged once)."""
    today = today or local_today()
    units = tuple(getattr(user, "unit_ids", ()))
    if not units:
        return []
    since = utcnow() - timedelta(days=done_days)
    with db.write() as session:
        rows = session.execute(
            select(FollowUp, Patient, Unit.name)
            .join(Patient, Patient.id == FollowUp.patient_id)
            .join(Unit, Unit.id == FollowUp.unit_id)
            .where(FollowUp.unit_id.in_(units))
            .where(
                (FollowUp.status == "open")
                | ((FollowUp.status == "done") & (FollowUp.done_at >= since))
            )
            .order_by(FollowUp.due_date, FollowUp.id)
        ).all()
        names: dict[int, str] = {}
        tasks = []
        for follow_up, patient_row, unit_name in rows:
            if patient_row.id not in names:
                record = patients.open_patient(
                    session, keyring, user, patient_row.uuid, action="patient_view"
                )
                names[patient_row.id] = record.name
            tasks.append(
                Task(
                    follow_up.uuid,
                    patient_row.uuid,
                    names[patient_row.id],
                    follow_up.pathway,
                    unit_name,
                    follow_up.due_date,
                    follow_up.mode,
                    follow_up.repeat_audit,
                    follow_up.status,
                    follow_up.done_at,
                )
            )
        return tasks


def mark_done(
    db: Database, keyring: KeyRing, user: Any, follow_up_uuid: str, today: date | None = None
) -> tuple[str, bool]:
    """Mark a follow-up done; returns (patient uuid, repeat AUDIT planned)."""
    today = today or local_today()
    with db.write() as session:
        follow_up = session.scalar(select(FollowUp).where(FollowUp.uuid == follow_up_uuid))
        if follow_up is None:
            raise patients.PatientError("not_found")
        patient_row = session.get(Patient, follow_up.patient_id)
        assert patient_row is not None
        if follow_up.unit_id not in getattr(user, "unit_ids", ()):
            # Only the unit the task is assigned to may close it.
            access_log.record(
                session,
                keyring,
                Actor(user.id, user.role),
                "access_denied",
                patient_row.uuid,
                outcome="denied",
            )
            raise AccessDenied("follow-up of another unit")
        patients.open_patient(session, keyring, user, patient_row.uuid, action="follow_up_update")
        if follow_up.status == "open":
            follow_up.status = "done"
            follow_up.done_at = utcnow()
            follow_up.done_by = user.id
            session.flush()
            if follow_up.fact_id is not None:  # None: the assessment was voided
                _update_fact(session, follow_up.fact_id)
        return patient_row.uuid, follow_up.repeat_audit


def _update_fact(session: Session, fact_id: int) -> None:
    rows = session.execute(
        select(FollowUp.status, FollowUp.due_date, FollowUp.done_at).where(
            FollowUp.fact_id == fact_id
        )
    ).all()
    if not rows:
        return
    if any(status == "open" for status, _, _ in rows):
        state = "pending"
    elif all(
        done_at is not None and done_at.date() <= due
        for status, due, done_at in rows
        if status == "done"
    ):
        state = "on_time"
    else:
        state = "late"
    session.execute(update(ReportFact).where(ReportFact.id == fact_id).values(follow_up=state))


def follow_ups_of(session: Session, patient_row: Patient) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.patient_id == patient_row.id)
            .order_by(FollowUp.due_date)
        )
    )


def agreed_goal(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    goal = record.get("goal")
    return dict(goal) if isinstance(goal, Mapping) and goal else None
