"""Patients: registration, opening a record, erasure.

Every identifying field is sealed under the patient's own data key (design.md §6); the
fødselsnummer is found again through the keyed blind index only, the name and birth date
through the keyed search terms (``services.search_terms``, kept in the same transaction);
finding a patient is ``services.patient_search``. Each function that touches a patient
writes one access-log row in the same transaction as its work.

Refusals inside :func:`open_patient` (no care relationship, a field that does not open) write
their access-log row in the caller's transaction and raise
:class:`~screening.services.care.AccessDenied` or :class:`~screening.models.sealing.Undecryptable`;
both are marked ``commit_anyway``, so ``Database.write`` commits that row although the block
fails. Call :func:`open_patient` before writing anything else in the transaction: whatever was
written before it would be committed with the log row.

No exception message, log line or URL made here contains a name, a fødselsnummer, a birth
date or any other identifying value; a patient is named by its random uuid only.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.no import fodselsnummer

from screening.crypto.fields import (
    OpenError,
    new_data_key,
    wrap_data_key,
)
from screening.crypto.hashing import blind_index
from screening.crypto.keys import KeyRing
from screening.database import WRITE_OPTION, Database
from screening.localtime import local_today
from screening.models import Patient, Unit
from screening.models.base import new_uuid
from screening.models.sealing import Undecryptable, attach_key
from screening.models.staff import CLINICAL_ROLES
from screening.services import access_log, search_terms
from screening.services.access_log import SYSTEM, Actor
from screening.services.care import AccessDenied, Grant, grant_for
from screening.services.live_keys import current_keyring, unwrap_key

__all__ = [
    "FnrInfo",
    "PatientError",
    "PatientRecord",
    "User",
    "age_on",
    "canonical_uuid",
    "checked_open",
    "data_key",
    "erase",
    "find_patient",
    "actor_for",
    "NumberTaken",
    "key_context",
    "load_patient",
    "open_patient",
    "opened_record",
    "register",
    "unlock",
    "unwrap_key",
    "validate_fnr",
    "validate_name",
]

log = logging.getLogger("screening.services.patients")

PATIENT_ERRORS = ("invalid_fnr", "duplicate_fnr", "fnr_unavailable", "bad_name", "not_found",
                  "unknown_unit")
NAME_MAX = 200
_FNR_SHAPE = re.compile(r"[0-9]{11}")
# Separators a person may type or paste inside a fødselsnummer: space, no-break space, "-".
_FNR_SEPARATORS = str.maketrans("", "", " \u00a0-")


class PatientError(ValueError):
    """A request about patients that cannot be carried out; ``code`` names why (one of
    ``PATIENT_ERRORS``). The message is the code only: never a name or a number."""

    def __init__(self, code: str) -> None:
        if code not in PATIENT_ERRORS:
            raise ValueError(f"unknown patient error code {code!r}")
        super().__init__(code)
        self.code = code


class NumberTaken(PatientError):
    """The number belongs to a registered patient: ``duplicate_fnr`` when the user may open
    that patient, else ``fnr_unavailable`` (which must read like "not in your units"). The
    refusal's access-log row, under that patient's pseudonym, is committed."""

    commit_anyway = True


class User(Protocol):
    """A signed-in clinician as the services see it (``accounts.CurrentUser``, ``Staff``)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def unit_ids(self) -> frozenset[int]: ...


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class FnrInfo:
    """A valid fødselsnummer or D-number and what it tells."""

    normalised: str = field(repr=False)  # 11 digits
    birth_date: date = field(repr=False)
    sex: str  # "male" | "female"
    d_number: bool


def validate_fnr(value: object) -> FnrInfo:
    """Check a fødselsnummer or D-number with python-stdnum and derive birth date and sex.

    Accepted: 11 digits, optionally with spaces (also no-break spaces) or ``-`` between
    them and around them. A D-number (first digit raised by 4) is accepted; its birth date is
    the day minus 40. Refused with ``PatientError("invalid_fnr")``: any other character,
    a wrong length or check digit, an impossible or future birth date, H-numbers (month
    raised by 40: institution-local help numbers, not unique across the country) and
    FH-numbers (first digit 8 or 9).
    """
    if not isinstance(value, str):
        raise PatientError("invalid_fnr")
    digits = value.strip().translate(_FNR_SEPARATORS)
    if not _FNR_SHAPE.fullmatch(digits):
        raise PatientError("invalid_fnr")
    day, month = int(digits[0:2]), int(digits[2:4])
    if day >= 80 or not 1 <= month <= 12:  # FH-number, H-number, or no month at all
        raise PatientError("invalid_fnr")
    try:
        normalised = fodselsnummer.validate(digits)
        birth_date = fodselsnummer.get_birth_date(normalised)
        gender = fodselsnummer.get_gender(normalised)
    except (StdnumValidationError, ValueError):
        raise PatientError("invalid_fnr") from None
    if normalised != digits:  # stdnum accepts more separators than we do
        raise PatientError("invalid_fnr")
    return FnrInfo(normalised=normalised, birth_date=birth_date,
                   sex="male" if gender == "M" else "female", d_number=day > 40)


