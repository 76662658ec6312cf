"""Test helpers for referrals and follow-ups: units with staff signed in through real
sessions, synthetic patients registered through the service, AUDIT results at a chosen
level, and the access-log rows of one patient."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from screening.crypto.hashing import pseudonym
from screening.models import AccessLogEntry, Assessment, FollowUp, Referral, ReportFact, Unit
from screening.models.base import new_uuid
from screening.services import access_log, accounts, assessments, follow_ups, patients
from tests.app.fnr import random_fnr
from tests.app.staffing import Person, make_staff, make_units, sign_in
from tests.conftest import csrf_from

# Answers (option index per item) and what the rule set makes of them (clinical-rules §6).
LEVEL_3 = [3, 2, 2, 2, 1, 1, 1, 1, 0, 0]  # 13 points, zone II, lifted to level 3 (E1)
LEVEL_4 = [4, 4, 4, 3, 3, 3, 3, 3, 2, 2]  # 35 points: zone IV, level 4
LEVEL_2 = [2, 1, 1, 1, 0, 0, 1, 1, 0, 0]  # 7 points, a woman of 65+ at home: level 2 (W7)


@dataclass(frozen=True)
class User:
    """A signed-in clinician as the services see it."""

    id: int
    role: str
    unit_ids: frozenset[int]


@dataclass
class World:
    app: Any
    units: dict[str, int]
    people: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.app.extensions["screening.db"]

    @property
    def keyring(self) -> Any:
        return self.app.extensions["screening.keys"]

    def client(self, who: str) -> Any:
        client = self.app.test_client()
        sign_in(self.app, client, self.people[who])
        return client

    def patient(self, name: str, unit: str = "home-a", born: tuple[int, int] = (1945, 1952),
                sex: str = "female", seed: int = 0) -> str:
        import random

        rng = random.Random(f"{name}-{seed}")
        fnr = random_fnr(rng, sex=sex, born_from=date(born[0], 1, 1),
                         born_to=date(born[1], 12, 31))
        actor = access_log.Actor(self.people["nurse"].id, "nurse", self.units[unit])
        return patients.register(self.db, self.keyring, actor, fnr=fnr, name=name,
                                 unit_id=self.units[unit])

    def audit(self, patient_uuid: str, answers: list[int], who: str = "nurse",
              setting: str = "home_care") -> str:
        catalogue = self.app.extensions["screening.catalogue"]
        submitted = assessments.submit(
            self.db, self.keyring, catalogue, self.users[who], patient_uuid=patient_uuid,
            instrument_id="audit", answers={f"q{i + 1}": v for i, v in enumerate(answers)},
            setting=setting, medication=frozenset(), submission_token=secrets.token_urlsafe(32))
        return submitted.uuid

    def read(self, model: Any, **where: Any) -> list[Any]:
        session = self.db.read_session()
        try:
            query = select(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return list(session.scalars(query))
        finally:
            session.close()

    def one(self, model: Any, **where: Any) -> Any:
        rows = self.read(model, **where)
        assert len(rows) == 1, rows
        return rows[0]

    def log_of(self, patient_uuid: str) -> list[AccessLogEntry]:
        session = self.db.read_session()
        try:
            return list(session.scalars(
                select(AccessLogEntry)
                .where(AccessLogEntry.patient_pseudonym == pseudonym(self.keyring, patient_uuid))
                .order_by(AccessLogEntry.id)))
        finally:
            session.close()

    def fact_state(self, assessment_uuid: str) -> str:
        session = self.db.read_session()
        try:
            return str(session.scalar(
                select(ReportFact.follow_up).join(Assessment, Assessment.fact_id == ReportFact.id)
                .where(Assessment.uuid == assessment_uuid)))
        finally:
            session.close()

    def assessment_id(self, assessment_uuid: str) -> int:
        return int(self.one(Assessment, uuid=assessment_uuid).id)


def build(app) -> World:  # type: ignore[no-untyped-def]
    """Units home-a, home-b, gp-a, sub (make_units) and sub-b; a nurse of each home-care
    unit, a GP, a consultant of each substance-use service."""
    make_units(app)
    db = app.extensions["screening.db"]
    accounts.ensure_unit(db, "sub-b", "Substance-use service B", "substance_use_service")
    session = db.read_session()
    try:
        units = {code: unit_id for code, unit_id in session.execute(select(Unit.code, Unit.id))}
    finally:
        session.close()
    world = World(app, units)
    for who, role, unit in (("nurse", "nurse", "home-a"), ("nurse_b", "nurse", "home-b"),
                            ("gp", "gp", "gp-a"), ("consultant", "consultant", "sub"),
                            ("consultant_b", "consultant", "sub-b")):
        person = make_staff(app, who.replace("_", "-"), role, (unit,))
        world.people[who] = person
        world.users[who] = User(person.id, role, frozenset({units[unit]}))
    return world


def post_to(client: Any, page_url: str, action_url: str, data: dict[str, str]) -> Any:
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    return client.post(action_url, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                         **data})


def option_values(html: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of a <select name=...>."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html, f"no select {name}"
    out = []
    for m in re.finditer(r"<option([^>]*)>([^<]*)</option>", select_html.group(1)):
        value = re.search(r'value="([^"]*)"', m.group(1))
        out.append((value.group(1) if value else "", m.group(2).strip(),
                    bool(re.search(r"\bselected\b", m.group(1)))))
    return out


def follow_ups_of(world: World, assessment_uuid: str) -> list[FollowUp]:
    return world.read(FollowUp, assessment_id=world.assessment_id(assessment_uuid))


def referrals_of(world: World, assessment_uuid: str) -> list[Referral]:
    return world.read(Referral, assessment_id=world.assessment_id(assessment_uuid))


def task(world: World, assessment: str, *, due: date, unit: str = "home-a",
         pathway: str = "elder_care", mode: str = "home_visit", responsible: str | None = None,
         repeat: bool = False) -> str:
    """A follow-up task as a conversation's plan makes it (written directly, any date)."""
    with world.db.write() as session:
        a = session.scalar(select(Assessment).where(Assessment.uuid == assessment))
        row = FollowUp(uuid=new_uuid(), patient_id=a.patient_id, assessment_id=a.id,
                       fact_id=a.fact_id, pathway=pathway, unit_id=world.units[unit],
                       due_date=due, mode=mode, repeat_audit=repeat, status="open",
                       responsible_id=world.people[responsible].id if responsible else None)
        session.add(row)
        session.flush()
        follow_ups.update_fact(session, a.fact_id)
        return row.uuid
