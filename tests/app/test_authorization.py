"""Authorization: a matrix that walks ``app.url_map`` (every route × method × subject against
``authorization_matrix.toml``), the access-log rows each request writes, and CSRF on every
state-changing route. A route missing from the matrix fails the test."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from screening.models import AccessLogEntry, Assessment, Base, FollowUp, Unit
from screening.models.base import new_uuid
from screening.services import access_log, accounts, care, referrals
from tests.app.staffing import Person, make_staff, make_units, sign_in
from tests.conftest import csrf_from

MATRIX_FILE = Path(__file__).with_name("authorization_matrix.toml")
SUBJECTS = ("anonymous", "nurse_care", "nurse_other", "gp", "consultant", "analyst", "admin",
            "disabled")
OUTCOMES = {"ok": "200", "no_content": "204", "redirect": "3xx, not to the login page",
            "login": "3xx to /login...", "bad_request": "400", "forbidden": "403",
            "not_found": "404", "conflict": "409", "invalid": "422"}
DENIALS = frozenset({"login", "forbidden", "not_found"})
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})
CSRF_PAGE = "/__no_such_page__"  # the 404 page renders base.html, which carries a token


# --------------------------------------------------------------------------- the matrix file


@dataclass(frozen=True)
class Expected:
    outcome: str
    log_rows: int = 0

    def __str__(self) -> str:
        return self.outcome + (f":{self.log_rows}" if self.log_rows else "")


def parse_outcome(text: str, where: str) -> Expected:
    outcome, _, rows = text.partition(":")
    if outcome not in OUTCOMES:
        raise AssertionError(f"{where}: unknown outcome {text!r}; use one of {sorted(OUTCOMES)}")
    if rows and not rows.isdigit():
        raise AssertionError(f"{where}: log rows after ':' must be a number, not {rows!r}")
    return Expected(outcome, int(rows or 0))


def load_matrix() -> dict[tuple[str, str, str], Expected]:
    """(endpoint, method, subject) -> expected outcome; checks the file's shape."""
    data = tomllib.loads(MATRIX_FILE.read_text("utf-8"))
    expected: dict[tuple[str, str, str], Expected] = {}
    for endpoint, methods in data.items():
        assert isinstance(methods, dict), f"[{endpoint!r}] must be a table"
        for method, spec in methods.items():
            where = f"{MATRIX_FILE.name} [\"{endpoint}\"] {method}"
            assert method.isupper(), f"{where}: methods are upper case (GET, POST)"
            if isinstance(spec, str):
                spec = {"*": spec}
            assert isinstance(spec, dict), f"{where}: a string or an inline table"
            unknown = set(spec) - set(SUBJECTS) - {"*"}
            assert not unknown, f"{where}: unknown subjects {sorted(unknown)}"
            for subject in SUBJECTS:
                text = spec.get(subject, spec.get("*"))
                assert text is not None, f"{where}: no outcome for {subject} (and no \"*\")"
                expected[(endpoint, method, subject)] = parse_outcome(text, where)
    return expected


def routes(app) -> list[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    """Every (rule, method) of the URL map, HEAD and OPTIONS left out."""
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   for method in sorted((rule.methods or set()) - SKIPPED_METHODS)),
                  key=lambda pair: (pair[0].endpoint, pair[1]))


def test_every_route_and_method_is_in_the_matrix_and_nothing_else(app) -> None:
    matrix = load_matrix()
    in_map = {(rule.endpoint, method) for rule, method in routes(app)}
    in_file = {(endpoint, method) for endpoint, method, _subject in matrix}
    missing = sorted(in_map - in_file)
    assert not missing, (f"routes without an access rule in {MATRIX_FILE.name}: {missing} "
                         "(add an entry; the file's header explains the format)")
    stale = sorted(in_file - in_map)
    assert not stale, f"entries in {MATRIX_FILE.name} for routes that do not exist: {stale}"
    endpoints = [rule.endpoint for rule in app.url_map.iter_rules()]
    assert len(endpoints) == len(set(endpoints)), "one rule per endpoint, so the matrix can name it"


