"""The record of the instrument and rule-set files seen: their fingerprints by kind, id and
version (``instrument_fingerprints``), so that a file edited without raising its version is
found before it produces a single result.

- :func:`record` (``flask instruments record``, run by ``flask db upgrade``): every loaded
  file not recorded yet is recorded; one that differs from what was recorded under its id and
  version is refused, and then nothing is recorded.
- :func:`check` (every start, read-only: ``create_app`` writes nothing): the same
  comparison; a difference stops the start (and fails ``flask check-instruments``).
- :class:`Book`: what this process knows to be recorded. A result made with a file that is
  not recorded yet records it in the result's own transaction (``ensure``), so every result
  stored has its files' fingerprints on record, even when nobody ran the recording command.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..core.catalogue import Catalogue
from ..core.fingerprint import FileFingerprint, Mismatch, compare
from ..database import Database
from ..models import InstrumentFingerprint
from ..models.base import utcnow

TABLE: Table = InstrumentFingerprint.__table__  # type: ignore[assignment]
_COLUMNS = TABLE.c


class ProvenanceError(Exception):
    """Files that differ from the record; ``str()`` is one line naming the first file, its
    id and version (and how many more)."""

    def __init__(self, mismatches: list[Mismatch]) -> None:
        self.mismatches = mismatches
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        super().__init__(f"{mismatches[0].line()}{more}")


@dataclass
class Book:
    """The files this process knows to be recorded, with the fingerprints it loaded."""

    known: set[tuple[str, str, int]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def missing(self, files: Iterable[FileFingerprint]) -> list[FileFingerprint]:
        with self._lock:
            return [f for f in files if f.key not in self.known]

    def mark(self, files: Iterable[FileFingerprint]) -> None:
        with self._lock:
            self.known.update(f.key for f in files)


_BOOKS: weakref.WeakKeyDictionary[Database, Book] = weakref.WeakKeyDictionary()
_BOOKS_LOCK = threading.Lock()


def book_for(db: Database) -> Book:
    """A Book per database object, for callers that bring none (commands, tests): the
    first result records its files, the next ones find them known."""
    with _BOOKS_LOCK:
        book = _BOOKS.get(db)
        if book is None:
            book = _BOOKS[db] = Book()
        return book


def _from_rows(rows: Iterable[Any]) -> list[FileFingerprint]:
    return [FileFingerprint(r.kind, r.file_id, r.version, r.fingerprint, r.source)
            for r in rows]


def recorded(connection: Connection | Session) -> list[FileFingerprint]:
    return _from_rows(connection.execute(select(
        _COLUMNS.kind, _COLUMNS.file_id, _COLUMNS.version, _COLUMNS.fingerprint,
        _COLUMNS.source)))


def _readable(db: Database) -> bool:
    """Whether the database exists and has the table (it may not be upgraded yet). A SQLite
    file that does not exist is not created here."""
    if db.is_sqlite:
        path = db.engine.url.database or ""
        if not path or not os.path.exists(path):
            return False
    return inspect(db.engine).has_table(TABLE.name)


def differences(db: Database, catalogue: Catalogue
                ) -> tuple[list[Mismatch], list[FileFingerprint]] | None:
    """(mismatches, files not recorded yet) between the loaded files and the record, reading
    only; None when there is no record to compare with (no database yet, or not upgraded)."""
    if not _readable(db):
        return None
    session = db.read_session()
    try:
        before = recorded(session)
    finally:
        session.close()
    return compare(before, catalogue.files())


def check(db: Database, catalogue: Catalogue) -> Book:
    """Compare the loaded files with the record, reading only; raise ProvenanceError on any
    difference. No database yet, or not upgraded yet: nothing to compare with."""
    files = catalogue.files()
    found = differences(db, catalogue)
    if found is None:
        return Book()  # nothing recorded: the first result made with each file records it
    mismatches, new = found
    if mismatches:
        raise ProvenanceError(mismatches)
    new_keys = {f.key for f in new}
    return Book({f.key for f in files if f.key not in new_keys})


@dataclass(frozen=True)
class Recorded:
    new: tuple[FileFingerprint, ...]
    already: int


def record(db: Database, catalogue: Catalogue, now: datetime | None = None) -> Recorded:
    """Record every loaded file not recorded yet, in one transaction; a file that differs
    from the record raises ProvenanceError and nothing is written."""
    files = catalogue.files()
    with db.write() as session:
        mismatches, new = compare(recorded(session), files)
        if mismatches:
            raise ProvenanceError(mismatches)
        at = now or utcnow()
        for file in new:
            session.add(InstrumentFingerprint(kind=file.kind, file_id=file.id,
                                              version=file.version,
                                              fingerprint=file.fingerprint, source=file.source,
                                              recorded_at=at))
    return Recorded(tuple(new), len(files) - len(new))


def ensure(db: Database, session: Session, book: Book, files: Iterable[FileFingerprint],
           now: datetime) -> list[FileFingerprint]:
    """Inside a write transaction that stores a result: record the result's files that
    ``book`` does not know to be recorded (a concurrent recording of the same file is no
    conflict); raise ProvenanceError when the record holds other content for one. Returns
    the files to :meth:`Book.mark` once the transaction has committed."""
    missing = book.missing(files)
    if not missing:
        return []
    insert = sqlite_insert if db.is_sqlite else pg_insert
    statement = insert(TABLE).on_conflict_do_nothing(
        index_elements=["kind", "file_id", "version"])
    session.execute(statement, [
        {"kind": f.kind, "file_id": f.id, "version": f.version, "fingerprint": f.fingerprint,
         "source": f.source, "recorded_at": now} for f in missing])
    found = {f.key: f for f in recorded(session)}
    mismatches, _new = compare([found[f.key] for f in missing if f.key in found], missing)
    if mismatches:
        raise ProvenanceError(mismatches)
    return missing
