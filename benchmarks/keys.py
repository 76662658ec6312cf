"""Key rotation, re-encryption and lookup by fødselsnummer at scale, on a SQLite file.

In a temporary folder: a fresh key file and a migrated SQLite database, then

1. 100,000 patients with real keys and sealed fields (data key wrapped under the KEK, blind
   index, sealed fnr, name, birth date and sex), inserted in bulk;
2. ``keys rotate``: a new KEK, and ``services.key_rotation.rewrap_all`` re-wraps all 100,000
   data keys in batches of 200 (``rewrap_100k_s``);
3. ``services.key_rotation.reencrypt_all``: every patient gets a new data key and all four
   sealed fields are sealed again, in batches of 50 patients (``reencrypt_100k_s``);
   meanwhile another process plays the app, writing an access-log row every 20 ms (its
   longest wait is printed), and every write
   transaction of steps 2–3 is timed from begin to commit (``max_write_lock_ms``);
4. a decrypt-and-compare scan of 10,000 patients for one number, what finding a patient
   would cost without a blind index (``scan_10k_ms``);
5. 900,000 more patients (keyed index and uuid real, sealed columns filler of realistic
   size) for 1,000,000, and 1,000 lookups of random registered numbers through the blind
   index: HMAC + indexed SELECT (``lookup_1m_ms``, mean; percentiles printed above).

Targets (issue 4): re-wrap under 5 s, no write lock over 50 ms, lookup under 5 ms.
The last line printed is one JSON object::

    {"bench": "keys", "rewrap_100k_s": …, "reencrypt_100k_s": …, "max_write_lock_ms": …,
     "lookup_1m_ms": …, "scan_10k_ms": …}

All numbers are synthetic (``tests/app/fnr.py``). About 2–4 minutes on two cores.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from screening import migrate  # noqa: E402
from screening.crypto.fields import (  # noqa: E402
    new_data_key,
    open_sealed,
    seal,
    unwrap_data_key,
    wrap_data_key,
)
from screening.crypto.hashing import blind_index  # noqa: E402
from screening.crypto.keys import init_key_file, rotate_key_file  # noqa: E402
from screening.database import Database  # noqa: E402
from screening.models import Patient  # noqa: E402
from screening.services import (  # noqa: E402
    access_log,
    accounts,
    key_rotation,
    patient_search,
    patients,
)
from screening.settings import Settings  # noqa: E402
from tests.app.fnr import check_digits  # noqa: E402

SCALE = 100 if "--small" in sys.argv else 1  # --small: a quick check of the script
REAL = 100_000 // SCALE
TOTAL = 1_000_000 // SCALE
SCAN = 10_000 // SCALE
LOOKUPS = 1_000
CHUNK = 20_000


def log(message: str) -> None:
    print(message, flush=True)


def synthetic_numbers(count: int, seed: int) -> list[str]:
    """Distinct valid synthetic numbers: random birth dates 1925–1964, individual 000–499."""
    rng = random.Random(seed)
    start = date(1925, 1, 1)
    seen: dict[str, None] = {}
    while len(seen) < count:
        birth = start + timedelta(days=rng.randrange(40 * 365))
        nine = f"{birth:%d%m}{birth.year % 100:02d}{rng.randrange(500):03d}"
        digits = check_digits(nine)
        if digits is not None:
            seen[nine + digits] = None
    return list(seen)


class TimedDatabase:
    """The app's Database, with every write transaction timed (begin to commit)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.durations: list[float] = []
        self.is_sqlite = db.is_sqlite
        self.engine = db.engine

    def read_session(self) -> Session:
        return self.db.read_session()

    @contextmanager
    def write(self) -> Iterator[Session]:
        # Timed to the commit: the SQLite checkpoint that ``Database.write`` may run after
        # it (outside the write gate, holding no write lock) is not counted.
        start = time.perf_counter()
        with self.db.write() as session:
            event.listen(session, "after_commit",
                         lambda _s: self.durations.append(time.perf_counter() - start),
                         once=True)
            yield session


def locks(durations: list[float]) -> str:
    ordered = sorted(durations)
    over = sum(1 for d in ordered if d > 0.05)
    return (f"{len(ordered)} write transactions: median {ordered[len(ordered) // 2] * 1000:.1f} "
            f"ms, p99 {ordered[int(len(ordered) * 0.99)] * 1000:.1f} ms, longest "
            f"{ordered[-1] * 1000:.1f} ms, {over} over 50 ms")