def test_login_is_required_unless_allow_listed(app) -> None:
    """Only the allow-list answers anonymous users; the matrix agrees with it."""
    from screening.web.security import PUBLIC_ENDPOINTS

    matrix = load_matrix()
    for (endpoint, method, subject), expected in matrix.items():
        if subject == "anonymous" and endpoint not in PUBLIC_ENDPOINTS:
            assert expected.outcome == "login", (endpoint, method)


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """Subjects and records for the matrix: a patient of unit home-a with an assessment and
    a follow-up, a staff account and a break-the-glass grant to act on."""

    app: Any
    people: dict[str, Person] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    def client(self, subject: str) -> Any:
        client = self.app.test_client()
        if subject != "anonymous":
            sign_in(self.app, client, self.people[subject])
        return client

    def url(self, rule: Any) -> str:
        missing = [name for name in rule.arguments if name not in self.params]
        assert not missing, (f"{rule.rule}: no test value for {missing}; add one to "
                             "World.params in tests/app/test_authorization.py")
        adapter = self.app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, {n: self.params[n] for n in rule.arguments},
                             append_unknown=False)

    def count(self, model: Any) -> int:
        session = self.app.extensions["screening.db"].read_session()
        try:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
        finally:
            session.close()


class User:
    def __init__(self, person: Person, unit_ids: frozenset[int]) -> None:
        self.id, self.role, self.unit_ids = person.id, person.role, unit_ids


def build_world(app) -> World:  # type: ignore[no-untyped-def]
    from screening.services import patients
    from tests.app.fnr import synthetic_fnrs

    make_units(app)
    world = World(app)
    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    session = db.read_session()
    units = {code: unit_id for code, unit_id in session.execute(select(Unit.code, Unit.id))}
    session.close()
    for subject, role, unit_codes in (
            ("nurse_care", "nurse", ("home-a",)), ("nurse_other", "nurse", ("home-b",)),
            ("gp", "gp", ("gp-a",)), ("consultant", "consultant", ("sub",)),
            ("analyst", "analyst", ()), ("admin", "admin", ()),
            ("disabled", "nurse", ("home-a",)), ("victim", "nurse", ("home-b",))):
        world.people[subject] = make_staff(app, subject.replace("_", "-"), role, unit_codes)
    accounts.disable(db, "disabled")
    nurse = User(world.people["nurse_care"], frozenset({units["home-a"]}))
    patient_uuid = patients.register(db, keyring, access_log.Actor(nurse.id, "nurse"),
                                     fnr=synthetic_fnrs(1, seed=5)[0], name="Synt Matrisesen",
                                     unit_id=units["home-a"])
    assessment_uuid, follow_up_uuid = _assessment_and_follow_up(app, nurse, patient_uuid,
                                                                units["home-a"])
    referral = referrals.send(db, keyring, nurse, assessment_uuid, "substance_use_consultant",
                              unit_id=units["sub"], reason="Matrix test: referral reason",
                              consent=True)
    victim = User(world.people["victim"], frozenset({units["home-b"]}))
    grant = care.break_glass(db, keyring, victim, patient_uuid, "Matrix test: emergency reason")
    world.params.update({
        "patient_uuid": patient_uuid, "assessment_uuid": assessment_uuid,
        "follow_up_uuid": follow_up_uuid, "instrument_id": "audit",
        "staff_uuid": _staff_uuid(app, "victim"), "unit_id": str(units["home-b"]),
        "grant_uuid": grant.uuid, "filename": "css/app.css",
        "referral_uuid": referral.uuid, "pathway": "substance_use_consultant",
    })
    return world


