"""The brief-intervention conversation (checklist of clinical-rules §4) and the follow-up
task its plan creates (services.follow_ups has the tasks, services.referrals the referrals
to other units)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..core.catalogue import Catalogue
from ..core.conversation import check_conversation, stamp_routes
from ..core.errors import AnswerError
from ..core.rulesets import LevelPolicy
from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Assessment, Conversation, Patient, ReportFact
from ..models.base import new_uuid, utcnow
from ..models.sealing import attach_key
from . import follow_ups, patients
from .follow_ups import DEFAULT_MODE, PATHWAY_UNIT_KIND

CHECKLIST = "brief_intervention"


class ConversationError(ValueError):
    """``invalid`` (``problems`` says what), ``conflict`` (someone saved meanwhile) or
    ``past_date`` (a follow-up date before today, newly set)."""

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


@dataclass(frozen=True)
class Saved:
    uuid: str
    follow_up_created: bool
    needs_referral: tuple[str, ...]  # the plan's pathway belongs to another unit


def _planned_date(record: Mapping[str, Any]) -> str | None:
    plan = record.get("follow_up")
    due = plan.get("date") if isinstance(plan, Mapping) else None
    return due if isinstance(due, str) and due else None


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
) -> Saved:
    """Check and store the conversation record; on the first save create the follow-up
    task of its plan (``_plan_follow_up``). ``expected_version`` is the version the form was
    opened with (None for a new record): a different stored version is a conflict, never a
    silent overwrite. A follow-up date before today (Oslo) is refused when it is set or
    changed (``past_date``); a stored one may lie in the past when the record is edited
    later."""
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
        planned = _planned_date(record)
        if planned is not None and date.fromisoformat(planned) < today:
            stored = None
            if row is not None:
                attach_key(row, key)
                stored = _planned_date(row.record or {})
            if planned != stored:
                raise ConversationError("past_date")
        now = utcnow()
        created = False
        needs_referral: tuple[str, ...] = ()
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
            created, needs_referral = _plan_follow_up(
                session, catalogue, assessment, patient_row, record, effective, today, user
            )
            session.flush()
            fact = (session.get(ReportFact, assessment.fact_id)
                    if assessment.fact_id is not None else None)
            if fact is not None:
                fact.conversation_delivered = True
            if created:
                follow_ups.update_fact(session, assessment.fact_id)
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
        return Saved(row.uuid, created, needs_referral)


def _plan_follow_up(
    session: Session,
    catalogue: Catalogue,
    assessment: Assessment,
    patient_row: Patient,
    record: Mapping[str, Any],
    level: int,
    today: date,
    user: Any,
) -> tuple[bool, tuple[str, ...]]:
    """The task of the follow-up plan (item 10: date, by whom, mode, repeat AUDIT), for the
    unit that follows the pathway up: the patient's own unit or the clinician's. Returns
    (a task was made, pathways that need a referral instead). Item 11 (referrals and
    notifications, with consent) is the conversation's record only: a referral reaches the
    other unit when the clinician sends it (services.referrals), never by itself."""
    plan = record.get("follow_up") or {}
    by = plan.get("by")
    if not (isinstance(by, str) and by in PATHWAY_UNIT_KIND):
        return False, ()
    unit_id = follow_ups.own_unit_for(session, by, patient_row.unit_id,
                                      frozenset(getattr(user, "unit_ids", ())))
    if unit_id is None:
        return False, (by,)
    weeks = weeks_for_level(catalogue, assessment.rule_set, assessment.instrument, level) or 4
    due = plan.get("date")
    due_date = date.fromisoformat(due) if isinstance(due, str) and due else \
        today + timedelta(weeks=weeks)
    follow_ups.add_task(session, assessment, pathway=by, unit_id=unit_id, due_date=due_date,
                        mode=plan.get("mode") or DEFAULT_MODE[by],
                        repeat_audit=plan.get("repeat_audit") is True,
                        responsible_id=getattr(user, "id", None))
    return True, ()


def agreed_goal(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    goal = record.get("goal")
    return dict(goal) if isinstance(goal, Mapping) and goal else None
