"""The search index of patients' names and birth dates, and how a typed name is normalised.

Names are sealed (design.md §6), so the database cannot compare them. Each patient has
instead a set of **search terms** in ``patient_search_terms``: for every part of the name
(split at spaces, hyphens and other punctuation) every prefix of 1 to ``MAX_PREFIX``
letters, and the birth date, each as ``crypto.hashing.search_term``: 16 bits of an
HMAC-SHA256 under a key derived from the key file's blind-index key and bound to the
patient's unit. Random filler terms bring every patient to ``PAD_TO`` terms (or the next
multiple of ``PAD_STEP`` for a very long name). A search computes the terms of what was
typed for each of the user's units, reads the patients that have all of them, opens those
candidates' names and birth dates, and keeps only those that really match
(``services.patient_search``): the short terms find some patients that do not match,
never miss one that does.

How a name is compared (the same function for what is stored and what is typed):

* case does not matter (``casefold``; "ß" is "ss");
* **æ, ø and å are letters of their own**: "ås" finds Åsmund and Åsgård, "as" does not;
  "o" does not find Øyvor. "aa" is not folded to "å" (Aasen is found by "aa", Åsen by
  "å"): folding it would make "Haa" and "Hå" equal but "Ha" a prefix of neither;
* **ä and ö are æ and ø** (as in Norwegian alphabetical order, and on a Norwegian keyboard):
  "bjø" finds Björn, "sø" finds Söderström;
* other accents are dropped: "rene" finds René, "muller" finds Müller;
* every word typed must be the start of some part of the name, in any order: "kari h" and
  "hansen k" find Kari Hansen; "anne-marie" finds Anne-Marie as "anne" and "marie".

What the terms leak to someone who can read the database but not the key file, and why
it is acceptable:

* no name, letter or date: a term is a keyed hash, and without the key nobody can compute
  the term of a guess (unlike the ~21 million possible fødselsnumre, prefixes cannot be
  tried offline either);
* every patient has the same number of rows (unless the name has more than ``PAD_TO``
  prefixes), so the row count does not tell a name's length;
* terms are short on purpose: 65,536 values per unit. A unit of a few thousand patients
  holds tens of thousands of terms, so a shared term does not show that two patients share
  a name prefix; the filler terms add coincidences of their own;
* what does show is frequency and co-occurrence: a term held by many patients of a unit is
  likely a common one- or two-letter prefix, and two patients sharing half a dozen terms
  likely share a surname (a family). That is within one unit only: the key is bound to
  the unit, so the same name in two units gives unrelated terms, and a unit's patient list
  (``patients.unit_id``) is in clear text already. Someone with the database alone learns
  "these patients of unit X probably share a surname", not which surname; with the key file
  as well, everything sealed is open anyway.

The index is kept exact in the same transaction as the change: registration, a correction
of name or number (:func:`index_patient`), erasure (``ON DELETE CASCADE``).
:func:`rebuild` indexes patients registered before the index existed (``flask patients
reindex``). Key rotation does not touch the blind-index key, so the terms stay valid.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.orm import Session

from ..crypto.fields import OpenError, open_sealed
from ..crypto.hashing import SEARCH_TERM_BITS, search_term, search_term_key
from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Patient, PatientSearchTerm
from .live_keys import unwrap_key

log = logging.getLogger("screening.services.search_terms")

MAX_PREFIX = 8
PAD_TO = 32
PAD_STEP = 16
TERM_SPACE = 1 << SEARCH_TERM_BITS
TERMS: Table = PatientSearchTerm.__table__  # type: ignore[assignment]
# Combining marks of the Latin, Greek and Cyrillic scripts and their extensions, after
# canonical decomposition: dropped, except the ring above that follows an "a" (å).
_MARKS = re.compile("(?<!a)\u030a|[\u0300-\u0309\u030b-\u036f\u1ab0-\u1aff"
                    "\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NORDIC = str.maketrans({"ä": "æ", "ö": "ø"})
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_SPLIT = re.compile(r"[\W_]+")


# --------------------------------------------------------------------------- normalising


def fold(text: str) -> str:
    """``text`` as names are compared: case-folded, ä/ö as æ/ø, accents dropped except the
    ring of å; æ, ø, å kept (see the module's docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_NORDIC)
    if folded.isascii():
        return folded
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", folded)))


def folded_parts(name: str) -> tuple[str, list[str]]:
    """The folded name and its parts: split at spaces, hyphens and punctuation (apostrophes
    join: O'Brien is "obrien"), in order, without repeats."""
    folded = fold(name)
    parts = _SPLIT.split(_APOSTROPHES.sub("", folded))
    return folded, list(dict.fromkeys(p for p in parts if p))


def name_parts(name: str) -> list[str]:
    """The parts of a name as compared (see :func:`folded_parts`)."""
    return folded_parts(name)[1]


def matches(words: Iterable[str], parts: Iterable[str]) -> bool:
    """Every folded word typed is the start of some part of the name."""
    parts = list(parts)
    return all(any(part.startswith(word) for part in parts) for word in words)


# --------------------------------------------------------------------------- terms


def unit_key(keyring: KeyRing, unit_id: int) -> bytes:
    return search_term_key(keyring, unit_id)


def prefix_term(key: bytes, word: str) -> int:
    """The term looked up for a folded word typed: its first ``MAX_PREFIX`` letters."""
    return search_term(key, "name", word[:MAX_PREFIX])


def date_term(key: bytes, day: date) -> int:
    return search_term(key, "birth_date", day.isoformat())


def patient_terms(key: bytes, name: str, birth_date: date) -> set[int]:
    """Every term of a patient, filler included."""
    terms = {date_term(key, birth_date)}
    for part in name_parts(name):
        for length in range(1, min(len(part), MAX_PREFIX) + 1):
            terms.add(search_term(key, "name", part[:length]))
    size = PAD_TO if len(terms) <= PAD_TO else -(-len(terms) // PAD_STEP) * PAD_STEP
    while len(terms) < size:
        terms.add(secrets.randbelow(TERM_SPACE))
    return terms


def index_patient(conn: Session | Connection, keyring: KeyRing, patient_id: int, unit_id: int,
                  name: str, birth_date: date) -> None:
    """Replace the patient's terms, in the caller's transaction."""
    conn.execute(delete(TERMS).where(TERMS.c.patient_id == patient_id))
    terms = patient_terms(unit_key(keyring, unit_id), name, birth_date)
    conn.execute(insert(TERMS), [{"unit_id": unit_id, "term": term, "patient_id": patient_id}
                                 for term in sorted(terms)])


# --------------------------------------------------------------------------- rebuilding


@dataclass
class Rebuilt:
    indexed: int = 0
    failed: int = 0  # a name, birth date or data key that does not open


def rebuild(db: Database, keyring: KeyRing, only_missing: bool = True,
            batch_size: int = 200) -> Rebuilt:
    """Index patients: those without terms (``only_missing``), or all. Each batch is read
    and its terms computed outside any write transaction, then written in one short write
    transaction, only for rows whose name, birth date and unit are still what was read (a
    patient corrected meanwhile was indexed by the correction)."""
    result = Rebuilt()
    table: Table = Patient.__table__  # type: ignore[assignment]
    columns = (table.c.id, table.c.uuid, table.c.unit_id, table.c.name_sealed,
               table.c.birth_date_sealed, table.c.data_key_wrapped)
    last_id = 0
    while True:
        session = db.read_session()
        try:
            query = select(*columns).where(table.c.id > last_id)
            if only_missing:
                query = query.where(~select(TERMS.c.patient_id)
                                    .where(TERMS.c.patient_id == table.c.id).exists())
            rows = session.execute(query.order_by(table.c.id).limit(batch_size)).all()
        finally:
            session.close()
        if not rows:
            return result
        last_id = rows[-1].id
        planned = {}
        for row in rows:
            opened = _open_row(keyring, row)
            if opened is None:
                result.failed += 1
                continue
            planned[row.id] = (row, opened)
        with db.write() as write:
            current = {r.id: r for r in write.execute(
                select(*columns).where(table.c.id.in_(list(planned))))}
            for patient_id, (row, (name, birth)) in planned.items():
                now = current.get(patient_id)
                if now is None or (now.unit_id, now.name_sealed, now.birth_date_sealed) != (
                        row.unit_id, row.name_sealed, row.birth_date_sealed):
                    continue
                index_patient(write, keyring, patient_id, row.unit_id, name, birth)
                result.indexed += 1
    return result  # pragma: no cover - the loop returns


def _open_row(keyring: KeyRing, row: Any) -> tuple[str, date] | None:
    from .patients import key_context  # that module imports this one

    try:
        key = unwrap_key(keyring, row.data_key_wrapped, key_context(row.uuid))
        name = open_sealed(key, row.name_sealed, table="patients", column="name",
                           row_uuid=row.uuid)
        birth = open_sealed(key, row.birth_date_sealed, table="patients",
                            column="birth_date", row_uuid=row.uuid)
        return name, date.fromisoformat(birth)
    except (OpenError, ValueError):
        log.warning("a patient could not be indexed for search: a field does not open")
        return None