def _assessment_and_follow_up(app, nurse: User, patient_uuid: str,  # type: ignore[no-untyped-def]
                              unit_id: int) -> tuple[str, str]:
    from screening.services import assessments

    catalogue = app.extensions["screening.catalogue"]
    instrument = catalogue.instrument("audit")
    submitted = assessments.submit(
        app.extensions["screening.db"], app.extensions["screening.keys"], catalogue, nurse,
        patient_uuid=patient_uuid, instrument_id="audit", answers=_answers(instrument),
        setting="home_care", medication=frozenset(), submission_token="m" * 40)
    with app.extensions["screening.db"].write() as session:
        row = session.scalar(select(Assessment).where(Assessment.uuid == submitted.uuid))
        follow_up = FollowUp(uuid=new_uuid(), patient_id=row.patient_id, assessment_id=row.id,
                             fact_id=row.fact_id, pathway="elder_care", unit_id=unit_id,
                             due_date=date.today() + timedelta(weeks=4), mode="home_visit")
        session.add(follow_up)
    return submitted.uuid, follow_up.uuid


def _answers(instrument: Any) -> dict[str, int | None]:
    """A complete set of answers: the first option of every item."""
    from screening.core.scoring import score

    answers = {item.id: item.options[0].index for item in instrument.items}
    score(instrument, answers)
    return answers  # type: ignore[return-value]


def _staff_uuid(app, username: str) -> str:  # type: ignore[no-untyped-def]
    from screening.models import Staff

    session = app.extensions["screening.db"].read_session()
    try:
        return str(session.scalar(select(Staff.uuid).where(Staff.username == username)))
    finally:
        session.close()


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build_world(app)


def classify(response: Any) -> str:
    code = response.status_code
    if 300 <= code < 400:
        path = urlsplit(response.headers.get("Location", "")).path
        return "login" if path.startswith("/login") else "redirect"
    names = {200: "ok", 204: "no_content", 400: "bad_request", 403: "forbidden", 404: "not_found",
             409: "conflict", 422: "invalid"}
    return names.get(code, str(code))


def request(world: World, rule: Any, method: str, subject: str,
            token: str | None = "valid") -> tuple[Any, Any]:
    """One request as ``subject`` in a new session. Other methods than GET first get the
    session its own CSRF token, then send it (``"valid"``), nothing (None) or ``token``."""
    client = world.client(subject)
    data: dict[str, str] = {}
    if method != "GET":
        own = csrf_from(client.get(CSRF_PAGE).get_data(as_text=True))
        if token is not None:
            data["csrf_token"] = own if token == "valid" else token
    response = client.open(world.url(rule), method=method, data=data)
    return client, response


# --------------------------------------------------------------------------- the walk


def test_authorization_matrix(world: World) -> None:
    """Every route × method × subject has the outcome the matrix names, and writes the
    number of access-log rows it names: 0 unexpected allows, 0 unexpected denies."""
    matrix = load_matrix()
    allows, denies, others = [], [], []
    for rule, method in routes(world.app):
        for subject in SUBJECTS:
            expected = matrix.get((rule.endpoint, method, subject))
            assert expected is not None, f"{rule.endpoint} {method}: not in the matrix"
            before = world.count(AccessLogEntry)
            _client, response = request(world, rule, method, subject)
            got = Expected(classify(response), world.count(AccessLogEntry) - before)
            if got == expected:
                continue
            line = f"{rule.endpoint} {method} {subject}: expected {expected}, got {got}"
            if expected.outcome in DENIALS and got.outcome not in DENIALS:
                allows.append(line)
            elif got.outcome in DENIALS and expected.outcome not in DENIALS:
                denies.append(line)
            else:
                others.append(line)
    report = [f"{len(lines)} {title}:\n  " + "\n  ".join(lines)
              for title, lines in (("unexpected allows", allows), ("unexpected denies", denies),
                                   ("other differences (outcome or log rows)", others))
              if lines]
    assert not report, "\n".join(report)
    session = world.app.extensions["screening.db"].read_session()
    try:
        assert access_log.verify(session, world.app.extensions["screening.keys"]).ok
    finally:
        session.close()


