"""The one writer of the access log, its hash chain, and its verification.

Every service that reads or changes a patient's data calls :func:`record` inside its own
transaction, so the log row and the change commit together or not at all. Rows name the
patient by a keyed pseudonym only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..crypto.hashing import chain_mac, pseudonym
from ..crypto.keys import KeyRing
from ..models import AccessLogEntry, AccessLogHead, Staff, Unit
from ..models.access import ACTIONS, OUTCOMES
from ..models.base import utcnow

GENESIS = "0" * 64
_HEAD = "screening.access_log_head"
_MAX_ROUNDS = 100
PURPOSES = ("care", "break_glass", "registration", "erasure", "patient_request",
            "administration", "export", "referral")


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or an operator's command (staff_id None, role 'system')."""

    staff_id: int | None
    role: str
    unit_id: int | None = None


SYSTEM = Actor(None, "system")


def entry_hash(keyring: KeyRing, prev_hash: str, entry: Any) -> str:
    """Keyed hash (HMAC-SHA256, see ``crypto.hashing.chain_mac``) over every column of the
    entry but ``hash`` itself, ``prev_hash`` last. ``entry`` is an :class:`AccessLogEntry` or
    a row with the same attribute names. Keyed, so that someone who can write to the
    database but has no key file cannot rebuild a tampered chain."""
    fields = (
        str(entry.id), entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "" if entry.staff_id is None else str(entry.staff_id), entry.role,
        "" if entry.unit_id is None else str(entry.unit_id), entry.action,
        entry.patient_pseudonym or "", entry.purpose, entry.outcome, prev_hash,
    )
    return chain_mac(keyring, "\x1f".join(fields).encode())


@dataclass
class _Head:
    """The chain head as locked by this transaction."""

    last_id: int
    last_hash: str


@dataclass(frozen=True)
class Entry:
    """An entry as written (the fields :func:`entry_hash` reads, then the chain links)."""

    id: int
    at: datetime
    staff_id: int | None
    role: str
    unit_id: int | None
    action: str
    patient_pseudonym: str | None
    purpose: str
    outcome: str
    prev_hash: str = ""
    hash: str = ""


_ENTRIES: Table = AccessLogEntry.__table__  # type: ignore[assignment]
_HEADS: Table = AccessLogHead.__table__  # type: ignore[assignment]
# Built once: every patient page appends an entry.
_APPEND = insert(_ENTRIES)
_ADVANCE = (update(_HEADS).where(_HEADS.c.id == 1)
            .values(last_id=bindparam("new_id"), last_hash=bindparam("new_hash")))
_READ_HEAD = (select(_HEADS.c.last_id, _HEADS.c.last_hash).where(_HEADS.c.id == 1)
              .with_for_update())
_ENTRY_FIELDS = ("id", "at", "staff_id", "role", "unit_id", "action", "patient_pseudonym",
                 "purpose", "outcome", "prev_hash", "hash")
# PostgreSQL: the entry and the head in one statement (a data-modifying WITH), so that the
# head stays locked one round trip less. SQLite cannot put an INSERT in a WITH. (The bind
# names are prefixed: an UPDATE would take a parameter named like a column of its table as
# a value to set.)
_APPEND_AND_ADVANCE = (
    update(_HEADS).where(_HEADS.c.id == 1)
    .values(last_id=bindparam("e_id"), last_hash=bindparam("e_hash"))
    .add_cte(insert(_ENTRIES).values({f: bindparam(f"e_{f}") for f in _ENTRY_FIELDS})
             .cte("appended"))
)