def app_process(settings: Settings, stop: Any, results: Any) -> None:
    """Plays the running web app, in a process of its own: one small write transaction (an
    access-log row) every 20 ms until told to stop; sends back how long each took."""
    from screening.crypto.keys import load_key_file

    db = Database(settings)
    keyring = load_key_file(settings.resolved_key_file)
    actor = access_log.Actor(None, "system")
    latencies = []
    while not stop.wait(0.02):
        start = time.perf_counter()
        with db.write() as session:
            access_log.record(session, keyring, actor, "access_report", None,
                              purpose="administration")
        latencies.append(time.perf_counter() - start)
    db.dispose()
    results.put(latencies)


def real_rows(keyring: Any, numbers: list[str], unit_id: int) -> Iterator[list[dict[str, Any]]]:
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    for i, number in enumerate(numbers):
        row_uuid = str(uuid.uuid4())
        key = new_data_key()
        info = patients.validate_fnr(number) if i < 1000 else None  # spot-check the generator
        birth = info.birth_date.isoformat() if info else f"19{number[4:6]}-{number[2:4]}-01"

        def sealed(column: str, value: str, key: bytes = key, row_uuid: str = row_uuid) -> bytes:
            return seal(key, value, table="patients", column=column, row_uuid=row_uuid)

        batch.append({
            "uuid": row_uuid, "fnr_index": blind_index(keyring, number),
            "fnr_sealed": sealed("fnr", number),
            "name_sealed": sealed("name", f"Syntetisk Pasient {i:07d}"),
            "birth_date_sealed": sealed("birth_date", birth),
            "sex_sealed": sealed("sex", "male" if int(number[8]) % 2 else "female"),
            "data_key_wrapped": wrap_data_key(keyring, key, patients.key_context(row_uuid)),
            "unit_id": unit_id, "created_at": now,
        })
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def filler_rows(keyring: Any, numbers: list[str], unit_id: int) -> Iterator[list[dict[str, Any]]]:
    """Rows for the lookup table: real uuid and keyed index; sealed columns are random bytes
    of the sizes real ones have (they are never opened)."""
    now = datetime.now(UTC)
    blobs = {name: os.urandom(size) for name, size in (
        ("fnr_sealed", 44), ("name_sealed", 57), ("birth_date_sealed", 43),
        ("sex_sealed", 37), ("data_key_wrapped", 72))}
    batch: list[dict[str, Any]] = []
    for number in numbers:
        batch.append({"uuid": str(uuid.uuid4()), "fnr_index": blind_index(keyring, number),
                      **blobs, "unit_id": unit_id, "created_at": now})
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(db: Database, chunks: Iterator[list[dict[str, Any]]]) -> None:
    for chunk in chunks:
        with db.engine.begin() as conn:
            conn.execute(insert(Patient.__table__), chunk)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="screening-bench-keys-"))
    folder.chmod(0o700)
    settings = Settings(env="test", instance_dir=folder,
                        database_url=f"sqlite:///{folder / 'bench.sqlite3'}")
    keyring = init_key_file(settings.resolved_key_file)
    from screening.crypto.keys import load_key_file

    # The app loads the key file once at start; every `flask` command loads it too.
    t0 = time.perf_counter()
    for _ in range(100):
        load_key_file(settings.resolved_key_file)
    log(f"key file load and full validation: mean {(time.perf_counter() - t0) * 10:.2f} ms "
        f"over 100 loads")
    migrate.upgrade(settings)
    db = Database(settings)
    unit_id = accounts.ensure_unit(db, "bench", "Benchmark unit", "home_care")

    t0 = time.perf_counter()
    numbers = synthetic_numbers(TOTAL, seed=20261129)
    log(f"generated {TOTAL:,} synthetic numbers in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    bulk_insert(db, real_rows(keyring, numbers[:REAL], unit_id))
    log(f"inserted {REAL:,} sealed patients in {time.perf_counter() - t0:.1f} s")

    # --- rotation: re-wrap, then re-encrypt, while the "app" writes
    keyring = rotate_key_file(settings.resolved_key_file)
    timed = TimedDatabase(db)
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    app = context.Process(target=app_process, args=(settings, stop, results))
    app.start()
    time.sleep(2)  # let it start up
    t0 = time.perf_counter()
    rewrapped = key_rotation.rewrap_all(timed, keyring, batch_size=200)  # type: ignore[arg-type]
    rewrap_s = time.perf_counter() - t0
    assert rewrapped == REAL, rewrapped
    rewrap_locks = list(timed.durations)
    log(f"re-wrapped {rewrapped:,} data keys in {rewrap_s:.2f} s ({locks(rewrap_locks)})")

    timed.durations.clear()
    t0 = time.perf_counter()
    result = key_rotation.reencrypt_all(timed, keyring, batch_size=50)  # type: ignore[arg-type]
    reencrypt_s = time.perf_counter() - t0
    assert (result.patients, result.failed) == (REAL, 0), result
    reencrypt_locks = list(timed.durations)
    stop.set()
    latencies = results.get(timeout=60)
    app.join()
    log(f"re-encrypted {result.patients:,} patients ({result.fields:,} sealed fields) in "
        f"{reencrypt_s:.1f} s ({locks(reencrypt_locks)}; {result.replanned} batches "
        "re-planned under the lock)")
    log(f"the app (another process) meanwhile: {len(latencies)} writes, longest "
        f"{max(latencies) * 1000:.1f} ms, median {statistics.median(latencies) * 1000:.2f} ms")
    max_lock_ms = max(rewrap_locks + reencrypt_locks) * 1000

    # --- decrypt-and-compare scan of 10,000 for one number (no blind index)
    target = numbers[SCAN - 1]
    session = db.read_session()
    try:
        t0 = time.perf_counter()
        rows = session.execute(select(Patient.uuid, Patient.data_key_wrapped, Patient.fnr_sealed)
                               .order_by(Patient.id).limit(SCAN)).all()
        hit = None
        for row_uuid, wrapped, sealed_fnr in rows:
            key = unwrap_data_key(keyring, wrapped, patients.key_context(row_uuid))
            if open_sealed(key, sealed_fnr, table="patients", column="fnr",
                           row_uuid=row_uuid) == target:
                hit = row_uuid
        scan_ms = (time.perf_counter() - t0) * 1000
    finally:
        session.close()
    assert hit is not None
    log(f"decrypt-and-compare scan of {SCAN:,} patients: {scan_ms:.0f} ms")

    # --- 1,000,000 patients, lookup through the blind index
    t0 = time.perf_counter()
    bulk_insert(db, filler_rows(keyring, numbers[REAL:], unit_id))
    log(f"inserted {TOTAL - REAL:,} more patients in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(7)
    probes = rng.sample(numbers, LOOKUPS)
    times = []
    session = db.read_session()
    try:
        for number in probes:
            t0 = time.perf_counter()
            normalised = patients.validate_fnr(number).normalised
            found = session.scalar(select(Patient.uuid).where(
                Patient.fnr_index == blind_index(keyring, normalised)))
            times.append(time.perf_counter() - t0)
            assert found is not None
    finally:
        session.close()
    lookup_ms = statistics.mean(times) * 1000
    ordered = sorted(times)
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    log(f"lookup among {TOTAL:,}: mean {lookup_ms:.3f} ms, median {p50 * 1000:.3f} ms, "
        f"p99 {p99 * 1000:.3f} ms, max {ordered[-1] * 1000:.3f} ms "
        "(validate + HMAC + indexed SELECT)")

    # the whole service, for comparison: a write transaction with its access-log row, the
    # care check and the sealed number opened and compared
    class Nurse:
        id, role, unit_ids = 1, "nurse", frozenset({unit_id})

    service = []
    for number in rng.sample(numbers[:REAL], 200):  # rows whose sealed number opens
        t0 = time.perf_counter()
        found_uuid = patient_search.find_by_fnr(db, keyring, Nurse(), number)
        service.append(time.perf_counter() - t0)
        assert found_uuid is not None
    log(f"services.patient_search.find_by_fnr among {TOTAL:,} (with access-log write): mean "
        f"{statistics.mean(service) * 1000:.2f} ms")
    size = sum(f.stat().st_size for f in folder.glob("bench.sqlite3*"))
    log(f"database files: {size / 1e6:.0f} MB in {folder}")
    db.dispose()
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()

    print(json.dumps({
        "bench": "keys",
        "rewrap_100k_s": round(rewrap_s, 3),
        "reencrypt_100k_s": round(reencrypt_s, 3),
        "max_write_lock_ms": round(max_lock_ms, 2),
        "lookup_1m_ms": round(lookup_ms, 4),
        "scan_10k_ms": round(scan_ms, 1),
    }))


if __name__ == "__main__":
    main()
