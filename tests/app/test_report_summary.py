"""The monthly report counts (``report_month_counts``), kept by triggers on the report facts:
after any sequence of inserts, updates (keys moved, conversations and follow-ups changed)
and deletes, through the ORM or Core, committed or rolled back, they equal the facts counted
afresh; the migration that adds them counts the facts already stored; and a report built
from them equals the report built from a GROUP BY over the facts. Runs on SQLite and on
PostgreSQL (where the trigger is deferred to the commit)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, Table, create_engine, delete, insert, select, update
from sqlalchemy.orm import Session

from screening.core.report_tables import AGE_BANDS, FOLLOW_UPS, PATHWAYS, Period, build_report
from screening.migrate import alembic_config
from screening.models import ReportFact, ReportMonthCount, Unit
from screening.services import reports
from screening.services.reports import Filters
from screening.settings import Settings
from tests.app.report_counts import counted_from_facts, grouped_from_facts, stored_counts
from tests.app.staffing import make_units
from tests.app.test_migrations import empty_url  # noqa: F401 - a fixture

FACTS = ReportFact.__table__
COUNTS = ReportMonthCount.__table__

# Few values per key, so that facts share keys and updates move them between keys.
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "month": st.sampled_from(("2025-01", "2025-02")),
    "age_band": st.sampled_from(AGE_BANDS[:2]),
    "sex": st.sampled_from(("male", "female")),
    "unit": st.integers(0, 1),
    "setting": st.sampled_from(("home_care", "gp_practice")),
    "instrument": st.sampled_from(("audit", "dudit")),
    "zone": st.sampled_from((None, "I", "II")),
    "level": st.sampled_from((None, 1, 2)),
    "positive": st.sampled_from((None, False, True)),
    "conversation_delivered": st.booleans(),
    "follow_up": st.sampled_from(FOLLOW_UPS),
    **{f"pw_{pathway}": st.booleans() for pathway in PATHWAYS},
}
FACT = st.fixed_dictionaries(VALUES)
CHANGES = st.fixed_dictionaries({}, optional=VALUES).filter(bool)
VIA = st.sampled_from(("orm", "core"))
OPERATION = st.one_of(
    st.tuples(st.just("insert"), VIA, st.lists(FACT, min_size=1, max_size=3)),
    st.tuples(st.just("update"), VIA, st.integers(0, 99), CHANGES),
    st.tuples(st.just("update_month"), st.just("core"), st.sampled_from(("2025-01", "2025-02")),
              CHANGES),
    st.tuples(st.just("delete"), VIA, st.integers(0, 99)),
    st.tuples(st.just("delete_unit"), st.just("core"), st.integers(0, 1)),
)
# Transactions of a few operations each; a transaction that is rolled back counts nothing.
TRANSACTIONS = st.lists(st.tuples(st.lists(OPERATION, min_size=1, max_size=4), st.booleans()),
                        min_size=1, max_size=6)


class RolledBack(Exception):
    pass


def _row(values: dict[str, Any], units: list[int]) -> dict[str, Any]:
    row = {k: v for k, v in values.items() if k != "unit"}
    if "unit" in values:
        row["unit_id"] = units[values["unit"]]
    return row


def _apply(session: Session, operation: tuple[Any, ...], units: list[int]) -> None:
    kind, via = operation[0], operation[1]
    session.expire_all()  # what Core statements changed is read again
    ids = list(session.scalars(select(FACTS.c.id).order_by(FACTS.c.id)))
    if kind == "insert":
        rows = [_row(values, units) for values in operation[2]]
        if via == "orm":
            session.add_all([ReportFact(**row) for row in rows])
            session.flush()
        else:
            session.execute(insert(FACTS), rows)
    elif kind in ("update", "delete") and ids:
        fact_id = ids[operation[2] % len(ids)]
        if via == "orm":
            fact = session.get(ReportFact, fact_id)
            assert fact is not None
            if kind == "delete":
                session.delete(fact)
            else:
                for column, value in _row(operation[3], units).items():
                    setattr(fact, column, value)
            session.flush()
        elif kind == "delete":
            session.execute(delete(FACTS).where(FACTS.c.id == fact_id))
        else:
            session.execute(update(FACTS).where(FACTS.c.id == fact_id)
                            .values(_row(operation[3], units)))
    elif kind == "update_month":
        session.execute(update(FACTS).where(FACTS.c.month == operation[2])
                        .values(_row(operation[3], units)))
    elif kind == "delete_unit":
        session.execute(delete(FACTS).where(FACTS.c.unit_id == units[operation[2]]))


def _read(app: Any, work: Any) -> Any:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return work(session)
    finally:
        session.close()


@pytest.fixture
def units(app) -> list[int]:  # type: ignore[no-untyped-def]
    make_units(app)
    return _read(app, lambda s: sorted(s.scalars(select(Unit.id)))[:2])


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(transactions=TRANSACTIONS)
def test_the_counts_equal_the_facts_counted_afresh(app, units, transactions) -> None:  # type: ignore[no-untyped-def]
    db = app.extensions["screening.db"]
    with db.write() as session:  # a clean start for each example
        session.execute(delete(FACTS))
    with db.write() as session:
        session.execute(delete(COUNTS))
    for operations, commit in transactions:
        try:
            with db.write() as session:
                for operation in operations:
                    _apply(session, operation, units)
                if not commit:
                    raise RolledBack
        except RolledBack:
            pass
        assert _read(app, stored_counts) == _read(app, counted_from_facts)


def test_the_migration_counts_the_facts_already_stored(empty_url: str) -> None:  # noqa: F811
    config = alembic_config(Settings(env="test", database_url=empty_url))
    command.upgrade(config, "0005")
    engine = create_engine(empty_url)
    rng = random.Random(6)
    with engine.begin() as conn:
        # The tables as they are at 0005, not as the models have them now.
        tables = MetaData()
        units = Table("units", tables, autoload_with=conn)
        facts = Table("report_facts", tables, autoload_with=conn)
        conn.execute(insert(units), [{"id": i, "code": f"u{i}", "name": f"Unit {i}",
                                      "kind": "home_care", "active": True} for i in (1, 2)])
        conn.execute(insert(facts), [_row(_random_fact(rng), [1, 2]) for _ in range(300)])
    try:
        for _ in range(2):  # and again after a downgrade
            command.upgrade(config, "head")
            with Session(engine) as session:
                expected = counted_from_facts(session)
                assert sum(counts[0] for counts in expected.values()) == 300
                assert stored_counts(session) == expected
            command.downgrade(config, "0005")
    finally:
        engine.dispose()


def _random_fact(rng: random.Random) -> dict[str, Any]:
    audit = rng.random() < 0.7
    zone = rng.choice(("I", "II", "III", "IV", None)) if audit else None
    return {
        "month": rng.choice(("2024-11", "2024-12", "2025-01", "2025-02", "2025-03")),
        "age_band": rng.choice(AGE_BANDS), "sex": rng.choice(("male", "female")),
        "unit": rng.randrange(2), "setting": rng.choice(("home_care", "gp_practice")),
        "instrument": "audit" if audit else "dudit", "zone": zone,
        "level": rng.choice((1, 2, 3, 4, None)) if audit else None,
        "positive": None if audit else rng.choice((True, False, None)),
        "conversation_delivered": rng.random() < 0.4,
        "follow_up": rng.choice(FOLLOW_UPS),
        **{f"pw_{pathway}": rng.random() < 0.3 for pathway in PATHWAYS},
    }


def test_a_report_from_the_counts_equals_one_from_the_facts(app, units) -> None:  # type: ignore[no-untyped-def]
    db = app.extensions["screening.db"]
    rng = random.Random(7)
    with db.write() as session:
        session.execute(insert(FACTS), [_row(_random_fact(rng), units) for _ in range(2000)])
    with db.write() as session:  # some count rows fall to 0, some facts change key
        session.execute(delete(FACTS).where(FACTS.c.id % 7 == 0))
        session.execute(update(FACTS).where(FACTS.c.id % 5 == 0)
                        .values(follow_up="late", conversation_delivered=True))
        session.execute(update(FACTS).where(FACTS.c.id % 11 == 0).values(month="2024-10"))
    period = Period("2025-01", "2025-03")
    for filters in (Filters(period, "audit"), Filters(period, "dudit"),
                    Filters(period, "audit", unit_ids=(units[1],)),
                    Filters(period, "audit", unit_ids=tuple(units), setting="gp_practice"),
                    Filters(Period("2024-10", "2024-12"), "dudit", setting="home_care")):
        def both(session: Session, filters: Filters = filters) -> tuple[Any, Any]:
            return reports.grouped_rows(session, filters), grouped_from_facts(session, filters)

        from_counts, from_facts = _read(app, both)
        assert from_counts and Counter(from_counts) == Counter(from_facts)
        assert all(type(value) is int for row in from_counts  # never Decimal
                   for value in (row.n, row.conversations, *row.pathways))
        report = _read(app, lambda s, f=filters: reports.report(s, f, k=5))
        assert report == build_report(filters.instrument, filters.period, from_facts, k=5)


@pytest.mark.postgres_only
def test_a_fact_written_holds_no_count_row_until_its_commit(app, units) -> None:  # type: ignore[no-untyped-def]
    """The trigger runs at the commit: a transaction that has inserted a fact, and goes on
    to lock the access-log chain head, holds no lock on the count row of its key, so another
    writer that holds the head and changes a fact of the same key never waits for it (a
    lock cycle PostgreSQL would end by failing one of the two)."""
    db = app.extensions["screening.db"]
    rng = random.Random(8)
    fact = _row(_random_fact(rng), units)
    with db.write() as session:
        fact_id = session.execute(insert(FACTS).returning(FACTS.c.id), fact).scalar_one()
    first, second = db.engine.connect(), db.engine.connect()
    try:
        first.execute(insert(FACTS), fact)  # same key, not committed
        second.exec_driver_sql("SET lock_timeout = '2s'")
        second.execute(update(FACTS).where(FACTS.c.id == fact_id)
                       .values(conversation_delivered=not fact["conversation_delivered"]))
        second.commit()  # the count row of the key: the first has not locked it
        first.commit()
    finally:
        first.close()
        second.close()
    assert _read(app, stored_counts) == _read(app, counted_from_facts)
