"""The access log: append-only in the database, a hash chain that names the first bad entry
after any tampering, unbroken under concurrent appends, and the two commands."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta, timezone

import pytest
from sqlalchemy import Connection, select, text, update
from sqlalchemy import insert as insert_into
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from screening.crypto.hashing import pseudonym
from screening.models import AccessLogEntry
from screening.models.base import utcnow
from screening.services import access_log
from screening.services.access_log import Actor, entry_hash, record, verify
from tests.app.staffing import make_patient, make_staff, make_units
from tests.conftest import ON_POSTGRES

LOG_SIZE = 10_000
TRIALS_PER_KIND = int(os.environ.get("SCREENING_TAMPER_TRIALS", "20"))  # per kind of tampering
ACTIONS = ("patient_view", "assessment_create", "assessment_view", "patient_search",
           "conversation_save", "follow_up_update")
LOG = AccessLogEntry.__table__
COLUMNS = ("at", "staff_id", "role", "unit_id", "action", "patient_pseudonym", "purpose",
           "outcome", "prev_hash", "hash")


def _db(app):  # type: ignore[no-untyped-def]
    return app.extensions["screening.db"]


def fill(app, count: int, per_transaction: int = 2_000, seed: int = 1) -> None:
    """Append ``count`` entries through the one writer, in a few transactions."""
    rng = random.Random(seed)
    keyring = app.extensions["screening.keys"]
    patients = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(50)]
    start = utcnow() - timedelta(days=30)
    done = 0
    while done < count:
        with _db(app).write() as session:
            for _ in range(min(per_transaction, count - done)):
                actor = Actor(rng.randint(1, 40), rng.choice(("nurse", "gp", "consultant")),
                              rng.choice((None, 1, 2, 3)))
                record(session, keyring, actor, rng.choice(ACTIONS), rng.choice(patients),
                       at=start + timedelta(seconds=done * 7))
                done += 1


def verdict_of(app) -> access_log.Verdict:
    session = _db(app).read_session()
    try:
        return verify(session, app.extensions["screening.keys"])
    finally:
        session.close()


def drop_triggers(conn: Connection) -> None:
    if ON_POSTGRES:
        conn.execute(text("DROP TRIGGER access_log_no_update ON access_log"))
        conn.execute(text("DROP TRIGGER access_log_no_truncate ON access_log"))
    else:
        conn.execute(text("DROP TRIGGER access_log_no_update"))
        conn.execute(text("DROP TRIGGER access_log_no_delete"))


@contextmanager
def tampering(app) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    """A transaction with the append-only triggers dropped, rolled back afterwards (the
    triggers come back with it)."""
    conn = _db(app).engine.connect()
    conn.info["keyring"] = app.extensions["screening.keys"]
    transaction = conn.begin()
    try:
        drop_triggers(conn)
        yield conn
    finally:
        transaction.rollback()
        conn.close()


def verify_on(conn: Connection) -> access_log.Verdict:
    session = Session(bind=conn)
    try:
        return verify(session, conn.info["keyring"], batch=4_000)
    finally:
        session.close()


# ------------------------------------------------------------------------- append-only


def test_update_and_delete_refused_by_the_database(app) -> None:
    fill(app, 5)
    engine = _db(app).engine
    statements = ["UPDATE access_log SET role = 'admin' WHERE id = 2",
                  "UPDATE access_log SET hash = 'x'",
                  "DELETE FROM access_log WHERE id = 5",
                  "DELETE FROM access_log"]
    if ON_POSTGRES:
        statements.append("TRUNCATE access_log")
    for statement in statements:
        with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
            conn.execute(text(statement))
        assert "append-only" in str(caught.value), statement
    assert verdict_of(app) == access_log.Verdict(True, 5)


def test_triggers_are_back_after_a_tampering_transaction(app) -> None:
    fill(app, 3)
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM access_log WHERE id = 3"))
    with pytest.raises(DBAPIError), _db(app).engine.begin() as conn:
        conn.execute(text("DELETE FROM access_log WHERE id = 3"))


# ------------------------------------------------------------------------- the chain


def test_empty_log_verifies(app) -> None:
    assert verdict_of(app) == access_log.Verdict(True, 0)


def test_entries_are_chained_and_name_the_patient_by_pseudonym_only(app) -> None:
    keyring = app.extensions["screening.keys"]
    patient = str(uuid.uuid4())
    with _db(app).write() as session:
        first = record(session, keyring, Actor(7, "nurse", 1), "patient_view", patient)
        second = record(session, keyring, access_log.SYSTEM, "access_report", None,
                        purpose="patient_request")
    assert (first.id, second.id) == (1, 2)
    assert first.prev_hash == access_log.GENESIS and second.prev_hash == first.hash
    assert first.patient_pseudonym == pseudonym(keyring, patient) != patient
    assert second.patient_pseudonym is None and second.staff_id is None
    assert verdict_of(app) == access_log.Verdict(True, 2)


def test_unknown_action_outcome_or_purpose_refused(app) -> None:
    keyring = app.extensions["screening.keys"]
    for kwargs in ({"action": "peek"}, {"outcome": "maybe"}, {"purpose": "curiosity"}):
        arguments = {"action": "patient_view", "purpose": "care", "outcome": "ok", **kwargs}
        with pytest.raises(ValueError), _db(app).write() as session:
            record(session, keyring, Actor(1, "nurse"), patient_uuid=None, **arguments)
    assert verdict_of(app).entries == 0


def test_time_in_another_zone_is_stored_and_verified_as_utc(app) -> None:
    keyring = app.extensions["screening.keys"]
    oslo = timezone(timedelta(hours=1))
    with _db(app).write() as session:
        entry = record(session, keyring, Actor(1, "gp"), "patient_view", str(uuid.uuid4()),
                       at=utcnow().astimezone(oslo))
    assert entry.at.utcoffset() == timedelta(0)
    assert verdict_of(app).ok


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(app) -> None:
    keyring = app.extensions["screening.keys"]
    fill(app, 2)
    with pytest.raises(RuntimeError), _db(app).write() as session:
        record(session, keyring, Actor(1, "nurse"), "patient_view", str(uuid.uuid4()))
        raise RuntimeError("the change failed")
    fill(app, 1, seed=2)
    assert verdict_of(app) == access_log.Verdict(True, 3)


# ------------------------------------------------------------------------- tampering


Row = dict[str, object]


def _row(conn: Connection, entry_id: int) -> Row:
    return dict(conn.execute(select(LOG).where(LOG.c.id == entry_id)).mappings().one())


def _set(conn: Connection, entry_id: int, values: Row) -> None:
    conn.execute(update(LOG).where(LOG.c.id == entry_id).values(**values))


def _insert(conn: Connection, values: Row) -> None:
    conn.execute(insert_into(LOG).values(**values))


def _shift_up(conn: Connection, from_id: int) -> None:
    """Renumber entries ``from_id`` and later one up (two steps: ids stay unique)."""
    conn.execute(text("UPDATE access_log SET id = -id WHERE id >= :k"), {"k": from_id})
    conn.execute(text("UPDATE access_log SET id = 1 - id WHERE id < 0"))


def _other_value(column: str, value: object, rng: random.Random) -> object:
    if column == "at":
        return value + timedelta(seconds=rng.choice((-1, 1)) * rng.randint(1, 10**6))  # type: ignore[operator]
    if column in ("staff_id", "unit_id"):
        return rng.choice([v for v in (None, 1, 2, 3, 99) if v != value])
    if column == "role":
        return rng.choice([v for v in ("nurse", "gp", "consultant", "admin") if v != value])
    if column == "action":
        return rng.choice([v for v in ACTIONS if v != value])
    if column == "purpose":
        return rng.choice([v for v in ("care", "break_glass", "export") if v != value])
    if column == "outcome":
        return rng.choice([v for v in ("ok", "denied", "error") if v != value])
    if column == "patient_pseudonym":
        return rng.choice([None, f"{rng.getrandbits(128):032x}"]) if value else "0" * 32
    return f"{rng.getrandbits(256):064x}"  # prev_hash, hash


def edit(conn: Connection, rng: random.Random, size: int) -> tuple[int, str]:
    k = rng.randint(1, size)
    column = rng.choice(COLUMNS)
    _set(conn, k, {column: _other_value(column, _row(conn, k)[column], rng)})
    return k, f"edit {column} of {k}"


def delete(conn: Connection, rng: random.Random, size: int) -> tuple[int, str]:
    k = rng.randint(1, size)
    conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": k})
    return k, f"delete {k}"


def insert(conn: Connection, rng: random.Random, size: int) -> tuple[int, str]:
    """A row added by hand at position k: the real previous hash, a made-up hash; later
    entries renumbered. (k = size + 1 appends after the recorded end.)"""
    k = rng.randint(1, size + 1)
    template = _row(conn, rng.randint(1, size))
    prev = _row(conn, k - 1)["hash"] if k > 1 else access_log.GENESIS
    if k <= size:
        _shift_up(conn, k)
    _insert(conn, {**template, "id": k, "prev_hash": prev,
                   "hash": hashlib.sha256(f"forged {k}".encode()).hexdigest()})
    return k, f"insert at {k}"


def swap(conn: Connection, rng: random.Random, size: int) -> tuple[int, str]:
    i, j = sorted(rng.sample(range(1, size + 1), 2))
    first, second = _row(conn, i), _row(conn, j)
    fields = [c for c in COLUMNS if c != "hash"]
    _set(conn, i, {**{c: second[c] for c in fields}, "hash": "swap"})
    _set(conn, j, {c: first[c] for c in COLUMNS})
    _set(conn, i, {"hash": second["hash"]})
    return i, f"swap {i} and {j}"


def truncate(conn: Connection, rng: random.Random, size: int) -> tuple[int, str]:
    k = rng.randint(1, size)
    conn.execute(text("DELETE FROM access_log WHERE id >= :k"), {"k": k})
    return k, f"truncate from {k}"


TAMPERING: dict[str, Callable[[Connection, random.Random, int], tuple[int, str]]] = {
    "edit": edit, "delete": delete, "insert": insert, "swap": swap, "truncate": truncate,
}


def test_random_tampering_in_a_10000_entry_log_is_always_found_at_the_first_bad_entry(app) -> None:
    fill(app, LOG_SIZE)
    assert verdict_of(app) == access_log.Verdict(True, LOG_SIZE)
    rng = random.Random(20261129)
    misses: list[str] = []
    trials = 0
    with tampering(app) as conn:
        for kind, tamper in TAMPERING.items():
            for _ in range(TRIALS_PER_KIND):
                trial = conn.begin_nested()  # each trial starts from the intact log
                expected, what = tamper(conn, rng, LOG_SIZE)
                verdict = verify_on(conn)
                trial.rollback()
                trials += 1
                if verdict.ok or verdict.first_bad_id != expected:
                    misses.append(f"{kind}, {what}: {verdict}")
    assert not misses, f"{len(misses)} of {trials} not found at the first bad entry: {misses[:5]}"
    assert verdict_of(app) == access_log.Verdict(True, LOG_SIZE)  # every trial rolled back


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_at_both_ends(app, kind: str) -> None:
    fill(app, 20)

    class Fixed(random.Random):
        def __init__(self, value: int) -> None:
            super().__init__(0)
            self.value = value

        def randint(self, a: int, b: int) -> int:
            return max(a, min(b, self.value))

        def sample(self, population, k):  # type: ignore[no-untyped-def,override]
            return [1, 20] if k == 2 else super().sample(population, k)

    for position in (1, 20, 21):
        with tampering(app) as conn:
            expected, what = TAMPERING[kind](conn, Fixed(position), 20)
            verdict = verify_on(conn)
        assert not verdict.ok and verdict.first_bad_id == expected, (what, verdict)


def test_problems_are_named(app) -> None:
    fill(app, 10)
    cases = {
        "DELETE FROM access_log WHERE id = 4": (4, "missing entry"),
        "UPDATE access_log SET role = 'admin' WHERE id = 6": (6, "entry was changed"),
        "UPDATE access_log SET prev_hash = hash WHERE id = 7": (7, "previous hash does not match"),
        "DELETE FROM access_log WHERE id >= 9": (9, "entries after this point are missing"),
        "UPDATE access_log_head SET last_id = 8": (9, "entry after the recorded end of the log"),
        "UPDATE access_log_head SET last_hash = 'x'": (10, "head does not match the last entry"),
    }
    for statement, (first_bad, problem) in cases.items():
        with tampering(app) as conn:
            conn.execute(text(statement))
            verdict = verify_on(conn)
        assert (verdict.ok, verdict.first_bad_id, verdict.problem) == (False, first_bad, problem)


def test_an_entry_outside_the_sequence_is_found(app) -> None:
    fill(app, 5)
    with tampering(app) as conn:
        _insert(conn, {**_row(conn, 3), "id": 0, "hash": "f" * 64})
        verdict = verify_on(conn)
    assert (verdict.ok, verdict.first_bad_id) == (False, 0)


def _forge(conn, keyring) -> access_log.Verdict:  # type: ignore[no-untyped-def]
    """Insert a forged entry 5 (role changed) with its hash computed under ``keyring``."""
    forged = {**_row(conn, 5), "id": 5, "prev_hash": _row(conn, 4)["hash"], "role": "admin"}
    _shift_up(conn, 5)

    class Entry:
        pass

    entry = Entry()
    entry.__dict__.update(forged)
    forged["hash"] = entry_hash(keyring, str(forged["prev_hash"]), entry)
    _insert(conn, forged)
    return verify_on(conn)


def test_a_forged_row_without_the_key_is_caught_at_the_row(app, tmp_path) -> None:
    """The chain is keyed: someone with write access to the database but not the key file
    cannot compute a forged row's hash."""
    from screening.crypto.keys import init_key_file

    fill(app, 10)
    other_keys = init_key_file(tmp_path / "other-keys.json")
    with tampering(app) as conn:
        verdict = _forge(conn, other_keys)
    assert (verdict.ok, verdict.first_bad_id, verdict.problem) == (
        False, 5, "entry was changed")


