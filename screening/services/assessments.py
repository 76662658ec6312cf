"""Screening use cases: submit an assessment (scored by the core), read its result, and
keep drafts of answers in progress. One function, one transaction, access log included."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.catalogue import Catalogue
from ..core.engine import Evaluation, PatientFacts, evaluate
from ..core.fingerprint import FileFingerprint
from ..core.rulesets import RuleSet
from ..core.scoring import score
from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_month
from ..models import Assessment, Draft, Patient, ReportFact
from ..models.base import new_uuid, utcnow
from ..models.sealing import attach_key
from . import access_log, patient_reads, patients, provenance
from .access_log import Actor
from .assessment_errors import AssessmentError
from .assessment_reads import AssessmentView, history, view
from .drafts import load_draft, save_draft
from .medication_checklist import (
    MEDICATION_CHECKLIST,
    NOT_ASKED_REASONS,
    WITH_CHECKLIST,
    Checklist,
    ChecklistRequired,
    check_values,
    require_checklist,
)

# The read side, the drafts and the checklist, kept importable from here.
__all__ = ["MEDICATION_CHECKLIST", "NOT_ASKED_REASONS", "AssessmentError", "AssessmentView",
           "Checklist",
           "ChecklistRequired", "history", "load_draft", "save_draft", "view"]

SUBMISSION_TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)
# A second assessment of the same patient, instrument and clinician within this window is
# most likely the first one sent again (back, then send): it needs the user's confirmation.
REPEAT_WINDOW = timedelta(hours=2)
# Why the medication-and-falls checklist was not gone through (instead of its answers).


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


@dataclass(frozen=True)
class Extending:
    """The stored assessment a new one extends (services.extensions): its row id and uuid,
    and the patient it belongs to (the new one must be of the same patient)."""

    assessment_id: int
    patient_id: int
    uuid: str


def extension_draft_key(source_uuid: str) -> str:
    """The draft of an extension is kept apart from a draft of the whole instrument (the
    key fits the drafts' 32 characters: 100 bits of the source's random uuid)."""
    return "extend:" + source_uuid.replace("-", "")[:25]


class AlreadyExtended(Exception):
    """The assessment already has a live extension (``uuid``): one is enough."""

    def __init__(self, uuid: str) -> None:
        super().__init__("already extended")
        self.uuid = uuid


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
    book: provenance.Book | None = None,
    extends: Extending | None = None,
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
    ``confirm_repeat`` names the earlier one.

    The result keeps the fingerprints of the instrument and rule-set files that produced
    it; a file not yet on record is recorded in the same transaction (``book``: what this
    process knows to be recorded; services.provenance), and one whose record differs raises
    :class:`provenance.ProvenanceError` (nothing is stored). ``extends`` links the result to
    the assessment it extends (services.extensions: :class:`AlreadyExtended` when that one
    has a live extension already)."""
    if (
        not (20 <= len(submission_token) <= 64)
        or not submission_token.replace("-", "").replace("_", "").isalnum()
    ):
        raise AssessmentError("bad_token")
    score(catalogue.instrument(instrument_id), answers)  # reject bad answers before any write
    if checklist is not None:
        check_values(catalogue, checklist)
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
            book if book is not None else provenance.book_for(db),
            extends,
        )
    except IntegrityError:
        # A concurrent post with the same token won the race: return what it stored. No
        # such assessment: the patient was erased between the read and the write, or a
        # concurrent extension of the same assessment was stored first.
        existing = _by_token(db, submission_token)
        if existing is None:
            if extends is not None:
                other = _live_extension(db, extends.assessment_id)
                if other is not None:
                    raise AlreadyExtended(other) from None
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


_LIVE_EXTENSION = select(Assessment.uuid).where(Assessment.extends_id == bindparam("id"),
                                                Assessment.voided_at.is_(None))


def live_extension(session: Session, assessment_id: int) -> str | None:
    """The uuid of the assessment (not voided) that extends this one, if any."""
    found = session.scalar(_LIVE_EXTENSION, {"id": assessment_id})
    return None if found is None else str(found)


