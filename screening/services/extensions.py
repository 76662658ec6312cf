"""Extending a screening: a positive AUDIT-C goes on to the full AUDIT.

The stored AUDIT-C's result names the instrument it offers (frozen in its explanation when it
was scored: ``extension.to``). The extension asks only the items the AUDIT-C did not: the
answers to items 1-3 are carried over from the stored AUDIT-C (never from the form), and so
are the setting and the medication-and-falls checklist. One AUDIT is stored, linked to the
AUDIT-C (``extends_id``: one live extension per assessment), scored as any AUDIT (its skip
rules apply to the answers carried over), in one transaction with its access-log row
(services.assessments.submit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from ..core.catalogue import Catalogue
from ..core.instruments import Instrument
from ..core.scoring import asked_items
from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Assessment, Patient
from ..models.sealing import attach_key
from . import assessments, drafts, patient_reads, patients, provenance
from .assessment_errors import AssessmentError
from .medication_checklist import Checklist

_SOURCE = (
    select(Assessment, Patient)
    .join(Patient, Patient.id == Assessment.patient_id)
    .where(Assessment.uuid == bindparam("uuid"))
)


class ExtensionError(ValueError):
    """``code``: ``not_found``, ``not_offered`` (the result offers no extension), ``void``,
    ``changed`` (the items carried over differ from the instrument's now)."""

    def __init__(self, code: str, source_uuid: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.source_uuid = source_uuid


@dataclass(frozen=True)
class Source:
    """The stored assessment being extended, as the extension form needs it."""

    uuid: str
    instrument: str
    created_at: datetime
    record: Any  # patients.PatientRecord
    target: Instrument
    carried: dict[str, int | None]  # the answers carried over, by item id
    setting: str
    checklist: Checklist | None
    medication: frozenset[str]
    draft: dict[str, Any] | None = None

    @property
    def carried_items(self) -> tuple[str, ...]:
        return tuple(self.carried)

    def asked(self, answers: Mapping[str, Any] | None = None) -> frozenset[str]:
        """The target's items to ask now: those not carried over that the skip rules ask,
        given the carried answers (and any answered so far)."""
        known = {**(answers or {}), **{k: v for k, v in self.carried.items() if v is not None}}
        return asked_items(self.target, known) - set(self.carried)


def offered(context: Mapping[str, Any]) -> str | None:
    """The instrument a stored result offers to extend to (its frozen explanation), or None."""
    explanation = context.get("explanation") if isinstance(context, Mapping) else None
    extension = explanation.get("extension") if isinstance(explanation, Mapping) else None
    target = extension.get("to") if isinstance(extension, Mapping) else None
    return target if isinstance(target, str) else None


def _source(catalogue: Catalogue, row: Assessment, record: Any) -> Source:
    target_id = offered(row.context or {}) if row.voided_at is None else None
    if row.voided_at is not None:
        raise ExtensionError("void", row.uuid)
    if target_id is None:
        raise ExtensionError("not_offered", row.uuid)
    target = catalogue.instrument(target_id)
    given = catalogue.instrument_version(row.instrument, row.instrument_version)
    if given is None or len(given.items) >= len(target.items) or any(
            (own.id, own.texts, own.options) != (theirs.id, theirs.texts, theirs.options)
            for own, theirs in zip(given.items, target.items, strict=False)):
        raise ExtensionError("changed", row.uuid)
    stored = row.answers or {}
    carried = {item.id: stored.get(item.id) for item in given.items}
    context = row.context or {}
    recorded = context.get("checklist")
    checklist = None
    if isinstance(recorded, Mapping) and recorded.get("not_asked"):
        checklist = Checklist(not_asked=str(recorded["not_asked"]))
    elif isinstance(recorded, Mapping):
        checklist = Checklist(answers={str(k): bool(v) for k, v in
                                       (recorded.get("answers") or {}).items()})
    return Source(row.uuid, row.instrument, row.created_at, record, target, carried,
                  row.setting, checklist, frozenset(context.get("medication") or ()))


def start(db: Database, keyring: KeyRing, catalogue: Catalogue, user: Any,
          source_uuid: str) -> Source:
    """The extension form's data: the source opened (care relationship checked, the read
    logged as ``draft_view``), with this user's draft of the extension, if any. Raises
    ExtensionError, :class:`assessments.AlreadyExtended`, or patients.PatientError."""
    with patient_reads.reading(db) as session:
        found = session.execute(_SOURCE, {"uuid": str(source_uuid)}).first()
        if found is None:
            raise patients.PatientError("not_found")
        row, patient_row = found
        record = patient_reads.open_to_read(db, session, keyring, user, patient_row,
                                            action="draft_view", afresh=False).record
        attach_key(row, patients.data_key(keyring, patient_row))
        source = _source(catalogue, row, record)
        other = assessments.live_extension(session, row.id)
        if other is not None:
            raise assessments.AlreadyExtended(other)
        draft = drafts.load_draft(session, keyring, user, patient_row,
                                  assessments.extension_draft_key(row.uuid))
    return replace(source, draft=draft)


def extend(db: Database, keyring: KeyRing, catalogue: Catalogue, user: Any, *,
           source_uuid: str, answers: Mapping[str, Any], submission_token: str,
           lang: str = "nb", rule_set_id: str | None = None, now: datetime | None = None,
           book: provenance.Book | None = None) -> assessments.Submitted:
    """Store the extension: the carried answers and ``answers`` (the items asked now) scored
    as one assessment of the target instrument, linked to the source. An answer posted for
    an item carried over is refused (AssessmentError ``carried_answer``): those are changed
    only by going back to the source. Raises as :func:`assessments.submit` does, and
    ExtensionError or AlreadyExtended."""
    with patient_reads.reading(db) as session:
        found = session.execute(_SOURCE, {"uuid": str(source_uuid)}).first()
        if found is None:
            raise patients.PatientError("not_found")
        row, patient_row = found
        opened = patient_reads.check_and_open(db, session, keyring, user, patient_row)
        attach_key(row, patients.data_key(keyring, patient_row))
        try:
            source = _source(catalogue, row, opened.record)
        except ExtensionError:
            # The record was opened: its read is logged, as the refusal goes back.
            patient_reads.log_alone(db, keyring, opened.actor, "draft_view", patient_row.uuid,
                                    opened.grant.purpose)
            raise
        source_id, patient_id, patient_uuid = row.id, patient_row.id, patient_row.uuid
    if set(answers) & set(source.carried):
        raise AssessmentError("carried_answer")
    combined = {**{k: v for k, v in source.carried.items() if v is not None}, **answers}
    return assessments.submit(
        db, keyring, catalogue, user,
        patient_uuid=patient_uuid,
        instrument_id=source.target.id,
        answers=combined,
        setting=source.setting,
        medication=source.medication,
        checklist=source.checklist,
        submission_token=submission_token,
        lang=lang,
        rule_set_id=rule_set_id,
        now=now,
        book=book,
        extends=assessments.Extending(source_id, patient_id, source.uuid),
    )


def save_draft(db: Database, keyring: KeyRing, user: Any, source_uuid: str,
               answers: Mapping[str, Any]) -> None:
    """Keep the extension's answers in progress, apart from a draft of the whole instrument
    (the patient opened and the save logged as for any draft)."""
    session = db.read_session()
    try:
        patient_uuid = session.scalar(
            select(Patient.uuid).join(Assessment, Assessment.patient_id == Patient.id)
            .where(Assessment.uuid == str(source_uuid)))
    finally:
        session.close()
    if patient_uuid is None:
        raise patients.PatientError("not_found")
    drafts.save_draft(db, keyring, user, patient_uuid,
                      assessments.extension_draft_key(str(source_uuid)),
                      {k: v for k, v in answers.items()})