def test_a_forged_row_with_the_key_breaks_the_chain_at_the_next_entry(app) -> None:
    """Even with the key, a forged row that is not re-chained breaks at the next entry."""
    fill(app, 10)
    with tampering(app) as conn:
        verdict = _forge(conn, app.extensions["screening.keys"])
    assert (verdict.ok, verdict.first_bad_id, verdict.problem) == (
        False, 6, "previous hash does not match")


# ------------------------------------------------------------------------- concurrency


def test_concurrent_appends_make_one_unbroken_chain(app) -> None:
    keyring = app.extensions["screening.keys"]
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with _db(app).write() as session:  # the first ones race to create the head
                    record(session, keyring, Actor(number, "nurse", None), "patient_view",
                           str(uuid.UUID(int=number * 1000 + i)))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    assert verdict_of(app) == access_log.Verdict(True, threads * per_thread)


def test_verify_while_the_app_appends(app) -> None:
    """No false alarm when entries arrive during the walk."""
    keyring = app.extensions["screening.keys"]
    fill(app, 3_000)
    stop = threading.Event()
    appended = []

    def append() -> None:
        while not stop.is_set():
            with _db(app).write() as session:
                for _ in range(5):
                    record(session, keyring, Actor(1, "nurse"), "patient_view",
                           str(uuid.uuid4()))
            appended.append(5)

    worker = threading.Thread(target=append)
    worker.start()
    try:
        verdicts = []
        for _ in range(8):
            session = _db(app).read_session()
            try:
                # many reads: a wide window
                verdicts.append(verify(session, app.extensions["screening.keys"], batch=100))
            finally:
                session.close()
    finally:
        stop.set()
        worker.join(30)
    assert all(verdict.ok for verdict in verdicts), [v for v in verdicts if not v.ok]
    assert appended and verdicts[-1].entries >= 3_000
    assert verdict_of(app) == access_log.Verdict(True, 3_000 + sum(appended))