def validate_name(value: object) -> str:
    """The name to store: NFC-normalised, stripped, 1–200 characters, no control, format,
    private-use or unassigned characters and no line or paragraph separators (they could
    break a page or a printed letter, or reverse text). ``PatientError("bad_name")``."""
    if not isinstance(value, str):
        raise PatientError("bad_name")
    name = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise PatientError("bad_name")
    for char in name:
        category = unicodedata.category(char)
        if category[0] == "C" or category in ("Zl", "Zp"):
            raise PatientError("bad_name")
    return name


def canonical_uuid(value: object) -> str | None:
    """The canonical lower-case 8-4-4-4-12 form of a uuid, or None if it is not one."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        parsed = uuid_module.UUID(value)
    except ValueError:
        return None
    return str(parsed)


def age_on(birth_date: date, today: date) -> int:
    """Whole years completed on ``today``."""
    return today.year - birth_date.year - ((today.month, today.day)
                                           < (birth_date.month, birth_date.day))


# --------------------------------------------------------------------------- data keys


def key_context(patient_uuid: str) -> str:
    """The associated-data name a patient's data key is wrapped with: the patient's uuid.
    Key rotation uses the same function (``services.key_rotation.WRAPPED_KEYS``)."""
    return patient_uuid


def data_key(keyring: KeyRing, patient: Patient) -> bytes:
    """The patient's data key, unwrapped; :class:`Undecryptable` if it does not open."""
    try:
        return unwrap_key(keyring, patient.data_key_wrapped, key_context(patient.uuid))
    except OpenError:
        raise Undecryptable("patients", "data_key") from None


def unlock(row: Any, key: bytes) -> Any:
    """Attach a patient's data key to a row (patient, assessment, draft, conversation,
    follow-up, break-the-glass grant) so that its sealed properties can be read and set."""
    return attach_key(row, key)


# --------------------------------------------------------------------------- use cases


def actor_for(actor: Actor | User, unit_id: int | None) -> Actor:
    if isinstance(actor, Actor):
        return actor
    return Actor(actor.id, actor.role, unit_id)


def register(db: Database, keyring: KeyRing, actor: Actor | User, *, fnr: str, name: str,
             unit_id: int) -> str:
    """Register a patient in a unit; return the new patient's uuid.

    ``actor`` is a signed-in clinician (who must belong to ``unit_id``, else
    :class:`AccessDenied`) or an :class:`~screening.services.access_log.Actor` (operator
    commands, demo data, tests), which is trusted as given. One write transaction: data key,
    wrapped under the current KEK with the patient uuid; blind index; sealed fnr, name, birth
    date and sex; the name-search terms; access-log row ``patient_register``/``registration``.

    Errors (``PatientError``): ``invalid_fnr``, ``bad_name``, ``unknown_unit`` (no such
    active unit), ``duplicate_fnr`` (the number is registered already; nothing is stored,
    also when two registrations race), or for a clinician without a care relationship to
    the patient who has the number, ``fnr_unavailable`` (see :func:`refuse_if_taken`).
    """
    info = validate_fnr(fnr)
    clean_name = validate_name(name)
    if not isinstance(actor, Actor) and (actor.role not in CLINICAL_ROLES
                                         or unit_id not in actor.unit_ids):
        raise AccessDenied("not a member of that unit")
    index = blind_index(keyring, info.normalised)
    try:
        with db.write() as session:
            unit = session.get(Unit, unit_id) if isinstance(unit_id, int) else None
            if unit is None or not unit.active:
                raise PatientError("unknown_unit")
            refuse_if_taken(session, keyring, actor, index)
            patient = Patient(uuid=new_uuid(), fnr_index=index, unit_id=unit_id)
            key = new_data_key()
            patient.data_key_wrapped = wrap_data_key(
                current_keyring(keyring), key, key_context(patient.uuid))
            unlock(patient, key)
            patient.fnr = info.normalised
            patient.name = clean_name
            patient.birth_date = info.birth_date.isoformat()
            patient.sex = info.sex
            session.add(patient)
            session.flush()
            search_terms.index_patient(session, keyring, patient.id, unit_id, clean_name,
                                       info.birth_date)
            access_log.record(session, keyring, actor_for(actor, unit_id), "patient_register",
                              patient.uuid, purpose="registration")
            patient_uuid = patient.uuid
    except IntegrityError:
        # A concurrent registration of the same number won the race (PostgreSQL; SQLite
        # serialises writers). The parameters of the error are not shown anywhere.
        if _index_exists(db, index):
            if not isinstance(actor, Actor):  # answered and logged as any refusal
                with db.write() as session:
                    refuse_if_taken(session, keyring, actor, index)
            raise PatientError("duplicate_fnr") from None
        raise
    log.info("patient registered in unit %s", unit_id)
    return patient_uuid