RECORD_PARAMETERS = frozenset({"patient_uuid", "assessment_uuid", "follow_up_uuid",
                               "referral_uuid"})
# Routes that take a patient uuid but open nothing of the record: break-the-glass is how a
# clinician without a care relationship asks for access.
OPENS_NOTHING = frozenset({"patients.break_glass"})


def test_another_units_record_is_refused_and_the_refusal_logged(app) -> None:
    """Read from the matrix: for every GET of a route that takes a patient or record id,
    the nurse of another unit gets 403 or 404 and exactly one access-log row (the walk
    above checks that the app does what the matrix says)."""
    matrix = load_matrix()
    record_routes = [rule for rule, method in routes(app)
                     if method == "GET" and set(rule.arguments) & RECORD_PARAMETERS
                     and rule.endpoint not in OPENS_NOTHING]
    assert record_routes
    for rule in record_routes:
        expected = matrix[(rule.endpoint, "GET", "nurse_other")]
        assert expected.outcome in ("forbidden", "not_found"), (rule.endpoint, expected)
        assert expected.log_rows == 1, (rule.endpoint, expected)


# --------------------------------------------------------------------------- CSRF


def snapshot(app) -> dict[str, list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    """Every row of every table (a session's last-seen time left out: reading a page may
    refresh it)."""
    session = app.extensions["screening.db"].read_session()
    try:
        result = {}
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns
                       if not (table.name == "staff_sessions" and c.name == "last_seen_at")]
            rows = session.execute(select(*columns)).all()
            result[table.name] = sorted(tuple(map(repr, row)) for row in rows)
        return result
    finally:
        session.close()


def _csrf_subject(matrix: dict[tuple[str, str, str], Expected], endpoint: str) -> str:
    """A subject allowed to post to the route (so that only the token stops it)."""
    for subject in SUBJECTS:
        if matrix[(endpoint, "POST", subject)].outcome not in DENIALS:
            return subject
    return "admin"


def test_every_post_route_refuses_a_missing_wrong_or_foreign_csrf_token(world: World) -> None:
    matrix = load_matrix()
    failures = []
    posts = [rule for rule, method in routes(world.app) if method == "POST"]
    assert posts
    for rule in posts:
        subject = _csrf_subject(matrix, rule.endpoint)
        other = world.client(subject)  # another session of the same user
        foreign = csrf_from(other.get(CSRF_PAGE).get_data(as_text=True))
        for name, token in (("missing", None), ("wrong", "not-a-token"),
                            ("wrong signature", foreign[:-4] + "AAAA"),
                            ("other session's", foreign)):
            before = snapshot(world.app)
            _client, response = request(world, rule, "POST", subject, token=token)
            if response.status_code != 400:
                failures.append(f"{rule.endpoint} ({subject}), {name} token: "
                                f"{response.status_code}")
            if snapshot(world.app) != _with_new_session(before, world.app):
                failures.append(f"{rule.endpoint} ({subject}), {name} token: database changed")
    assert not failures, "\n".join(failures)


Snapshot = dict[str, list[tuple[Any, ...]]]


def _with_new_session(before: Snapshot, app) -> Snapshot:  # type: ignore[no-untyped-def]
    """The request's own sign-in adds one session row; everything else must be as before."""
    after = snapshot(app)
    expected = dict(before)
    expected["staff_sessions"] = after["staff_sessions"]
    assert len(after["staff_sessions"]) - len(before["staff_sessions"]) in (0, 1)
    return expected


def test_a_token_from_before_login_is_not_accepted_after_it(world: World) -> None:
    """Login starts a fresh cookie session, so a token planted before it is void."""
    from tests.app.staffing import login

    client = world.app.test_client()
    planted = csrf_from(client.get("/login").get_data(as_text=True))
    assert login(client, world.people["admin"]).status_code == 302
    response = client.post("/admin/units", data={"csrf_token": planted, "code": "planted",
                                                 "name": "Planted unit", "kind": "home_care"})
    assert response.status_code == 400
    assert world.count(Unit) == 4
