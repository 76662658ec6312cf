"""Finding a patient: by name or birth date among the user's units, by fødselsnummer, and
by fødselsnummer with emergency access (break-the-glass).

One search field takes what a nurse types (:func:`parse_query`): 11 digits are a
fødselsnummer or D-number; a date (dd.mm.åååå, ddmmåå, ddmmåååå) is a birth date; words
are the starts of name parts, all of which must match (``services.search_terms`` says how
names are compared and what the index leaks).

**A fødselsnummer of another unit's patient is not confirmed** (:func:`search_fnr`): the
user without a care relationship gets None, exactly as for a number nobody has, after the
same statements (the lookup, the care-relationship queries, one access-log row), so that
neither the page nor the time it takes tells the two apart. The access log still records
the refused search under the patient's pseudonym (the patient can see who looked).
Only :func:`emergency_by_fnr`, with a reason, finds such a patient: it grants
break-the-glass access (logged, reviewed) or tells that no patient has the number.

Every patient shown is an access to identifying data: each search logs ``patient_search``
once per patient shown (once with no patient when none is), in one write transaction,
after the candidates were read and opened in a read transaction. Candidates that the
short index terms let through but that do not match are opened only to be discarded;
they are neither shown nor logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto.hashing import blind_index
from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Patient, Unit
from ..models.sealing import Undecryptable
from ..models.staff import CLINICAL_ROLES
from . import access_log, care, search_terms
from .access_log import Actor
from .care import AccessDenied, Grant, grant_for
from .patients import User, actor_for, age_on, data_key, unlock, validate_fnr
from .search_terms import TERMS

log = logging.getLogger("screening.services.patient_search")

LIMIT = 25  # patients shown at most; "refine your search" when more match
CANDIDATE_MAX = 1000  # more candidates than this: none is opened, refine the search
QUERY_MAX = 100
WORDS_MAX = 6
SEARCH_ERRORS = ("empty", "too_long", "bad_date", "bad_query", "two_dates")
_FNR_SEPARATORS = str.maketrans("", "", " \u00a0-")
_DATE_LONG = re.compile(r"([0-9]{1,2})[./-]([0-9]{1,2})[./-]([0-9]{2}|[0-9]{4})")
_DATE_DIGITS = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2}|[0-9]{4})")
_COLLATION = str.maketrans({"æ": "{", "ø": "|", "å": "}"})  # after z, in that order


class SearchError(ValueError):
    """What was typed cannot be searched; ``code`` (one of ``SEARCH_ERRORS``) says why."""

    def __init__(self, code: str) -> None:
        if code not in SEARCH_ERRORS:
            raise ValueError(f"unknown search error code {code!r}")
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class Query:
    """What was typed, understood: a fødselsnummer, or name words and birth dates (a
    six-digit date may be of two centuries: both are looked for)."""

    fnr: str | None = field(default=None, repr=False)
    words: tuple[str, ...] = field(default=(), repr=False)
    dates: tuple[date, ...] = field(default=(), repr=False)


def parse_query(text: object, today: date | None = None) -> Query:
    """``SearchError`` for an empty or over-long text, a date that does not exist or lies
    in the future (``bad_date``), two dates, or digits that are neither a date nor 11 digits
    (``bad_query``). A fødselsnummer is validated later (``PatientError``)."""
    if not isinstance(text, str) or not text.strip():
        raise SearchError("empty")
    if len(text) > QUERY_MAX:
        raise SearchError("too_long")
    compact = text.strip().translate(_FNR_SEPARATORS)
    if compact.isdigit() and compact.isascii() and len(compact) == 11:
        return Query(fnr=compact)
    today = today or local_today()
    words: list[str] = []
    dates: tuple[date, ...] = ()
    for word in text.split():
        if any(char.isdigit() for char in word):
            if dates:
                raise SearchError("two_dates")
            dates = _dates(word, today)
            continue
        words.extend(search_terms.name_parts(word))
    words = list(dict.fromkeys(words))
    if not words and not dates:
        raise SearchError("empty")
    if len(words) > WORDS_MAX:
        raise SearchError("too_long")
    return Query(words=tuple(words), dates=dates)


def _dates(word: str, today: date) -> tuple[date, ...]:
    match = _DATE_LONG.fullmatch(word) or _DATE_DIGITS.fullmatch(word)
    if match is None or not word.isascii():
        raise SearchError("bad_query")
    day, month, year_text = int(match[1]), int(match[2]), match[3]
    years = [int(year_text)] if len(year_text) == 4 else [
        century + int(year_text) for century in (2000, 1900)]
    found = []
    for year in years:
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            found.append(candidate)
    if not found:
        raise SearchError("bad_date")
    return tuple(found)


# --------------------------------------------------------------------------- by name


@dataclass(frozen=True)
class Hit:
    """A patient shown in the results. Identifying fields are left out of ``repr``."""

    uuid: str
    name: str = field(repr=False)
    birth_date: date = field(repr=False)
    age: int = field(repr=False)
    unit_name: str


@dataclass(frozen=True)
class Found:
    hits: tuple[Hit, ...]
    more: bool = False  # more matched than are shown
    too_many: bool = False  # so many candidates that none was opened


def search_names(db: Database, keyring: KeyRing, user: User, query: Query,
                 today: date | None = None, limit: int = LIMIT) -> Found:
    """The patients of the user's units whose name parts start with every word of
    ``query`` and (if it has dates) who were born on one of its dates; sorted by surname
    (the last part of the name), then name and birth date in Norwegian order; at most
    ``limit``. Each patient shown is logged (see the module's docstring)."""
    if getattr(user, "role", None) not in CLINICAL_ROLES:
        raise AccessDenied("not a clinician")
    if query.fnr is not None:
        raise ValueError("a fødselsnummer is searched with search_fnr")
    today = today or local_today()
    session = db.read_session()
    try:
        candidates = _candidates(session, keyring, sorted(user.unit_ids), query)
        if len(candidates) > CANDIDATE_MAX:
            _log_shown(db, keyring, user, [], [])
            return Found((), too_many=True)
        units = {unit_id: name for unit_id, name in session.execute(select(Unit.id, Unit.name))}
        matched, broken = _confirmed(session, keyring, user, candidates, query)
    finally:
        session.close()
    matched.sort(key=lambda m: m[0])
    shown = []
    for _key, row, name, grant in matched[:limit]:
        born = _birth_date(row)  # opened for those shown only, unless the query has dates
        if born is None:
            broken.append(row)
        else:
            shown.append((_key, born.isoformat(), row, name, born, grant))
    shown.sort(key=lambda s: s[:2])
    hits = tuple(Hit(row.uuid, name, born, age_on(born, today), units.get(row.unit_id, ""))
                 for *_keys, row, name, born, _grant in shown)
    _log_shown(db, keyring, user, [(row, grant) for *_rest, row, _n, _b, grant in shown],
               broken)
    return Found(hits, more=len(matched) > limit)


def _birth_date(row: Patient) -> date | None:
    """The birth date of a row whose data key is attached; None if it does not open."""
    try:
        return date.fromisoformat(row.birth_date)
    except (Undecryptable, TypeError, ValueError):
        return None


def _candidates(session: Session, keyring: KeyRing, units: Iterable[int],
                query: Query) -> set[int]:
    """Ids of the patients that hold every term of the query, in any of ``units``."""
    found: set[int] = set()
    for unit_id in units:
        key = search_terms.unit_key(keyring, unit_id)
        word_terms = {search_terms.prefix_term(key, word) for word in query.words}
        date_terms = {search_terms.date_term(key, day) for day in query.dates}
        holders: dict[int, set[int]] = {}
        for term, patient_id in session.execute(
                select(TERMS.c.term, TERMS.c.patient_id)
                .where(TERMS.c.unit_id == unit_id, TERMS.c.term.in_(word_terms | date_terms))):
            holders.setdefault(term, set()).add(patient_id)
        groups = [holders.get(term, set()) for term in word_terms]
        if date_terms:
            groups.append(set().union(*(holders.get(term, set()) for term in date_terms)))
        found |= set.intersection(*groups) if groups else set()
    return found


Matched = tuple[tuple[str, str], Patient, str, Grant]


def _confirmed(session: Session, keyring: KeyRing, user: User, candidates: set[int],
               query: Query) -> tuple[list[Matched], list[Patient]]:
    """Open the candidates and keep those that match; also the rows that did not open."""
    matched: list[Matched] = []
    broken: list[Patient] = []
    ids = sorted(candidates)
    for start in range(0, len(ids), 500):
        rows = session.scalars(select(Patient).where(Patient.id.in_(ids[start:start + 500])))
        for row in rows:
            grant = grant_for(session, user, row)
            if grant is None:  # not in the user's units (moved since it was indexed)
                continue
            try:
                unlock(row, data_key(keyring, row))
                name = row.name
            except Undecryptable:
                broken.append(row)
                continue
            folded, parts = search_terms.folded_parts(name)
            if not search_terms.matches(query.words, parts):
                continue
            if query.dates:
                born = _birth_date(row)
                if born is None:
                    broken.append(row)
                    continue
                if born not in query.dates:
                    continue
            surname = (parts[-1] if parts else "").translate(_COLLATION)
            matched.append(((surname, folded.translate(_COLLATION)), row, name, grant))
    return matched, broken


def _log_shown(db: Database, keyring: KeyRing, user: User,
               shown: list[tuple[Patient, Grant]], broken: list[Patient]) -> None:
    # An ORM session, not bare statements: its transaction reads the access log's head
    # once for all the rows, where a bare connection would read it again for each.
    with db.write() as conn:
        for row, grant in shown:
            access_log.record(conn, keyring, actor_for(user, grant.unit_id), "patient_search",
                              row.uuid, purpose=grant.purpose)
        for row in broken:
            access_log.record(conn, keyring, actor_for(user, row.unit_id), "undecryptable",
                              row.uuid, outcome="error")
        if not shown and not broken:
            access_log.record(conn, keyring, actor_for(user, None), "patient_search", None)
    if broken:
        log.warning("%d patient(s) in a name search did not open", len(broken))


# --------------------------------------------------------------------------- by number


def search_fnr(db: Database, keyring: KeyRing, user: User, fnr: str) -> str | None:
    """The uuid of the patient with this fødselsnummer if ``user`` may open the patient;
    else None, whether nobody has the number or a patient the user has no care relationship
    with (see the module's docstring). Logged as ``patient_search``: ``ok`` under the
    patient's pseudonym, ``denied`` under it, or ``ok`` with no patient.

    The sealed fødselsnummer of the row found must open and equal the number searched (a
    blind index copied between rows is caught here): otherwise ``undecryptable`` is logged
    and :class:`Undecryptable` raised. ``PatientError("invalid_fnr")`` for a malformed
    number (nothing is logged)."""
    info = validate_fnr(fnr)
    index = blind_index(keyring, info.normalised)
    broken: Undecryptable | None = None
    with db.write() as session:
        patient = session.scalar(select(Patient).where(Patient.fnr_index == index))
        # Nobody, or a patient without a care relationship: the same queries either way.
        grant = grant_for(session, user, patient if patient is not None else _nobody())
        if patient is None or grant is None:
            access_log.record(session, keyring, actor_for(user, None), "patient_search",
                              None if patient is None else patient.uuid,
                              outcome="ok" if patient is None else "denied")
            return None
        try:
            unlock(patient, data_key(keyring, patient))
            if patient.fnr != info.normalised:
                raise Undecryptable("patients", "fnr")
        except Undecryptable as err:
            broken = err
            access_log.record(session, keyring, actor_for(user, grant.unit_id),
                              "undecryptable", patient.uuid, purpose=grant.purpose,
                              outcome="error")
        else:
            access_log.record(session, keyring, actor_for(user, grant.unit_id),
                              "patient_search", patient.uuid, purpose=grant.purpose)
        patient_uuid = patient.uuid
    if broken is not None:
        log.warning("undecryptable field %s.%s in a patient search", broken.table, broken.column)
        raise broken
    return patient_uuid


def find_by_fnr(db: Database, keyring: KeyRing, user: User, fnr: str) -> str | None:
    """:func:`search_fnr` (the name the rest of the code and the tests know)."""
    return search_fnr(db, keyring, user, fnr)


def _nobody() -> Patient:
    """A patient row that exists nowhere (id 0, no unit), for the care-relationship
    queries of a number that nobody has."""
    return Patient(id=0, unit_id=0)


@dataclass(frozen=True)
class Emergency:
    """The patient found by emergency access, and whether a grant was made for it (not when
    the user had a care relationship already)."""

    uuid: str
    granted: bool


def emergency_by_fnr(db: Database, keyring: KeyRing, user: User, fnr: str,
                     reason: str) -> Emergency | None:
    """Emergency access by fødselsnummer, with a reason: the patient with the number, now
    open to ``user`` (a break-the-glass grant for 24 hours, logged and listed for review,
    unless a care relationship exists already), or None when no patient has the number
    (logged as a ``patient_search`` for break-the-glass, with no patient).

    ``PatientError("invalid_fnr")``; :class:`~screening.services.care.CareError` for a
    reason too short or too long (checked before the number is looked up) or a role that
    may not (``not_clinician``)."""
    info = validate_fnr(fnr)
    if getattr(user, "role", None) not in CLINICAL_ROLES:
        raise care.CareError("not_clinician")
    cleaned = (reason or "").strip()
    if len(cleaned) < care.REASON_MIN:
        raise care.CareError("reason_too_short")
    if len(cleaned) > care.REASON_MAX:
        raise care.CareError("reason_too_long")
    index = blind_index(keyring, info.normalised)
    session = db.read_session()
    try:
        patient = session.scalar(select(Patient).where(Patient.fnr_index == index))
        grant = grant_for(session, user, patient) if patient is not None else None
    finally:
        session.close()
    if patient is None:
        with db.write_statements() as conn:
            access_log.record(conn, keyring, Actor(user.id, user.role), "patient_search", None,
                              purpose="break_glass")
        return None
    if grant is not None:
        found = search_fnr(db, keyring, user, info.normalised)
        return None if found is None else Emergency(found, granted=False)
    try:
        care.break_glass(db, keyring, user, patient.uuid, cleaned)
    except care.CareError as err:
        if err.code == "unknown_patient":  # erased meanwhile
            return None
        raise
    return Emergency(patient.uuid, granted=True)