def refuse_if_taken(session: Session, keyring: KeyRing, actor: Actor | User, index: bytes,
                    but: int | None = None) -> None:
    """Raise :class:`NumberTaken` if a patient (other than ``but``) has this blind index.
    A signed-in clinician's attempt is logged as ``duplicate_refused`` under that
    patient's pseudonym (the patient can see who tried), and whether it is told
    ``duplicate_fnr`` depends on the care relationship: without one the answer is the
    neutral ``fnr_unavailable``. An operator's :class:`Actor` is trusted and not logged."""
    taken = session.scalar(select(Patient).where(Patient.fnr_index == index))
    if taken is None or taken.id == but:
        return
    if isinstance(actor, Actor):
        raise NumberTaken("duplicate_fnr")
    grant = grant_for(session, actor, taken)
    access_log.record(session, keyring, actor_for(actor, grant.unit_id if grant else None),
                      "duplicate_refused", taken.uuid, purpose="registration",
                      outcome="denied")
    raise NumberTaken("duplicate_fnr" if grant is not None else "fnr_unavailable")


def _index_exists(db: Database, index: bytes) -> bool:
    session = db.read_session()
    try:
        return session.scalar(select(Patient.id).where(Patient.fnr_index == index)) is not None
    finally:
        session.close()


@dataclass(frozen=True)
class PatientRecord:
    """An opened patient. Identifying fields are left out of ``repr``."""

    uuid: str
    id: int
    name: str = field(repr=False)
    fnr: str = field(repr=False)  # normalised, 11 digits
    birth_date: date = field(repr=False)
    sex: str  # "male" | "female"
    age: int
    unit_id: int


def _require_write(session: Session) -> None:
    bind = session.get_bind()
    if not bind.get_execution_options().get(WRITE_OPTION) or not session.in_transaction():
        raise RuntimeError("open_patient must be called inside `with db.write() as session:`")


def open_patient(session: Session, keyring: KeyRing, user: User, patient_uuid: str,
                 action: str = "patient_view", *, today: date | None = None) -> PatientRecord:
    """Open a patient for ``user`` inside the caller's write transaction and log ``action``.
    Call it first in the transaction (see the module's docstring).

    * unknown or malformed uuid: ``PatientError("not_found")`` (nothing logged, nothing
      rolled back);
    * no care relationship (:func:`services.care.grant_for`): ``access_denied``/``denied`` is
      logged and :class:`AccessDenied` raised (``Database.write`` commits the log row);
    * a field (or the data key) that does not open: ``undecryptable``/``error`` logged and
      :class:`Undecryptable` raised (the log row is committed likewise);
    * otherwise ``action`` (default ``patient_view``) is logged with outcome ``ok`` and the
      grant's purpose (``care`` or ``break_glass``) in the caller's transaction.

    The :class:`~screening.models.Patient` row itself, with its data key attached, is
    available to services through :func:`load_patient`.
    """
    record, _row = _open(session, keyring, user, patient_uuid, action, today)
    return record


def load_patient(session: Session, keyring: KeyRing, user: User, patient_uuid: str,
                 action: str, *, today: date | None = None) -> tuple[PatientRecord, Patient]:
    """As :func:`open_patient`, and also the unlocked :class:`Patient` row, whose data key
    (``data_key(keyring, row)``, or already attached) seals the patient's other records."""
    return _open(session, keyring, user, patient_uuid, action, today)


def _open(session: Session, keyring: KeyRing, user: User, patient_uuid: str, action: str,
          today: date | None) -> tuple[PatientRecord, Patient]:
    _require_write(session)
    patient = find_patient(session, patient_uuid)
    return _open_found(session, keyring, user, patient, action, today), patient


_BY_UUID = select(Patient).where(Patient.uuid == bindparam("uuid"))