def _live_extension(db: Database, assessment_id: int) -> str | None:
    """:func:`live_extension` in a read of its own, after a write lost a race for it."""
    session = db.read_session()
    try:
        found = session.scalar(_LIVE_EXTENSION, {"id": assessment_id})
    finally:
        session.close()
    return None if found is None else str(found)


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
    book: provenance.Book,
    extends: Extending | None,
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
        if checklist is not None and instrument_id in WITH_CHECKLIST:
            require_checklist(catalogue, rule_set_id, record.age, checklist)
        if extends is None:
            _refuse_unconfirmed_repeat(session, keyring, opened.row, user, instrument_id,
                                       answers, now, confirm_repeat, token)
        elif extends.patient_id != record.id:
            raise AssessmentError("bad_extension")
        else:
            other = live_extension(session, extends.assessment_id)
            if other is not None:
                raise AlreadyExtended(other)
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
        "is_extension": extends is not None,
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
        instrument_fingerprint=evaluation.instrument_fingerprint or None,
        rule_set_fingerprint=evaluation.rule_set_fingerprint or None,
        extends_id=None if extends is None else extends.assessment_id,
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
        "explanation": explanation(evaluation, catalogue.rule_set(evaluation.rule_set_id)),
    }
    if checklist is not None:
        context["checklist"] = (
            {"not_asked": checklist.not_asked} if checklist.not_asked
            else {"answers": dict(sorted(checklist.answers.items()))})
    row.context = context
    # Core statements, not ORM objects: the write transaction holds the lock for less time
    # (benchmarks/README.md). A reused token fails the INSERT with IntegrityError (submit()).
    files = _files_of(catalogue, evaluation)
    with db.write() as session:
        recorded = provenance.ensure(db, session, book, files, now)
        fact_id = session.execute(_INSERT_FACT, fact).scalar_one()
        session.execute(_INSERT_ASSESSMENT, {**_set_columns(row), "fact_id": fact_id})
        session.execute(_DELETE_DRAFT, {"staff": user.id, "patient": record.id,
                                        "instrument": instrument_id if extends is None
                                        else extension_draft_key(extends.uuid)})
        access_log.record(session, keyring, opened.actor, "assessment_create", record.uuid,
                          purpose=opened.grant.purpose)
    book.mark(recorded)
    return Submitted(row.uuid, patient_uuid, False)


def _files_of(catalogue: Catalogue, evaluation: Evaluation) -> tuple[FileFingerprint, ...]:
    """The fingerprints of the instrument and rule-set files that produced ``evaluation``."""
    instrument = catalogue.instrument(evaluation.instrument_id)
    rule_set = catalogue.rule_set(evaluation.rule_set_id)
    return (FileFingerprint("instrument", instrument.id, instrument.version,
                            instrument.fingerprint, instrument.source_file),
            FileFingerprint("rule_set", rule_set.id, rule_set.version, rule_set.fingerprint,
                            rule_set.source_file))


def _refuse_unconfirmed_repeat(session: Session, keyring: KeyRing, patient_row: Patient,
                               user: Any, instrument_id: str,
                               answers: Mapping[str, int | None], now: datetime,
                               confirm_repeat: str | None, token: str) -> None:
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


def explanation(evaluation: Evaluation, rule_set: RuleSet | None = None) -> dict[str, Any]:
    """What the result page shows, frozen at submission (a later rule-set version never
    rewrites a stored result): level steps, flags and pathways with reasons in both
    languages, the follow-up proposed, the extension offered (AUDIT-C positive: the full
    AUDIT) and the rule set's title."""

    def both(text: Any) -> dict[str, str]:
        return {"nb": text.nb, "en": text.en}

    follow_up = evaluation.follow_up
    extension = evaluation.extension
    return {
        "rule_set_title": None if rule_set is None else both(rule_set.titles),
        "extension": None if extension is None else {
            "to": extension.instrument_id, "reason": both(extension.reason)},
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
