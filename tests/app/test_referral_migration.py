"""Migration 0009 on data: follow-ups closed the old way become closed/done, and access
that a follow-up of another unit gave under the old rule becomes an accepted referral, so it
goes on (purpose "referral") under the new one; the downgrade gives the old shape back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, select
from sqlalchemy.orm import Session

from screening.migrate import alembic_config
from screening.models import Patient
from screening.services import care
from screening.settings import Settings
from tests.conftest import ON_POSTGRES, _pg_admin_url, _pg_execute

BEFORE = "0006"
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if ON_POSTGRES:
        name = f"r_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        yield _pg_admin_url(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'legacy.sqlite3'}"


def _legacy_rows(url: str) -> None:
    """Units, a patient of home care A with an assessment and three follow-ups: one of her
    own unit (done), one assigned to the substance-use service (open: the old access), one
    to the GP office (done)."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        for unit_id, code, kind in ((1, "home-a", "home_care"), (2, "sub", "substance_use_service"),
                                    (3, "gp-a", "gp_office")):
            conn.execute(insert(t["units"]).values(id=unit_id, code=code, name=code, kind=kind,
                                                   active=True))
        conn.execute(insert(t["patients"]).values(
            id=1, uuid=str(uuid.uuid4()), fnr_index=b"\x01" * 32, fnr_sealed=b"x",
            name_sealed=b"x", birth_date_sealed=b"x", sex_sealed=b"x", data_key_wrapped=b"x",
            unit_id=1, created_at=WHEN))
        conn.execute(insert(t["report_facts"]).values(
            id=1, month="2026-11", age_band="75_84", sex="female", unit_id=1,
            setting="home_care", instrument="audit", zone="II", level=3,
            pw_elder_care=True, pw_gp=True, pw_substance_use_consultant=True,
            pw_specialist_referral=False, conversation_delivered=True, follow_up="pending"))
        conn.execute(insert(t["assessments"]).values(
            id=1, uuid=str(uuid.uuid4()), patient_id=1, fact_id=1, submission_token="t" * 40,
            instrument="audit", instrument_version="1", item_text_version="nb-1",
            rule_set="sondre-land", rule_set_version="1", total=13, zone="II", level=3,
            flags="[]", pathways="[]", setting="home_care", unit_id=1, created_at=WHEN,
            answers_sealed=b"x"))
        for follow_up_id, pathway, unit_id, status in (
                (1, "elder_care", 1, "done"), (2, "substance_use_consultant", 2, "open"),
                (3, "gp", 3, "done")):
            conn.execute(insert(t["follow_ups"]).values(
                id=follow_up_id, uuid=str(uuid.uuid4()), patient_id=1, assessment_id=1,
                fact_id=1, pathway=pathway, unit_id=unit_id, due_date=date(2026, 12, 1),
                mode="phone", repeat_audit=False, status=status,
                done_at=WHEN if status == "done" else None, created_at=WHEN))
    engine.dispose()


class User:
    def __init__(self, unit_id: int) -> None:
        self.id, self.role, self.unit_ids = 99, "consultant", frozenset({unit_id})


def test_old_access_becomes_accepted_referrals_and_back(url: str) -> None:
    config = alembic_config(Settings(env="test", database_url=url))
    command.upgrade(config, BEFORE)
    _legacy_rows(url)
    command.upgrade(config, "0009")
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.connect() as conn:
        follow = {row.id: (row.status, row.outcome) for row in conn.execute(
            select(t["follow_ups"].c.id, t["follow_ups"].c.status, t["follow_ups"].c.outcome))}
        assert follow == {1: ("closed", "done"), 2: ("open", None), 3: ("closed", "done")}
        made = conn.execute(select(t["referrals"]).order_by(t["referrals"].c.follow_up_id)).all()
    # one per follow-up of another unit than the patient's; none for her own unit's
    assert [(r.follow_up_id, r.to_unit_id, r.from_unit_id, r.status, r.consent, r.sent_by)
            for r in made] == [(2, 2, 1, "accepted", None, None), (3, 3, 1, "accepted", None,
                                                                 None)]
    assert all(r.reason_sealed is None and r.sent_at == r.answered_at for r in made)
    with Session(engine) as session:
        patient = session.get(Patient, 1)
        for unit_id in (2, 3):
            grant = care.grant_for(session, User(unit_id), patient)
            assert grant is not None and (grant.purpose, grant.unit_id) == ("referral", unit_id)
        assert care.grant_for(session, User(4), patient) is None
    engine.dispose()

    command.downgrade(config, BEFORE)
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    assert "referrals" not in meta.tables
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(meta.tables["follow_ups"].c.id,
                                            meta.tables["follow_ups"].c.status)).all())
    assert statuses == {1: "done", 2: "open", 3: "done"}
    engine.dispose()
