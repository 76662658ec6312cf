"""Key rotation: re-wrapping data keys under the current key-encryption key, in small batches,
and (rarely) re-encrypting a patient's sealed fields under a new data key.

Re-wrapping (``flask keys rotate``) reads a batch outside any write transaction, computes the
new wraps, and writes them in one short write transaction per batch with a compare-and-swap
(``WHERE id = … AND data_key_wrapped = <old>``): a row erased or re-wrapped meanwhile is
simply skipped, and the app keeps serving between batches. The data key itself does not
change, so nothing sealed needs to be touched.

Re-encryption (:func:`reencrypt_all`) gives each patient a new data key and seals every
sealed field of the patient's rows again. A batch of patients is read and re-sealed outside
the write lock; inside one short write transaction the rows are read again and written only
if nothing changed meanwhile (else the batch is re-sealed there), so no concurrent edit is
lost or left under the old key.

Both keep the garbage collector out of their write transactions (a full pass can take
100 ms in a big process), so the longest write lock stays a few milliseconds.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from screening.crypto.fields import (
    OpenError,
    SealError,
    new_data_key,
    open_sealed_bytes,
    rewrap_data_key,
    seal_bytes,
    unwrap_data_key,
    wrap_data_key,
    wrapped_key_id,
)
from screening.crypto.keys import KeyRing
from screening.database import Database
from screening.models import Base, Patient, Staff
from screening.services.patients import key_context

log = logging.getLogger("screening.services.key_rotation")

# (model, wrapped-key attribute name, associated-data name of a row). A row is anything with
# a ``uuid`` attribute (an ORM object or a Core row).
WRAPPED_KEYS: list[tuple[type[Any], str, Callable[[Any], str]]] = [
    (Staff, "data_key_wrapped", lambda row: f"staff:{row.uuid}"),
    (Patient, "data_key_wrapped", lambda row: key_context(row.uuid)),
]

SEALED_SUFFIX = "_sealed"


def rewrap_all(db: Database, keyring: KeyRing, batch_size: int = 200) -> int:
    """Re-wrap every data key not under the current KEK; each batch is one short write
    transaction, so the app keeps serving meanwhile. Returns the number re-wrapped.

    A wrapped key that does not open (damaged, or its KEK is no longer in the key file) is
    left as it is and counted in a warning; ``keys retire`` then still refuses its KEK."""
    done = failed = 0
    for model, attribute, name in WRAPPED_KEYS:
        table: Table = model.__table__
        wrapped_col = table.c[attribute]
        statement = (update(table)
                     .where(table.c.id == bindparam("b_id"), wrapped_col == bindparam("b_old"))
                     .values({attribute: bindparam("b_new")}))
        last_id = 0
        while True:
            session = db.read_session()
            try:
                rows = session.execute(
                    select(table.c.id, table.c.uuid, wrapped_col)
                    .where(table.c.id > last_id).order_by(table.c.id).limit(batch_size)).all()
            finally:
                session.close()
            if not rows:
                break
            last_id = rows[-1].id
            changes = []
            for row in rows:
                wrapped = row[2]
                try:
                    if wrapped_key_id(wrapped) == keyring.kek_id:
                        continue
                    new = rewrap_data_key(keyring, wrapped, name(row))
                except (OpenError, SealError):
                    failed += 1
                    continue
                changes.append({"b_id": row.id, "b_old": wrapped, "b_new": new})
            if changes:
                with _no_gc_pause(), db.write() as write:
                    done += _executemany(write, statement, changes)
    if failed:
        log.warning("%d data key(s) could not be re-wrapped (they do not open)", failed)
    return done


@contextmanager
def _no_gc_pause() -> Iterator[None]:
    """No garbage-collector pass while a write transaction holds the lock: a full pass can
    take 100 ms in a process with many objects; it runs after the commit instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _executemany(session: Session, statement: Any, params: list[dict[str, Any]]) -> int:
    """Run an UPDATE for every parameter set (one executemany); return the rows changed."""
    connection = session.connection()
    result = connection.execute(statement, params)
    if connection.dialect.supports_sane_multi_rowcount:
        return int(result.rowcount)
    return len(params)


def rows_using(db: Database, kek_id: str) -> int:
    """How many data keys are still wrapped under ``kek_id`` (counted in SQL from the key id
    in each wrapped key's header: version byte, id length, id)."""
    try:
        raw_id = kek_id.encode("ascii")
    except UnicodeEncodeError:
        return 0
    if not 0 < len(raw_id) < 256:
        return 0
    header = bytes([1, len(raw_id)]) + raw_id
    count = 0
    session = db.read_session()
    try:
        for model, attribute, _name in WRAPPED_KEYS:
            col = getattr(model, attribute)
            count += session.scalar(
                select(func.count()).select_from(model)
                .where(func.substr(col, 1, len(header)) == header)) or 0
    finally:
        session.close()
    return count


# --------------------------------------------------------------------------- re-encryption


@dataclass(frozen=True)
class SealedTable:
    """A table whose rows hold fields sealed under a patient's data key."""

    table: Table
    patient_column: Column[Any]  # patients.id itself, or the row's patient_id
    sealed: tuple[str, ...]  # column names ending in _sealed


def sealed_tables() -> list[SealedTable]:
    """``patients`` and every table with a ``patient_id`` reference and sealed columns."""
    result = []
    for table in Base.metadata.sorted_tables:
        sealed = tuple(c.name for c in table.columns if c.info.get("sealed"))
        if not sealed:
            continue
        if table.name == "patients":
            result.append(SealedTable(table, table.c.id, sealed))
        elif "patient_id" in table.c:
            result.append(SealedTable(table, table.c.patient_id, sealed))
    result.sort(key=lambda t: t.table.name != "patients")
    return result


