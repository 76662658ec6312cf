"""Finding a patient by name among 10,000 patients of one unit, on SQLite and PostgreSQL.

In a temporary folder: a fresh key file, then for SQLite (a file) and for PostgreSQL (a
throwaway cluster, ``tests.pg_cluster.cluster``, or ``--postgres-url URL``) a migrated
database with 10,000 patients in the nurse's unit and 3,000 in each of two other units,
inserted in bulk with real keys, real sealed fields and real search terms (what
``services.patients.register`` writes, without a transaction and an access-log row per
patient). Names are made up from syllables, surnames and given names drawn with a Zipf
distribution (see :func:`zipf_pool`), so that some are common (as Hansen and Johansen
are) and most rare; a third of the patients have a second given name.

Measured through the service as the web uses it (``patient_search.parse_query`` and
``search_names``: the terms read, the candidates opened and confirmed, at most 25 shown,
one access-log row per patient shown written and committed):

* ``names``: 200 searches typed as a nurse would: 3 to 6 letters of a patient's surname,
  or 2 to 4 letters of the given name and 2 to 4 of the surname;
* ``birth date``: 50 searches for a patient's birth date (dd.mm.åååå);
* ``broadest``: one or two letters of the ten commonest surnames, the most work one search
  does (up to ``CANDIDATE_MAX`` candidates opened; beyond that none, "type more");
* the **baseline**, in the same run: 200 look-ups by fødselsnummer through
  ``patient_search.search_fnr`` (HMAC, one indexed SELECT, the care check, the sealed
  number opened, one access-log row written and committed): the plain indexed look-up.

``ratio_vs_indexed`` = median name search / median number look-up. The last line::

    {"bench": "patient_search", "names_10k_ms": …, "ratio_vs_indexed": …, …}

where ``names_10k_ms`` and ``ratio_vs_indexed`` are those of the slower database (each
database's figures follow). Goal (issue 16): under 200 ms on both. About a minute.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from screening import migrate  # noqa: E402
from screening.crypto.fields import new_data_key, seal, wrap_data_key  # noqa: E402
from screening.crypto.hashing import blind_index  # noqa: E402
from screening.crypto.keys import KeyRing, init_key_file  # noqa: E402
from screening.database import Database  # noqa: E402
from screening.models import Patient, PatientSearchTerm  # noqa: E402
from screening.services import accounts, patient_search, patients, search_terms  # noqa: E402
from screening.settings import Settings  # noqa: E402
from tests.app.fnr import synthetic_fnrs  # noqa: E402

MAIN, OTHERS = 10_000, 3_000
NAME_SEARCHES, DATE_SEARCHES, NUMBER_LOOKUPS = 200, 50, 200
CHUNK = 2_000
ONSETS = ("b", "br", "d", "dr", "f", "fj", "g", "gr", "h", "j", "k", "kj", "kl", "l", "m",
          "n", "r", "s", "sk", "st", "t", "tr", "v", "å", "ø", "æ", "e", "i", "o", "a")
NUCLEI = ("a", "e", "i", "o", "u", "y", "æ", "ø", "å", "ei", "au")
CODAS = ("", "n", "r", "l", "s", "t", "k", "nd", "ng", "rd", "st", "ll", "m")
ENDINGS = ("sen", "heim", "stad", "vik", "rud", "land", "dal", "haug", "lien", "bakken",
           "tveit", "moen", "nes", "strøm", "holt", "skog", "berg", "sund", "ås", "voll")


def log(message: str) -> None:
    print(message, flush=True)


def syllable(rng: random.Random) -> str:
    return rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS)


def zipf_pool(rng: random.Random, size: int, make: Any) -> tuple[list[str], list[float]]:
    """``size`` distinct names and Zipf-Mandelbrot weights 1/(rank + 10): the most common
    surname of 3,000 is about 1.7 % of the people (Hansen is about 1 % of Norway's), the
    most common given name of 400 about 2.7 %."""
    pool = list(dict.fromkeys(make() for _ in range(size * 2)))[:size]
    return pool, [1 / (rank + 10) for rank in range(len(pool))]


@dataclass(frozen=True)
class Person:
    fnr: str
    name: str
    given: str
    surname: str
    birth: date


def people(numbers: list[str], seed: int) -> list[Person]:
    rng = random.Random(seed)
    surnames, s_weights = zipf_pool(
        rng, 3_000, lambda: (syllable(rng) + rng.choice(ENDINGS)).capitalize())
    givens, g_weights = zipf_pool(
        rng, 400, lambda: (syllable(rng) + syllable(rng)).capitalize())
    out = []
    for number in numbers:
        given = rng.choices(givens, g_weights)[0]
        surname = rng.choices(surnames, s_weights)[0]
        middle = " " + rng.choices(givens, g_weights)[0] if rng.random() < 0.33 else ""
        info = patients.validate_fnr(number)
        out.append(Person(number, f"{given}{middle} {surname}", given, surname,
                          info.birth_date))
    return out


def rows(keyring: KeyRing, crowd: list[Person], unit_id: int, first_id: int
         ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(patient rows, search-term rows) in chunks: what a registration writes."""
    now = datetime.now(UTC)
    unit_key = search_terms.unit_key(keyring, unit_id)
    batch: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    for offset, person in enumerate(crowd):
        row_id, row_uuid, key = first_id + offset, str(uuid.uuid4()), new_data_key()

        def sealed(column: str, value: str, key: bytes = key, row_uuid: str = row_uuid) -> bytes:
            return seal(key, value, table="patients", column=column, row_uuid=row_uuid)

        info = patients.validate_fnr(person.fnr)
        batch.append({
            "id": row_id, "uuid": row_uuid, "fnr_index": blind_index(keyring, person.fnr),
            "fnr_sealed": sealed("fnr", person.fnr), "name_sealed": sealed("name", person.name),
            "birth_date_sealed": sealed("birth_date", info.birth_date.isoformat()),
            "sex_sealed": sealed("sex", info.sex),
            "data_key_wrapped": wrap_data_key(keyring, key, patients.key_context(row_uuid)),
            "unit_id": unit_id, "created_at": now})
        terms.extend({"unit_id": unit_id, "term": term, "patient_id": row_id}
                     for term in search_terms.patient_terms(unit_key, person.name,
                                                            info.birth_date))
        if len(batch) == CHUNK:
            yield batch, terms
            batch, terms = [], []
    if batch:
        yield batch, terms


def load(db: Database, keyring: KeyRing, units: list[tuple[int, list[Person]]]) -> None:
    next_id = 1
    for unit_id, crowd in units:
        for patient_rows, term_rows in rows(keyring, crowd, unit_id, next_id):
            with db.engine.begin() as conn:
                conn.execute(insert(Patient.__table__), patient_rows)
                conn.execute(insert(PatientSearchTerm.__table__), term_rows)
        next_id += len(crowd)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('patients_id_seq', (SELECT max(id) FROM patients))")
            conn.exec_driver_sql("ANALYZE")


class Nurse:
    def __init__(self, unit_id: int) -> None:
        self.id, self.role, self.unit_ids = 1, "nurse", frozenset({unit_id})


def timed(function: Any, inputs: list[Any]) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for value in inputs:
        start = time.perf_counter()
        results.append(function(value))
        times.append((time.perf_counter() - start) * 1000)
    return times, results


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"median {statistics.median(ordered):.1f} ms, p95 "
            f"{ordered[int(len(ordered) * 0.95)]:.1f} ms, max {ordered[-1]:.1f} ms")


