"""A small, lived-in municipality for tests that look at every page: units with Norwegian
names, staff of every role (a nurse who leads her unit among them), patients with AUDIT and
DUDIT screenings, a conversation with its follow-up (one open, one done), a draft, a
break-the-glass grant, access-log entries of every outcome. Everything synthetic: names from
``tests.app.clinic.synthetic_names``, numbers from ``tests.app.fnr``.

Records can be placed at given instants (``now=``), so that tests of Oslo time can put an
entry on the night of a clock change."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import select

from screening.localtime import local_today
from screening.models import FollowUp
from screening.services import (
    access_log,
    accounts,
    assessments,
    care,
    conversations,
    follow_ups,
    patients,
    referrals,
)
from tests.app.clinic import synthetic_names
from tests.app.fnr import random_fnr
from tests.app.staffing import PASSWORD, Person

UNITS = (("home-a", "Hjemmetjenesten Nordbygda", "home_care"),
         ("home-b", "Hjemmetjenesten Sørbygda", "home_care"),
         ("gp-a", "Legekontoret i sentrum", "gp_office"),
         ("sub", "Rustjenesten", "substance_use_service"))
# username, role, units, units led
STAFF = (("sykepleier", "nurse", ("home-a",), ()),
         ("leder", "nurse", ("home-a",), ("home-a",)),
         ("sykepleier-b", "nurse", ("home-b",), ()),
         ("lege", "gp", ("gp-a",), ()),
         ("ruskonsulent", "consultant", ("sub",), ()),
         ("analytiker", "analyst", (), ()),
         ("admin", "admin", (), ()))
# A woman of 72-ish with AUDIT 7: level 2 by the lower cut-off (W7) and AUDIT-C 4 (O65).
AUDIT_SEVEN = {"q1": 2, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0, "q7": 1, "q8": 1,
               "q9": 0, "q10": 0}


@dataclass(frozen=True)
class User:
    """What the services need of a signed-in user (like ``accounts.CurrentUser``)."""

    id: int
    username: str
    role: str
    unit_ids: frozenset[int]
    led_unit_ids: frozenset[int] = frozenset()


@dataclass
class Seeded:
    app: Any
    units: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    patients: dict[str, str] = field(default_factory=dict)  # key -> uuid
    names: dict[str, str] = field(default_factory=dict)  # key -> name
    assessments: dict[str, str] = field(default_factory=dict)  # key -> uuid
    follow_ups: dict[str, str] = field(default_factory=dict)
    grant_uuid: str = ""
    referral_uuid: str = ""

    @property
    def db(self) -> Any:
        return self.app.extensions["screening.db"]

    @property
    def keyring(self) -> Any:
        return self.app.extensions["screening.keys"]

    @property
    def catalogue(self) -> Any:
        return self.app.extensions["screening.catalogue"]

    def staff_uuid(self, username: str) -> str:
        from screening.models import Staff

        session = self.db.read_session()
        try:
            return str(session.scalar(select(Staff.uuid).where(Staff.username == username)))
        finally:
            session.close()

    def screen(self, who: str, patient: str, instrument: str = "audit",
               answers: dict[str, int] | None = None, now: datetime | None = None,
               setting: str = "home_care") -> str:
        if answers is None:
            chosen = self.catalogue.instrument(instrument)
            answers = {item.id: item.options[0].index for item in chosen.items}
        token = random_token()
        confirmed = None
        while True:  # screened again on purpose: confirmed, as the clinician does on the page
            try:
                done = assessments.submit(
                    self.db, self.keyring, self.catalogue, self.users[who],
                    patient_uuid=self.patients[patient], instrument_id=instrument,
                    answers=answers, setting=setting, medication=frozenset(),
                    submission_token=token, now=now, confirm_repeat=confirmed)
            except assessments.PossibleRepeat as earlier:
                assert confirmed is None
                confirmed = earlier.uuid
                continue
            return done.uuid

    def log(self, who: str | None, action: str, patient: str, outcome: str = "ok",
            purpose: str = "care", at: datetime | None = None) -> None:
        actor = access_log.SYSTEM
        if who is not None:
            user = self.users[who]
            actor = access_log.Actor(user.id, user.role, min(user.unit_ids, default=None))
        with self.db.write() as session:
            access_log.record(session, self.keyring, actor, action, self.patients[patient],
                              purpose=purpose, outcome=outcome, at=at)


def random_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def seed(app: Any, seed_value: int = 16) -> Seeded:
    rng = random.Random(seed_value)
    world = Seeded(app)
    for code, name, kind in UNITS:
        world.units[code] = accounts.ensure_unit(world.db, code, name, kind)
    staff_names = synthetic_names(len(STAFF) + 6, seed=seed_value + 1)[6:]
    for (username, role, unit_codes, led), display in zip(STAFF, staff_names, strict=True):
        secret = pyotp.random_base32()
        staff_id = accounts.create_staff(
            world.db, world.keyring, app.extensions["screening.hasher"], username=username,
            display_name=display, role=role, password=PASSWORD, unit_codes=unit_codes,
            leader_of=led, totp_secret_value=secret)
        world.people[username] = Person(username, role, secret, staff_id)
        world.users[username] = User(staff_id, username, role,
                                     frozenset(world.units[c] for c in unit_codes),
                                     frozenset(world.units[c] for c in led))
    names = synthetic_names(6, seed=seed_value)
    born = {"older": (date(1950, 1, 1), date(1954, 12, 31)),
            "younger": (date(1970, 1, 1), date(1980, 12, 31))}
    for key, unit, age, sex, name in (("p1", "home-a", "older", "female", names[0]),
                                      ("p2", "gp-a", "younger", "male", names[1]),
                                      ("p3", "home-a", "older", "male", names[2])):
        fnr = random_fnr(rng, sex=sex, born_from=born[age][0], born_to=born[age][1])
        actor = access_log.Actor(world.users["sykepleier"].id, "nurse", world.units[unit])
        if unit == "gp-a":
            actor = access_log.Actor(world.users["lege"].id, "gp", world.units[unit])
        world.patients[key] = patients.register(world.db, world.keyring, actor, fnr=fnr,
                                                name=name, unit_id=world.units[unit])
        world.names[key] = name
    world.assessments["audit"] = world.screen("sykepleier", "p1", answers=AUDIT_SEVEN)
    world.assessments["dudit"] = world.screen("sykepleier", "p1", "dudit")
    # and the other end of the scale: every flag, level 4, every pathway; a positive DUDIT
    for instrument, key in (("audit", "audit_high"), ("dudit", "dudit_positive")):
        chosen = world.catalogue.instrument(instrument)
        world.assessments[key] = world.screen(
            "sykepleier", "p1", instrument,
            answers={item.id: item.options[-1].index for item in chosen.items})
    world.assessments["gp_audit"] = world.screen("lege", "p2", answers=AUDIT_SEVEN,
                                                 setting="gp_practice")
    due = local_today() + timedelta(weeks=4)
    conversations.save(world.db, world.keyring, world.catalogue, world.users["sykepleier"],
                       assessment_uuid=world.assessments["audit"], record={
                           "feedback": {"given": True},
                           "goal": {"type": "reduce", "units_per_week": 7},
                           "follow_up": {"date": due.isoformat(), "by": "elder_care",
                                         "mode": "home_visit", "repeat_audit": True}},
                       expected_version=None)
    with world.db.write() as session:
        rows = list(session.scalars(select(FollowUp).order_by(FollowUp.id)))
        world.follow_ups["open"] = rows[0].uuid
    second = world.screen("sykepleier", "p3", answers=AUDIT_SEVEN)
    conversations.save(world.db, world.keyring, world.catalogue, world.users["sykepleier"],
                       assessment_uuid=second, record={
                           "feedback": {"given": True}, "goal": {"type": "abstain"},
                           "follow_up": {"date": due.isoformat(), "by": "elder_care",
                                         "mode": "phone"}},
                       expected_version=None)
    session = world.db.read_session()
    try:
        world.follow_ups["done"] = str(session.scalars(
            select(FollowUp.uuid).order_by(FollowUp.id.desc())).first())
    finally:
        session.close()
    follow_ups.close(world.db, world.keyring, world.users["sykepleier"],
                     world.follow_ups["done"], "done")
    assessments.save_draft(world.db, world.keyring, world.users["sykepleier"],
                           world.patients["p3"], "audit", {"q1": 1, "q2": 0})
    grant = care.break_glass(world.db, world.keyring, world.users["ruskonsulent"],
                             world.patients["p1"], "Akutt innleggelse, trenger oversikten")
    world.grant_uuid = grant.uuid
    sub = next(unit_id for code, unit_id in world.units.items()
               if dict((c, k) for c, _n, k in UNITS)[code] == "substance_use_service")
    world.referral_uuid = referrals.send(
        world.db, world.keyring, world.users["sykepleier"], world.assessments["audit_high"],
        "substance_use_consultant", unit_id=sub, reason="Ønsker hjelp; samtykker til kontakt.",
        consent=True).uuid
    world.log("sykepleier-b", "access_denied", "p1", outcome="denied")
    world.log("sykepleier", "undecryptable", "p1", outcome="error")
    world.log(None, "access_report", "p1", purpose="patient_request")
    return world

