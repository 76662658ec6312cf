"""The anonymised report on 1,000,000 report facts, next to a raw SQL GROUP BY over the facts.

On SQLite (a file in a temporary folder) and on a throwaway PostgreSQL cluster started here
(``tests.pg_cluster.cluster``), the same deterministic synthetic facts are inserted in bulk
(Core insert, executemany, in batches) into the migrated schema, so the database's triggers
count every fact into the monthly report counts as it is written (``report_month_counts``,
``screening/models/report_counts.py``), as in production. The counts are then checked
against the facts (sums by instrument and month, counted afresh from ``report_facts``), and
both are timed on the same period:

- raw: ``SELECT zone, age_band, sex, count(*) FROM report_facts WHERE instrument, month
  range GROUP BY zone, age_band, sex`` - a scan of the facts, the least any report of the
  headline table would do if it read them;
- report: ``services.reports.report`` - the one GROUP BY the report issues over the monthly
  counts of the period and its plan quarters (not the facts), then monthly suppression, the
  period, eight quarters and the plan period released, and every rate.

Each is run several times; the median counts. The last line printed is one JSON object:

    {"bench": "report", "sqlite_report_s": ..., "sqlite_ratio_vs_raw": ...,
     "postgres_report_s": ..., "postgres_ratio_vs_raw": ..., "peak_rss_mb": ...}

``peak_rss_mb`` is this process's peak resident memory (the database servers not included).
Run from the repository root: ``.venv/bin/python benchmarks/report.py`` (a few minutes, most
of it the load: each fact written fires the trigger).
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection, create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from screening import migrate  # noqa: E402
from screening.core.report_tables import AGE_BANDS, PATHWAYS, ZONES, Period  # noqa: E402
from screening.models import ReportFact, ReportMonthCount, Unit  # noqa: E402
from screening.services.reports import Filters, report  # noqa: E402
from screening.settings import Settings  # noqa: E402

FACTS = 1_000_000
BATCH = 50_000
RUNS = 5
PERIOD = Period("2023-01", "2024-12")
MONTHS = PERIOD.months
UNITS = 12
RAW = text("SELECT zone, age_band, sex, count(*) FROM report_facts "
           "WHERE instrument = 'audit' AND month >= :first AND month <= :last "
           "GROUP BY zone, age_band, sex")


def facts(rng: random.Random) -> Iterator[list[dict[str, object]]]:
    """Deterministic synthetic facts, in batches: skewed units, mostly AUDIT zone I."""
    unit_weights = [2 ** -i for i in range(UNITS)]
    batch: list[dict[str, object]] = []
    for _ in range(FACTS):
        audit = rng.random() < 0.85
        zone = rng.choices(ZONES, (70, 20, 6, 4))[0] if audit else None
        level = min(4, ZONES.index(zone) + 1 + (rng.random() < 0.2)) if zone else None
        follow_up = rng.choices(("none", "pending", "on_time", "late"), (50, 10, 30, 10))[0]
        row: dict[str, object] = {
            "month": rng.choice(MONTHS), "age_band": rng.choice(AGE_BANDS),
            "sex": rng.choice(("male", "female")),
            "unit_id": rng.choices(range(1, UNITS + 1), unit_weights)[0],
            "setting": rng.choice(("home_care", "gp_practice")),
            "instrument": "audit" if audit else "dudit", "zone": zone, "level": level,
            "positive": None if audit else rng.random() < 0.2,
            "conversation_delivered": bool(level and level >= 2 and rng.random() < 0.6),
            "follow_up": follow_up,
        }
        for pathway in PATHWAYS:
            row[f"pw_{pathway}"] = rng.random() < 0.15
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def load(url: str) -> None:
    migrate.upgrade(Settings(env="test", database_url=url))
    engine = create_engine(Settings(env="test", database_url=url).resolved_database_url)
    with engine.begin() as conn:
        conn.execute(insert(Unit), [{"id": i, "code": f"unit-{i}", "name": f"Unit {i}",
                                     "kind": "home_care", "active": True}
                                    for i in range(1, UNITS + 1)])
        for batch in facts(random.Random(20240601)):
            conn.execute(insert(ReportFact), batch)
    # What a database does on its own after a bulk load (autovacuum, a WAL checkpoint), done
    # here so that it does not run in the middle of the measurements.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE report_facts, report_month_counts"))
        else:
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()


def check_counts(conn: Connection) -> int:
    """The monthly counts kept by the triggers equal the facts counted afresh (by instrument
    and month, every count); returns the number of count rows."""
    fact, counts = ReportFact.__table__.c, ReportMonthCount.__table__.c
    flags = (fact.conversation_delivered, fact.follow_up == "on_time", fact.follow_up == "late",
             fact.follow_up == "pending", *(fact[f"pw_{pathway}"] for pathway in PATHWAYS))
    sums = (counts.n, counts.conversations_delivered, counts.on_time, counts.late,
            counts.pending, *(counts[f"pw_{pathway}"] for pathway in PATHWAYS))
    counted = {tuple(row) for row in conn.execute(
        select(fact.instrument, fact.month, func.count(),
               *(func.count().filter(flag) for flag in flags))
        .group_by(fact.instrument, fact.month))}
    kept = {tuple(row) for row in conn.execute(
        select(counts.instrument, counts.month, *(func.sum(column) for column in sums))
        .group_by(counts.instrument, counts.month))}
    assert kept == counted, kept ^ counted
    return int(conn.scalar(select(func.count()).select_from(ReportMonthCount)) or 0)


def median_seconds(work, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(url: str) -> tuple[float, float]:
    """(report seconds, raw GROUP BY seconds), medians, on a loaded database."""
    engine = create_engine(Settings(env="test", database_url=url).resolved_database_url)
    first, last = PERIOD.start, PERIOD.end
    with Session(engine) as session:
        count = session.scalar(select(text("count(*)")).select_from(ReportFact))
        assert count == FACTS, count
        start = time.perf_counter()
        rows = check_counts(session.connection())
        print(f"  {rows} count rows, equal to the facts counted afresh "
              f"(checked in {time.perf_counter() - start:.1f} s)", flush=True)

        def raw() -> None:
            assert session.execute(RAW, {"first": first, "last": last}).all()

        def full() -> None:
            result = report(session, Filters(PERIOD, "audit"), k=5)
            assert result.release["results"].figures

        raw()
        full()  # warm the caches once, for both
        raw_s = median_seconds(raw)
        report_s = median_seconds(full)
    engine.dispose()
    return report_s, raw_s


def main() -> None:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="screening-bench-") as folder:
        url = f"sqlite:///{folder}/report.sqlite3"
        start = time.perf_counter()
        load(url)
        print(f"sqlite: loaded {FACTS} facts in {time.perf_counter() - start:.1f} s", flush=True)
        report_s, raw_s = measure(url)
        print(f"sqlite: report {report_s:.3f} s, raw GROUP BY {raw_s:.3f} s", flush=True)
        results.update(sqlite_report_s=report_s, sqlite_ratio_vs_raw=report_s / raw_s)
    from tests.pg_cluster import cluster

    with cluster() as pg_url:
        start = time.perf_counter()
        load(pg_url)
        print(f"postgres: loaded {FACTS} facts in {time.perf_counter() - start:.1f} s",
              flush=True)
        report_s, raw_s = measure(pg_url)
        print(f"postgres: report {report_s:.3f} s, raw GROUP BY {raw_s:.3f} s", flush=True)
        results.update(postgres_report_s=report_s, postgres_ratio_vs_raw=report_s / raw_s)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"bench": "report",
                      "sqlite_report_s": round(results["sqlite_report_s"], 3),
                      "sqlite_ratio_vs_raw": round(results["sqlite_ratio_vs_raw"], 2),
                      "postgres_report_s": round(results["postgres_report_s"], 3),
                      "postgres_ratio_vs_raw": round(results["postgres_ratio_vs_raw"], 2),
                      "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