@dataclass
class ReencryptResult:
    patients: int = 0
    fields: int = 0
    failed: int = 0
    replanned: int = 0  # batches changed between their read and their write


# (table name, row id) -> (patient id, row uuid, {sealed column: blob}); for patients rows
# the wrapped data key is among the columns.
Snapshot = dict[tuple[str, int], tuple[int, str, dict[str, bytes | None]]]


@dataclass
class _Plan:
    updates: list[tuple[Table, int, dict[str, bytes]]]
    patients: int
    fields: int
    failed: int


def reencrypt_all(db: Database, keyring: KeyRing, batch_size: int = 50) -> ReencryptResult:
    """Give every patient a new data key (wrapped under the current KEK) and seal all the
    patient's fields again under it; a patient with any field that does not open is left
    unchanged (counted in ``failed``).

    Per batch of ``batch_size`` patients: the rows are read and re-sealed outside any write
    transaction; then, inside one short write transaction, the same rows are read again and
    the new values written only if nothing changed meanwhile (else that batch is re-sealed
    inside the transaction), so an edit or a new draft can never be left under the old key.
    """
    result = ReencryptResult()
    tables = sealed_tables()
    patients = Patient.__table__
    last_id = 0
    while True:
        session = db.read_session()
        try:
            ids = list(session.execute(
                select(patients.c.id).where(patients.c.id > last_id)
                .order_by(patients.c.id).limit(batch_size)).scalars())
            if not ids:
                break
            snapshot = _snapshot(session, tables, ids)
        finally:
            session.close()
        last_id = ids[-1]
        plan = _plan(keyring, snapshot)
        with _no_gc_pause(), db.write() as write:
            current = _snapshot(write, tables, ids)
            if current != snapshot:
                plan = _plan(keyring, current)
                result.replanned += 1
            _apply(write, plan.updates)
        result.patients += plan.patients
        result.fields += plan.fields
        result.failed += plan.failed
    return result


def _apply(session: Session, updates: list[tuple[Table, int, dict[str, bytes]]]) -> None:
    """Write the new values, one executemany per table and set of columns."""
    groups: dict[tuple[str, tuple[str, ...]], tuple[Table, list[dict[str, Any]]]] = {}
    for table, row_id, values in updates:
        names = tuple(sorted(values))
        params = {"b_id": row_id, **{f"b_{name}": value for name, value in values.items()}}
        groups.setdefault((table.name, names), (table, []))[1].append(params)
    connection = session.connection()
    for (_name, names), (table, rows) in groups.items():
        statement = (update(table).where(table.c.id == bindparam("b_id"))
                     .values({name: bindparam(f"b_{name}") for name in names}))
        connection.execute(statement, rows)


def _snapshot(session: Session, tables: list[SealedTable], ids: list[int]) -> Snapshot:
    snapshot: Snapshot = {}
    for sealed_table in tables:
        table = sealed_table.table
        names = list(sealed_table.sealed)
        if table.name == "patients":
            names.append("data_key_wrapped")
        rows = session.execute(
            select(table.c.id, table.c.uuid, sealed_table.patient_column.label("pid"),
                   *(table.c[name] for name in names))
            .where(sealed_table.patient_column.in_(ids))).all()
        for row in rows:
            values = {name: None if getattr(row, name) is None else bytes(getattr(row, name))
                      for name in names}
            snapshot[(table.name, row.id)] = (row.pid, row.uuid, values)
    return snapshot


def _plan(keyring: KeyRing, snapshot: Snapshot) -> _Plan:
    """New data keys and re-sealed values for the patients in ``snapshot``."""
    tables = {t.table.name: t.table for t in sealed_tables()}
    keys: dict[int, tuple[bytes, bytes]] = {}  # patient id -> (old key, new key)
    failed = 0
    for (table_name, _row_id), (pid, row_uuid, values) in snapshot.items():
        if table_name != "patients":
            continue
        try:
            old = unwrap_data_key(keyring, values["data_key_wrapped"] or b"",
                                  key_context(row_uuid))
        except OpenError:
            failed += 1
            continue
        keys[pid] = (old, new_data_key())
    per_patient: dict[int, list[tuple[Table, int, dict[str, bytes]]]] = {pid: [] for pid in keys}
    broken: set[int] = set()
    fields: dict[int, int] = dict.fromkeys(keys, 0)
    for (table_name, row_id), (pid, row_uuid, values) in snapshot.items():
        if pid not in keys or pid in broken:
            continue
        old, new = keys[pid]
        changed: dict[str, bytes] = {}
        try:
            for name, blob in values.items():
                if name == "data_key_wrapped":
                    changed[name] = wrap_data_key(keyring, new, key_context(row_uuid))
                    continue
                if blob is None:
                    continue
                context = {"table": table_name, "column": name[: -len(SEALED_SUFFIX)],
                           "row_uuid": row_uuid}
                changed[name] = seal_bytes(new, open_sealed_bytes(old, blob, **context),
                                           **context)
                fields[pid] += 1
        except OpenError:
            broken.add(pid)
            continue
        if changed:
            per_patient[pid].append((tables[table_name], row_id, changed))
    updates = [u for pid, items in per_patient.items() if pid not in broken for u in items]
    return _Plan(updates, len(keys) - len(broken),
                 sum(n for pid, n in fields.items() if pid not in broken),
                 failed + len(broken))