def record(session: Session | Connection, keyring: KeyRing, actor: Actor, action: str,
           patient_uuid: str | None, purpose: str = "care", outcome: str = "ok",
           at: datetime | None = None) -> Entry:
    """Append one entry in the caller's transaction (plain statements, no ORM objects:
    every patient page writes one) and return it."""
    if action not in ACTIONS or outcome not in OUTCOMES or purpose not in PURPOSES:
        raise ValueError("unknown access-log action, outcome or purpose")
    head = _locked_head(session)
    entry = Entry(
        id=head.last_id + 1, at=(at or utcnow()).astimezone(UTC), staff_id=actor.staff_id,
        role=actor.role, unit_id=actor.unit_id, action=action,
        patient_pseudonym=pseudonym(keyring, patient_uuid) if patient_uuid else None,
        purpose=purpose, outcome=outcome)
    head_hash = head.last_hash
    digest = entry_hash(keyring, head_hash, entry)
    values = {
        "id": entry.id, "at": entry.at, "staff_id": entry.staff_id, "role": entry.role,
        "unit_id": entry.unit_id, "action": entry.action,
        "patient_pseudonym": entry.patient_pseudonym, "purpose": entry.purpose,
        "outcome": entry.outcome, "prev_hash": head_hash, "hash": digest}
    if _dialect(session) == "postgresql":
        session.execute(_APPEND_AND_ADVANCE, {f"e_{k}": v for k, v in values.items()})
    else:
        session.execute(_APPEND, values)
        session.execute(_ADVANCE, {"new_id": entry.id, "new_hash": digest})
    head.last_id, head.last_hash = entry.id, digest
    return replace(entry, prev_hash=head_hash, hash=digest)


def _dialect(session: Session | Connection) -> str:
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name


def _locked_head(session: Session | Connection) -> _Head:
    """The head row, locked until the caller's transaction ends (SQLite: the write
    transaction began IMMEDIATE, so it is the only writer; PostgreSQL: FOR UPDATE), and
    read afresh. The first entry ever creates the head; ON CONFLICT DO NOTHING makes two
    first writers wait for each other instead of one failing on the primary key. Within
    one ORM session's transaction the locked head is reused (a connection's ``info`` outlives
    its transactions, so on a bare connection it is read again: still the locked row)."""
    orm = isinstance(session, Session)
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD) if orm else None
    if cached is not None and cached[0] is transaction and transaction is not None:
        return cached[1]
    row = session.execute(_READ_HEAD).first()
    if row is None:
        dialect = postgresql if _dialect(session) == "postgresql" else sqlite
        session.execute(dialect.insert(AccessLogHead)
                        .values(id=1, last_id=0, last_hash=GENESIS)
                        .on_conflict_do_nothing(index_elements=["id"]))
        row = session.execute(_READ_HEAD).one()
    head = _Head(row.last_id, row.last_hash)
    if orm:
        session.info[_HEAD] = (transaction, head)
    return head


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad_id: int | None = None
    problem: str = ""


def verify(session: Session, keyring: KeyRing, batch: int = 5000) -> Verdict:
    """Walk the chain from the start; name the first entry that is missing, edited,
    inserted or out of place, and check that the head matches the last entry.

    ``first_bad_id`` is the id of the first entry that is not as written: the id where an
    entry is missing, the entry whose fields or previous hash do not match, an entry with
    an id outside the sequence, or the first id after the recorded end of the log.

    Safe while the app appends: entries and head commit together, and when the head read
    after the walk is ahead of it (PostgreSQL reads each statement's own snapshot), the
    walk goes on with the entries that have arrived meanwhile."""
    table = AccessLogEntry.__table__
    expected_id, prev = 1, GENESIS
    count = 0
    last_seen: int | None = None
    for _round in range(_MAX_ROUNDS):
        while True:
            query = select(table).order_by(table.c.id).limit(batch)
            if last_seen is not None:
                query = query.where(table.c.id > last_seen)
            rows = session.execute(query).all()
            if not rows:
                break
            for entry in rows:
                if entry.id < expected_id:
                    return Verdict(False, count, entry.id, "entry outside the sequence")
                if entry.id > expected_id:
                    return Verdict(False, count, expected_id, "missing entry")
                if entry.prev_hash != prev:
                    return Verdict(False, count, entry.id, "previous hash does not match")
                if entry_hash(keyring, prev, entry) != entry.hash:
                    return Verdict(False, count, entry.id, "entry was changed")
                prev, expected_id = entry.hash, expected_id + 1
                count += 1
            last_seen = rows[-1].id
        head = session.get(AccessLogHead, 1, populate_existing=True)
        if head is None or head.last_id <= count:
            break
        newest = session.scalar(select(func.max(table.c.id)))
        if newest is None or newest <= (last_seen or 0):
            break  # the head is ahead and nothing new arrived: entries were removed
    if head is None:
        if count:
            return Verdict(False, count, 1, "head missing")
        return Verdict(True, 0)
    if head.last_id > count:
        return Verdict(False, count, count + 1, "entries after this point are missing")
    if head.last_id < count:
        return Verdict(False, head.last_id, head.last_id + 1,
                       "entry after the recorded end of the log")
    if head.last_hash != prev:
        return Verdict(False, max(count - 1, 0), count or None,
                       "head does not match the last entry")
    return Verdict(True, count)