def find_patient(session: Session, patient_uuid: str) -> Patient:
    """The patient row of a uuid; ``PatientError("not_found")`` if malformed or unknown."""
    canonical = canonical_uuid(patient_uuid)
    patient = None if canonical is None else session.scalar(_BY_UUID, {"uuid": canonical})
    if patient is None:
        raise PatientError("not_found")
    return patient


def _open_found(session: Session, keyring: KeyRing, user: User, patient: Patient,
                action: str, today: date | None) -> PatientRecord:
    def refuse(actor: Actor, refusal: str, purpose: str, outcome: str) -> None:
        # The exception raised next is marked ``commit_anyway`` (AccessDenied,
        # Undecryptable): ``Database.write`` commits this row although the block fails.
        access_log.record(session, keyring, actor, refusal, patient.uuid, purpose=purpose,
                          outcome=outcome)

    record, actor, grant = checked_open(session, keyring, user, patient, refuse, today)
    access_log.record(session, keyring, actor, action, patient.uuid, purpose=grant.purpose)
    return record


Refuse = Callable[[Actor, str, str, str], None]  # (actor, action, purpose, outcome)


def checked_open(session: Session, keyring: KeyRing, user: User, patient: Patient,
                 refuse: Refuse, today: date | None = None
                 ) -> tuple[PatientRecord, Actor, Grant]:
    """Check the care relationship and open ``patient``; nothing is logged when it succeeds.
    A refusal (``access_denied``/``denied``) or an unreadable field (``undecryptable``/
    ``error``) is handed to ``refuse`` to log, then :class:`AccessDenied` or
    :class:`Undecryptable` raised. The one place that decides who opens a patient."""
    grant = grant_for(session, user, patient)
    if grant is None:
        refuse(actor_for(user, None), "access_denied", "care", "denied")
        raise AccessDenied("no care relationship")
    actor = actor_for(user, grant.unit_id)
    try:
        record = opened_record(keyring, patient, today)
    except Undecryptable:
        refuse(actor, "undecryptable", grant.purpose, "error")
        raise
    return record, actor, grant


def opened_record(keyring: KeyRing, patient: Patient, today: date | None = None
                  ) -> PatientRecord:
    """The patient's fields, opened (the data key is attached to ``patient``); nothing is
    checked or logged here. :class:`Undecryptable` (logged as a warning naming the field,
    never its bytes) if one does not open."""
    try:
        unlock(patient, data_key(keyring, patient))
        birth_date = _opened_date(patient.birth_date)
        sex = patient.sex
        if sex not in ("male", "female"):
            raise Undecryptable("patients", "sex")
        return PatientRecord(
            uuid=patient.uuid, id=patient.id, name=patient.name, fnr=patient.fnr,
            birth_date=birth_date, sex=sex, age=age_on(birth_date, today or local_today()),
            unit_id=patient.unit_id)
    except Undecryptable as err:
        log.warning("undecryptable field %s.%s", err.table, err.column)
        raise


def _opened_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise Undecryptable("patients", "birth_date") from None


def erase(db: Database, keyring: KeyRing, patient_uuid: str, actor: Actor = SYSTEM) -> None:
    """Erase a patient (crypto-shredding): delete the patient row, and with it the wrapped
    data key, the blind index and every sealed field; assessments, drafts, conversations,
    follow-ups and break-the-glass grants go with it (``ON DELETE CASCADE``). The anonymous
    report facts stay (they name no patient). Logged as ``patient_erase``/``erasure``.

    On SQLite the deletion overwrites the freed space (``secure_delete``) and the WAL is then
    checkpointed and truncated where no reader prevents it, so that the wrapped key does not
    linger in the files. ``PatientError("not_found")`` for an unknown or malformed uuid.
    """
    canonical = canonical_uuid(patient_uuid)
    if canonical is None:
        raise PatientError("not_found")
    with db.write() as session:
        patient_id = session.scalar(select(Patient.id).where(Patient.uuid == canonical))
        if patient_id is None:
            raise PatientError("not_found")
        if db.is_sqlite:
            session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
        session.execute(delete(Patient).where(Patient.id == patient_id))
        access_log.record(session, keyring, actor, "patient_erase", canonical,
                          purpose="erasure")
    if db.is_sqlite:
        _checkpoint(db)
    log.info("patient erased")


def _checkpoint(db: Database) -> None:
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # type: ignore[union-attr]
    except Exception as err:  # noqa: BLE001 - best effort: a busy reader only delays it
        log.info("WAL checkpoint after erasure postponed (%s)", type(err).__name__)
    finally:
        raw.close()