def run(name: str, url: str, folder: Path, keyring: KeyRing, crowds: list[list[Person]]
        ) -> dict[str, float]:
    settings = Settings(env="test", instance_dir=folder, database_url=url)
    migrate.upgrade(settings)
    db = Database(settings)
    unit_ids = [accounts.ensure_unit(db, f"unit-{i}", f"Unit {i}", "home_care")
                for i in range(len(crowds))]
    start = time.perf_counter()
    load(db, keyring, list(zip(unit_ids, crowds, strict=True)))
    log(f"== {name}: {sum(map(len, crowds)):,} patients ({len(crowds[0]):,} in the nurse's "
        f"unit) with sealed fields and search terms loaded in {time.perf_counter() - start:.1f} s")
    nurse, mine = Nurse(unit_ids[0]), crowds[0]
    rng = random.Random(16)
    typed = []
    for person in rng.sample(mine, NAME_SEARCHES):
        if rng.random() < 0.6:
            typed.append(person.surname[:rng.randint(3, 6)].lower())
        else:
            typed.append(f"{person.given[:rng.randint(2, 4)]} {person.surname[:rng.randint(2, 4)]}"
                         .lower())
    dated = [f"{p.birth:%d.%m.%Y}" for p in rng.sample(mine, DATE_SEARCHES)]
    # the broadest searches: one or two letters of the commonest surnames (the most work a
    # search does: up to CANDIDATE_MAX candidates opened, or none when there are more)
    common = [name for name, _n in Counter(p.surname for p in mine).most_common(10)]
    broad = [name[:2].lower() for name in common] + [name[:1].lower() for name in common[:5]]
    numbers = [p.fnr for p in rng.sample(mine, NUMBER_LOOKUPS)]

    def by_name(text: str) -> patient_search.Found:
        return patient_search.search_names(db, keyring, nurse, patient_search.parse_query(text))

    by_name("warm up")
    patient_search.search_fnr(db, keyring, nurse, numbers[0])
    number_times, found = timed(lambda n: patient_search.search_fnr(db, keyring, nurse, n),
                                numbers)
    assert all(found), "a number look-up failed"
    name_times, results = timed(by_name, typed)
    date_times, dated_results = timed(by_name, dated)
    broad_times, broad_results = timed(by_name, broad)
    assert all(r.hits or r.too_many for r in results + dated_results), "a search found nobody"
    shown = [len(r.hits) for r in results]
    log(f"by fødselsnummer (baseline): {summary(number_times)}")
    log(f"by name, {len(typed)} searches: {summary(name_times)}; patients shown: median "
        f"{statistics.median(shown):.0f}, {sum(r.more for r in results)} with more than 25, "
        f"{sum(r.too_many for r in results)} with too many to open")
    log(f"by birth date, {len(dated)} searches: {summary(date_times)}")
    log(f"broadest, {len(broad)} searches of 1-2 letters: {summary(broad_times)}; "
        f"{sum(r.too_many for r in broad_results)} with too many to open")
    db.dispose()
    median_names, median_number = statistics.median(name_times), statistics.median(number_times)
    return {
        "names_10k_ms": round(median_names, 1),
        "names_p95_ms": round(sorted(name_times)[int(len(name_times) * 0.95)], 1),
        "birth_date_ms": round(statistics.median(date_times), 1),
        "broadest_max_ms": round(max(broad_times), 1),
        "indexed_ms": round(median_number, 2),
        "ratio_vs_indexed": round(median_names / median_number, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres-url", help="use this PostgreSQL database instead of a "
                        "throwaway cluster (it must be empty)")
    parser.add_argument("--sqlite-only", action="store_true")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="screening-bench-search-"))
    folder.chmod(0o700)
    keyring = init_key_file(folder / "keys.json")
    start = time.perf_counter()
    numbers = synthetic_fnrs(MAIN + 2 * OTHERS, seed=2026)
    crowds = [people(numbers[:MAIN], 2026), people(numbers[MAIN:MAIN + OTHERS], 2027),
              people(numbers[MAIN + OTHERS:], 2028)]
    log(f"made {sum(map(len, crowds)):,} synthetic people in {time.perf_counter() - start:.1f} s")
    figures = {"sqlite": run("sqlite", f"sqlite:///{folder / 'bench.sqlite3'}", folder, keyring,
                             crowds)}
    if not arguments.sqlite_only:
        if arguments.postgres_url:
            figures["postgres"] = run("postgres", arguments.postgres_url, folder, keyring, crowds)
        else:
            from tests.pg_cluster import cluster

            with cluster() as url:
                figures["postgres"] = run("postgres", url, folder, keyring, crowds)
    for file in sorted(folder.iterdir()):
        file.unlink()
    folder.rmdir()
    worst = max(figures.values(), key=lambda f: f["names_10k_ms"])
    line = {"bench": "patient_search", "names_10k_ms": worst["names_10k_ms"],
            "ratio_vs_indexed": worst["ratio_vs_indexed"]}
    for database, values in figures.items():
        line.update({f"{database}_{key}": value for key, value in values.items()})
    print(json.dumps(line))


if __name__ == "__main__":
    main()