def history(session: Session, keyring: KeyRing, patient_uuid: str) -> list[AccessLogEntry]:
    """Everything logged about one patient, oldest first (the patient's right of access)."""
    return list(session.scalars(
        select(AccessLogEntry).where(AccessLogEntry.patient_pseudonym
                                     == pseudonym(keyring, patient_uuid))
        .order_by(AccessLogEntry.id)))


@dataclass(frozen=True)
class AccessLine:
    """One line of a patient's access report: who, when, what, why, with what outcome."""

    id: int
    at: datetime
    staff_id: int | None
    username: str | None
    display_name: str | None
    role: str
    unit_code: str | None
    action: str
    purpose: str
    outcome: str
    unit_name: str | None = None


PAGE_SIZE = 50


@dataclass(frozen=True)
class AccessQuery:
    """Which entries of one patient's log to list: from ``since`` (inclusive) to ``until``
    (exclusive), both UTC instants; one action or all; ``limit`` entries from ``offset``
    (no limit: all), oldest or newest first."""

    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    offset: int = 0
    limit: int | None = None
    newest_first: bool = False

    def __post_init__(self) -> None:
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError("unknown access-log action")
        if self.offset < 0 or (self.limit is not None and self.limit < 1):
            raise ValueError("offset and limit must be positive")


@dataclass(frozen=True)
class AccessPage:
    """The entries listed and how many match the query in all (for paging)."""

    lines: list[AccessLine]
    total: int


def _conditions(keyring: KeyRing, patient_uuid: str, query: AccessQuery) -> list[Any]:
    log = AccessLogEntry.__table__.c
    conditions = [log.patient_pseudonym == pseudonym(keyring, patient_uuid)]
    if query.since is not None:
        conditions.append(log.at >= query.since.astimezone(UTC))
    if query.until is not None:
        conditions.append(log.at < query.until.astimezone(UTC))
    if query.action is not None:
        conditions.append(log.action == query.action)
    return conditions


def _lines(session: Session, *where: Any, newest_first: bool = False, offset: int = 0,
           limit: int | None = None) -> list[AccessLine]:
    log = AccessLogEntry.__table__
    staff, unit = Staff.__table__, Unit.__table__
    statement = (
        select(log.c.id, log.c.at, log.c.staff_id, staff.c.username, staff.c.display_name,
               log.c.role, unit.c.code.label("unit_code"), log.c.action, log.c.purpose,
               log.c.outcome, unit.c.name.label("unit_name"))
        .select_from(log.outerjoin(staff, staff.c.id == log.c.staff_id)
                     .outerjoin(unit, unit.c.id == log.c.unit_id))
        .where(*where)
        .order_by(log.c.id.desc() if newest_first else log.c.id)
        .offset(offset))
    if limit is not None:
        statement = statement.limit(limit)
    return [AccessLine(**row._asdict()) for row in session.execute(statement).all()]


def patient_report(session: Session, keyring: KeyRing, patient_uuid: str,
                   query: AccessQuery | None = None) -> list[AccessLine]:
    """Who has seen or changed one patient's record, oldest first unless the query says
    otherwise. Found by pseudonym, so an erased patient's entries are listed too; staff and
    unit names are joined in."""
    query = query or AccessQuery()
    return _lines(session, *_conditions(keyring, patient_uuid, query),
                  newest_first=query.newest_first, offset=query.offset, limit=query.limit)


def patient_page(session: Session, keyring: KeyRing, patient_uuid: str,
                 query: AccessQuery) -> AccessPage:
    """One page of :func:`patient_report` and the number of entries the query matches."""
    total = session.scalar(select(func.count()).select_from(AccessLogEntry.__table__)
                           .where(*_conditions(keyring, patient_uuid, query)))
    return AccessPage(patient_report(session, keyring, patient_uuid, query), int(total or 0))


def lines_of(session: Session, action: str, since: datetime) -> list[AccessLine]:
    """Every entry of one action since a time, oldest first (for review: who, when, where;
    the patient is not named)."""
    log = AccessLogEntry.__table__
    return _lines(session, log.c.action == action, log.c.at >= since)
