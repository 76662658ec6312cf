"""Screening use cases: submit an assessment (scored by the core), read its result, and
keep drafts of answers in progress. One function, one transaction, access log included."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.catalogue import Catalogue
from ..core.engine import Evaluation, PatientFacts, evaluate
from ..core.scoring import score
from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_month
from ..models import Assessment, Draft, Patient, ReportFact
from ..models.base import new_uuid, utcnow
from ..models.sealing import attach_key
from . import access_log, patient_reads, patients
from .access_log import Actor
from .assessment_reads import AssessmentView, history, view

__all__ = ["AssessmentView", "history", "view"]  # read side, kept importable from here

SUBMISSION_TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)
# A second assessment of the same patient, instrument and clinician within this window is
# most likely the first one sent again (back, then send): it needs the user's confirmation.
REPEAT_WINDOW = timedelta(hours=2)
# Why the medication-and-falls checklist was not gone through (instead of its answers).
NOT_ASKED_REASONS = ("declined", "unable", "done_recently", "other")
MEDICATION_CHECKLIST = "medication_falls"


class AssessmentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class PossibleRepeat(Exception):
    """The same clinician stored an assessment of this patient with this instrument a short
    while ago (``REPEAT_WINDOW``): nothing is stored until she confirms that this is a new
    one (``confirm_repeat`` = the earlier one's uuid) or goes to the earlier result."""

    def __init__(self, uuid: str, created_at: datetime, total: int, same_answers: bool) -> None:
        super().__init__("possible repeat")
        self.uuid = uuid
        self.created_at = created_at
        self.total = total
        self.same_answers = same_answers


class ChecklistRequired(Exception):
    """An AUDIT of a patient at or above the rule set's older age, without the
    medication-and-falls checklist answered in full or marked as not asked with a reason.
    ``missing`` names the items not answered."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__("checklist required")
        self.missing = missing


@dataclass(frozen=True)
class Checklist:
    """The medication-and-falls checklist as the clinician filled it in: ``answers`` (item
    id -> True for yes, False for no) of the items answered, or ``not_asked`` with a reason
    (one of ``NOT_ASKED_REASONS``)."""

    answers: Mapping[str, bool] = field(default_factory=dict)
    not_asked: str | None = None

    @property
    def yes(self) -> frozenset[str]:
        return frozenset(item for item, answer in self.answers.items() if answer)


def age_band(age: int) -> str:
    if age < 65:
        return "under_65"
    if age < 75:
        return "65_74"
    if age < 85:
        return "75_84"
    return "85_plus"


def actor_for(user: Any, unit_id: int | None = None) -> Actor:
    return Actor(user.id, user.role, unit_id)


@dataclass(frozen=True)
class Submitted:
    uuid: str
    patient_uuid: str
    duplicate: bool


def submit(
    db: Database,
    keyring: KeyRing,
    catalogue: Catalogue,
    user: Any,
    *,
    patient_uuid: str,
    instrument_id: str,
    answers: Mapping[str, int | None],
    setting: str,
    medication: frozenset[str] = frozenset(),
    submission_token: str,
    lang: str = "nb",
    rule_set_id: str | None = None,
    now: datetime | None = None,
    checklist: Checklist | None = None,
    confirm_repeat: str | None = None,
) -> Submitted:
    """Score and store one assessment. The same submission token stores it once: a double
    click, a resend or concurrent posts return the first one. Raises the core's AnswerError
    for answers that cannot be scored (nothing is stored then).

    ``checklist`` is the medication-and-falls checklist as filled in on the form (its yes
    items replace ``medication``): for an AUDIT of a patient at or above the rule set's
    older age it must be answered in full or marked as not asked with a reason, else
    :class:`ChecklistRequired`. Callers that pass only ``medication`` (commands, demo data)
    state the yes items themselves. A second assessment by the same clinician of the same
    patient and instrument within ``REPEAT_WINDOW`` raises :class:`PossibleRepeat` unless
    ``confirm_repeat`` names the earlier one."""
    if (
        not (20 <= len(submission_token) <= 64)
        or not submission_token.replace("-", "").replace("_", "").isalnum()
    ):
        raise AssessmentError("bad_token")
    score(catalogue.instrument(instrument_id), answers)  # reject bad answers before any write
    if checklist is not None:
        _check_checklist_values(catalogue, checklist)
        medication = checklist.yes
    try:
        return _submit(
            db,
            keyring,
            catalogue,
            user,
            patient_uuid,
            instrument_id,
            answers,
            setting,
            medication,
            submission_token,
            lang,
            rule_set_id,
            now or utcnow(),
            checklist,
            confirm_repeat,
        )
    except IntegrityError:
        # A concurrent post with the same token won the race: return what it stored. No
        # such assessment: the patient was erased between the read and the write.
        existing = _by_token(db, submission_token)
        if existing is None:
            with patient_reads.reading(db) as session:
                patients.find_patient(session, patient_uuid)  # PatientError if erased
            raise
        if existing.patient_uuid != patient_uuid:
            raise AssessmentError("bad_token") from None
        return existing


# Statements of the submission path, built once (building one costs more than running it).
_STORED = (
    select(Assessment.uuid, Patient.uuid)
    .join(Patient, Patient.id == Assessment.patient_id)
    .where(Assessment.submission_token == bindparam("token"))
)
_RECENT = (
    select(Assessment.uuid, Assessment.created_at, Assessment.total, Assessment.answers_sealed,
           Assessment.id)
    .where(Assessment.patient_id == bindparam("patient"),
           Assessment.instrument == bindparam("instrument"),
           Assessment.created_by == bindparam("staff"),
           Assessment.created_at >= bindparam("since"),
           Assessment.voided_at.is_(None),
           # the same form stored meanwhile by a concurrent send is not a repeat: it is the
           # one this send returns (the token's unique index decides)
           Assessment.submission_token != bindparam("token"))
    .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    .limit(1)
)
_DRAFT = select(Draft).where(
    Draft.staff_id == bindparam("staff"),
    Draft.patient_id == bindparam("patient"),
    Draft.instrument == bindparam("instrument"),
)


_FACTS: Table = ReportFact.__table__  # type: ignore[assignment]
_ASSESSMENTS: Table = Assessment.__table__  # type: ignore[assignment]
_DRAFTS: Table = Draft.__table__  # type: ignore[assignment]
_INSERT_FACT = insert(_FACTS).returning(_FACTS.c.id)
_INSERT_ASSESSMENT = insert(_ASSESSMENTS)
_DELETE_DRAFT = delete(_DRAFTS).where(
    _DRAFTS.c.staff_id == bindparam("staff"),
    _DRAFTS.c.patient_id == bindparam("patient"),
    _DRAFTS.c.instrument == bindparam("instrument"),
)


def _set_columns(row: Assessment) -> dict[str, Any]:
    """The column values set on a transient row (the others take their defaults)."""
    return {column.name: row.__dict__[column.key] for column in _ASSESSMENTS.columns
            if column.key in row.__dict__}


def _stored(session: Session, token: str) -> Submitted | None:
    """The assessment already stored under a submission token, if any."""
    row = session.execute(_STORED, {"token": token}).first()
    return Submitted(row[0], row[1], True) if row else None


def _by_token(db: Database, token: str) -> Submitted | None:
    session = db.read_session()
    try:
        return _stored(session, token)
    finally:
        session.close()


def _submit(
    db: Database,
    keyring: KeyRing,
    catalogue: Catalogue,
    user: Any,
    patient_uuid: str,
    instrument_id: str,
    answers: Mapping[str, int | None],
    setting: str,
    medication: frozenset[str],
    token: str,
    lang: str,
    rule_set_id: str | None,
    now: datetime,
    checklist: Checklist | None,
    confirm_repeat: str | None,
) -> Submitted:
    # Read, check, open, score and seal first; then one short write transaction stores the
    # assessment, its report fact and its access-log row (services.patient_reads).
    with patient_reads.reading(db) as session:
        found = _stored(session, token)
        if found is not None:
            if found.patient_uuid != patient_uuid:
                raise AssessmentError("bad_token")
            return found
        opened = patient_reads.check_and_open(
            db, session, keyring, user, patients.find_patient(session, patient_uuid)
        )
        record = opened.record
        if checklist is not None and instrument_id == "audit":
            _require_checklist(catalogue, rule_set_id, record.age, checklist)
        _refuse_unconfirmed_repeat(session, keyring, opened.row, user, instrument_id, answers,
                                   now, token, confirm_repeat)
    facts = PatientFacts(sex=record.sex, age=record.age, setting=setting, medication=medication)
    evaluation = evaluate(catalogue, instrument_id, answers, facts, rule_set_id)
    instrument = catalogue.instrument(instrument_id)
    fact = {
        "month": local_month(now),
        "age_band": age_band(record.age),
        "sex": record.sex,
        "unit_id": record.unit_id,
        "setting": setting,
        "instrument": instrument_id,
        "zone": evaluation.zone.id if evaluation.zone else None,
        "level": evaluation.level,
        "positive": evaluation.positive,
        "follow_up": "none",
        **{f"pw_{pathway.id}": True for pathway in evaluation.pathways},
    }
    row = Assessment(
        uuid=new_uuid(),
        patient_id=record.id,
        submission_token=token,
        instrument=instrument_id,
        instrument_version=str(evaluation.instrument_version),
        item_text_version=_text_version(instrument, lang),
        rule_set=evaluation.rule_set_id,
        rule_set_version=str(evaluation.rule_set_version),
        total=evaluation.total,
        zone=fact["zone"],
        level=evaluation.level,
        flags=json.dumps([f.id for f in evaluation.flags]),
        pathways=json.dumps([p.id for p in evaluation.pathways]),
        follow_up_weeks=evaluation.follow_up_weeks,
        setting=setting,
        unit_id=record.unit_id,
        created_by=user.id,
        created_at=now,
    )
    # A transient row (never added to the session): its Sealed properties seal the answers
    # under the patient's key; its column values then go out in one Core INSERT.
    attach_key(row, patients.data_key(keyring, opened.row))
    row.answers = evaluation.answers
    context: dict[str, Any] = {
        "age": record.age,
        "sex": record.sex,
        "setting": setting,
        "medication": sorted(medication),
        "explanation": explanation(evaluation),
    }
    if checklist is not None:
        context["checklist"] = (
            {"not_asked": checklist.not_asked} if checklist.not_asked
            else {"answers": dict(sorted(checklist.answers.items()))})
    row.context = context
    # Core statements, not ORM objects: the write transaction holds the lock for less time
    # (benchmarks/README.md). A reused token fails the INSERT with IntegrityError (submit()).
    with db.write() as session:
        fact_id = session.execute(_INSERT_FACT, fact).scalar_one()
        session.execute(_INSERT_ASSESSMENT, {**_set_columns(row), "fact_id": fact_id})
        session.execute(_DELETE_DRAFT, {"staff": user.id, "patient": record.id,
                                        "instrument": instrument_id})
        access_log.record(session, keyring, opened.actor, "assessment_create", record.uuid,
                          purpose=opened.grant.purpose)
    return Submitted(row.uuid, patient_uuid, False)


def _check_checklist_values(catalogue: Catalogue, checklist: Checklist) -> None:
    items = {item.id for item in catalogue.instrument(MEDICATION_CHECKLIST).items}
    if (set(checklist.answers) - items
            or any(not isinstance(v, bool) for v in checklist.answers.values())
            or (checklist.not_asked is not None
                and (checklist.not_asked not in NOT_ASKED_REASONS or checklist.answers))):
        raise AssessmentError("bad_checklist")


def _require_checklist(catalogue: Catalogue, rule_set_id: str | None, age: int,
                       checklist: Checklist) -> None:
    """From the rule set's older age the checklist is part of the AUDIT: every item answered,
    or the whole checklist marked as not asked with a reason."""
    rule_set = catalogue.rule_set(rule_set_id) if rule_set_id else catalogue.default_rule_set
    if not rule_set.is_older(age) or checklist.not_asked:
        return
    missing = tuple(item.id for item in catalogue.instrument(MEDICATION_CHECKLIST).items
                    if item.id not in checklist.answers)
    if missing:
        raise ChecklistRequired(missing)


def _refuse_unconfirmed_repeat(session: Session, keyring: KeyRing, patient_row: Patient,
                               user: Any, instrument_id: str,
                               answers: Mapping[str, int | None], now: datetime,
                               token: str, confirm_repeat: str | None) -> None:
    found = session.execute(_RECENT, {"patient": patient_row.id, "instrument": instrument_id,
                                      "staff": user.id, "since": now - REPEAT_WINDOW,
                                      "token": token}).first()
    if found is None or (confirm_repeat and confirm_repeat == found.uuid):
        return
    earlier = Assessment(uuid=found.uuid, answers_sealed=found.answers_sealed)
    attach_key(earlier, patients.data_key(keyring, patient_row))
    given = {k: v for k, v in answers.items() if v is not None}
    stored = {k: v for k, v in (earlier.answers or {}).items() if v is not None}
    raise PossibleRepeat(found.uuid, found.created_at, found.total, given == stored)


def _text_version(instrument: Any, lang: str) -> str:
    """The version id of the item texts the patient was asked in."""
    version = instrument.languages.get(lang) or instrument.languages.get("nb")
    return str(version.item_text_version) if version else "-"


def explanation(evaluation: Evaluation) -> dict[str, Any]:
    """What the result page shows, frozen at submission (a later rule-set version never
    rewrites a stored result): level steps, flags and pathways with reasons in both
    languages, and the follow-up proposed."""

    def both(text: Any) -> dict[str, str]:
        return {"nb": text.nb, "en": text.en}

    follow_up = evaluation.follow_up
    return {
        "subscores": dict(evaluation.subscores),
        "level_name": both(evaluation.level_name) if evaluation.level_name else None,
        "level_steps": [
            {"rule": s.rule, "before": s.before, "after": s.after, "reason": both(s.reason)}
            for s in evaluation.level_steps
        ],
        "flags": [{"id": f.id, "reason": both(f.reason)} for f in evaluation.flags],
        "pathways": [{"id": p.id, "reason": both(p.reason)} for p in evaluation.pathways],
        "follow_up": None
        if follow_up is None
        else {
            "weeks": follow_up.weeks,
            "months": follow_up.months,
            "reason": both(follow_up.reason),
        },
        "positive": evaluation.positive,
        "dependence": evaluation.dependence,
    }


# ------------------------------------------------------------------------------- drafts


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


def open_drafts(session: Session, user: Any) -> list[tuple[str, str, datetime]]:
    """(patient uuid, instrument, updated) of the user's drafts, newest first."""
    rows = session.execute(
        select(Patient.uuid, Draft.instrument, Draft.updated_at)
        .join(Patient, Patient.id == Draft.patient_id)
        .where(Draft.staff_id == user.id)
        .order_by(Draft.updated_at.desc())
    )
    return [(r[0], r[1], r[2]) for r in rows]