# ------------------------------------------------------------------------- the commands


def test_verify_command(app) -> None:
    runner = app.test_cli_runner()
    fill(app, 12)
    result = runner.invoke(args=["access-log", "verify"])
    assert result.exit_code == 0 and result.output.strip() == "ok, 12 entries"
    engine = _db(app).engine
    with engine.begin() as conn:
        drop_triggers(conn)
        conn.execute(text("UPDATE access_log SET outcome = 'denied' WHERE id = 7"))
    result = runner.invoke(args=["access-log", "verify"])
    assert result.exit_code == 1
    assert "entry 7" in result.output and "entry was changed" in result.output


def test_patient_command_lists_who_saw_the_record(app) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse1", "nurse", ("home-a",))
    gp = make_staff(app, "gp1", "gp", ("gp-a",))
    keyring = app.extensions["screening.keys"]
    patient, other = make_patient(app), make_patient(app)
    with _db(app).write() as session:
        record(session, keyring, Actor(nurse.id, "nurse", 1), "patient_view", patient)
        record(session, keyring, Actor(gp.id, "gp", 3), "patient_view", patient,
               outcome="denied")
        record(session, keyring, Actor(gp.id, "gp", 3), "patient_view", other)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["access-log", "patient", patient.upper()])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    # Oslo time, ISO 8601 with the offset, as on the access-log page (the header said UTC)
    assert lines[0].split()[:3] == ["time", "(Oslo)", "staff"]
    assert "nurse1 (Nurse1)" in lines[1] and "home-a" in lines[1] and "patient_view" in lines[1]
    assert "gp1 (Gp1)" in lines[2] and "denied" in lines[2]
    assert lines[-1] == "2 entries" and patient not in result.output
    # the listing itself is on record, for this patient
    again = runner.invoke(args=["access-log", "patient", patient])
    assert "system" in again.output and "access_report" in again.output
    assert "patient_request" in again.output and again.output.strip().endswith("3 entries")
    assert runner.invoke(args=["access-log", "verify"]).output.strip() == "ok, 5 entries"


def test_patient_command_for_an_erased_or_unknown_patient(app) -> None:
    keyring = app.extensions["screening.keys"]
    gone = str(uuid.uuid4())
    with _db(app).write() as session:
        record(session, keyring, Actor(3, "nurse"), "patient_erase", gone, purpose="erasure")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["access-log", "patient", gone])
    assert result.exit_code == 0
    assert "erased, or never registered" in result.output
    assert "staff #3" in result.output and "patient_erase" in result.output
    assert result.output.strip().endswith("1 entries")
    bad = runner.invoke(args=["access-log", "patient", "01020312345"])
    assert bad.exit_code != 0 and "uuid" in bad.output and "Traceback" not in bad.output
