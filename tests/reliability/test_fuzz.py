"""Hypothesis fuzzes every route of ``app.url_map`` (every method but HEAD and OPTIONS):
random Unicode, 1 MB strings, missing, duplicated, extra and wrong-typed fields, SQL and
HTML metacharacters, wrong ids (random uuids, ids of other kinds of record, non-uuids) in
the path and the query string, now and then a body of another content type.

For every request: no 5xx; an HTML response never carries a planted marker unescaped; a
redirect never leaves the site; and a request that is not accepted (anything but a
redirect or 204) stores nothing: every table has as many rows after it as before, except
the access log, which may only have grown by rows of reads (and the login form, which
records failed attempts for throttling).

The routes are read from the URL map at collection time, so a new route is fuzzed without
being listed here; the fields of each form are read from the app's pages (a form is filed
under the route it is sent to), so a new field is fuzzed too. Up to three fields per
request get Hypothesis's values; the others mostly a value the page offers, so that valid
input reaches the services as well (``test_zz_fuzzing_reached_the_services`` holds that).

Examples per route: ``FORM_EXAMPLES`` (200) per form (a POST route, or a GET route with a
form sent by GET), 50 per other GET route with URL parameters, 10 per GET route without;
the ``slow`` variants run 5,000 per form (500 and 100 for the others) in
``make test-slow``. ``SCREENING_TEST_FUZZ_EXAMPLES`` overrides the normal count,
``SCREENING_TEST_SLOW_EXAMPLES`` the slow one (CI's profile, ``.ci/run``).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections import Counter
from datetime import date, timedelta
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from screening.models import StaffSession
from screening.models.base import utcnow
from screening.services import accounts
from tests.app.fnr import synthetic_fnrs
from tests.app.staffing import make_staff, sign_in
from tests.app.test_authorization import DENIALS, World, build_world, load_matrix
from tests.conftest import csrf_from
from tests.reliability.common import (
    LOG_TABLES,
    READ_ACTIONS,
    new_log_actions,
    table_counts,
)

FORM_EXAMPLES = int(os.environ.get("SCREENING_TEST_FUZZ_EXAMPLES", "200"))
# make test-slow: 5,000; CI's profile (.ci/run) sets fewer, to stay in its time.
SLOW_EXAMPLES = int(os.environ.get("SCREENING_TEST_SLOW_EXAMPLES", "5000"))
GET_EXAMPLES = 50  # GET routes with URL parameters: only the URL varies
PLAIN_GET_EXAMPLES = 10  # GET routes without URL parameters: only the query string varies
_DAY = timedelta(days=1)
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})
CSRF_PAGE = "/__no_such_page__"

MARKERS = ("<script>x</script>", '"><img src=x onerror=alert(1)>')
RAW_MARKERS = ("<script>x</script>", "<img src=x onerror=")
MEGABYTE = 1024 * 1024
BIG_PLAIN = "A" * MEGABYTE
BIG_MARKED = (MARKERS[1] * (MEGABYTE // len(MARKERS[1]) + 1))[:MEGABYTE]
METACHARACTERS = (
    *MARKERS, "' OR '1'='1", "'; DROP TABLE patients; --", '" OR ""="', "1; SELECT pg_sleep(5)",
    "%", "_", "%00", "\x00", "\\", "{{ 7*7 }}", "${7*7}", "{% raw %}", "../../../etc/passwd",
    "\r\nSet-Cookie: x=1", "\u202e\u2066", "\ufeff", "\U0001f600", "Ǆ", "ﬁ", "i̇", "ß",
    "javascript:alert(1)", "//evil.example/", "https://evil.example/", "/\\evil.example",
    "\ud7ff", "\uffff", "&amp;&lt;", "&#x3C;script&#x3E;",
)
WRONG_TYPES = (
    "", " ", "-1", "0", "01", "1.5", "1e309", "NaN", "-0", "99999999999999999999999", "true",
    "false", "on", "null", "None", "[]", "{}", "[1,2]", "0x1F", "٣", "１２", "²", "½",
    "2024-02-30", "0000-00-00", "9999-12-31", "12345678901", "01010112345",
    "³", "①", "1²", "٣٣", "𝟙",  # isdigit() is true for these; int() refuses some of them
)


# --------------------------------------------------------------------------- the routes


@cache
def _route_table() -> tuple[tuple[str, str, str, bool], ...]:
    """(endpoint, method, rule, has URL parameters) of every route, from an app assembled
    in a throwaway folder (collection time: no database is touched)."""
    from screening import create_app
    from screening.crypto.keys import init_key_file
    from screening.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        path.chmod(0o700)
        init_key_file(path / "keys.json")
        app = create_app(Settings(env="test", instance_dir=path))
        app.extensions["screening.db"].dispose()
        # GET routes first: every request on the world's patient adds to its access log,
        # and the patient's access-log page lists every entry.
        return tuple(sorted(
            ((rule.endpoint, method, rule.rule, bool(rule.arguments))
             for rule in app.url_map.iter_rules()
             for method in (rule.methods or set()) - SKIPPED_METHODS),
            key=lambda route: (route[1] != "GET", route[0])))


def _examples(method: str, has_parameters: bool, has_form: bool, slow: bool) -> int:
    """A form (a POST route, or a GET route with a form sent by GET): 200 (5,000 slow)."""
    if method != "GET" or has_form:
        return SLOW_EXAMPLES if slow else FORM_EXAMPLES
    if has_parameters:
        return GET_EXAMPLES * (10 if slow else 1)
    return PLAIN_GET_EXAMPLES * (10 if slow else 1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "route" not in metafunc.fixturenames:
        return
    slow = metafunc.function.__name__.endswith("_slow")
    params = [pytest.param((endpoint, method, rule, has, slow), id=f"{endpoint}-{method}")
              for endpoint, method, rule, has in _route_table()]
    metafunc.parametrize("route", params)


# --------------------------------------------------------------------------- the world


class Fuzzing:
    """The world of the authorization matrix (tests/app/test_authorization.py: a patient of
    unit home-a with an assessment, a follow-up and a break-the-glass grant, staff of every
    role), plus a conversation, an account waiting for its second factor, and the form
    fields and values seen on the app's pages."""

    def __init__(self, app: Any) -> None:
        from screening.services import conversations
        from tests.reliability.common import conversation_record

        self.app = app
        self.world: World = build_world(app)
        self.matrix = load_matrix()
        self.db = app.extensions["screening.db"]
        nurse = self.world.people["nurse_care"]
        self.nurse_user = accounts.resume(self.db, sign_in(app, app.test_client(), nurse),
                                          _DAY, _DAY)
        conversations.save(self.db, app.extensions["screening.keys"],
                           app.extensions["screening.catalogue"], self.nurse_user,
                           assessment_uuid=self.world.params["assessment_uuid"],
                           record=conversation_record(), expected_version=None)
        self.enrolling = make_staff(app, "enrolling", "nurse", ("home-a",), enrolled=False)
        self.fnrs = synthetic_fnrs(40, seed=88)
        self.fields: dict[str, dict[str, list[str]]] = {}
        self.all_fields: dict[str, list[str]] = {}
        self.clients: dict[str, Any] = {}
        self.types: dict[str, str] = {}
        self.counts: dict[str, int] | None = None  # of every table after the last request
        self.statuses: dict[str, Counter[int]] = {}  # answers per route, for the report
        self.path_strategies: dict[tuple[str, str], st.SearchStrategy[str]] = {}
        self._learn_forms()

    # -- subjects
    def subject(self, endpoint: str, method: str) -> str:
        """Someone the authorization matrix lets in (tests/app/authorization_matrix.toml),
        clinicians first; the enrolment form belongs to an account half-way through its
        first login."""
        if endpoint == "auth.enrol":
            return "enrolling"
        subjects = ("nurse_care", "gp", "consultant", "analyst", "admin", "anonymous")
        outcomes = [(s, self.matrix.get((endpoint, method, s))) for s in subjects]
        for subject, expected in outcomes:  # the route answers itself (no redirect)
            if expected is not None and expected.outcome not in DENIALS | {"redirect"}:
                return subject
        for subject, expected in outcomes:
            if expected is not None and expected.outcome not in DENIALS:
                return subject
        return "nurse_care"

    def client(self, subject: str) -> Any:
        client = self.app.test_client()
        if subject == "enrolling":
            token = secrets.token_urlsafe(32)
            now = utcnow()
            with self.db.write() as session:
                session.add(StaffSession(id=accounts._session_id(token),
                                         staff_id=self.enrolling.id, stage="enrol",
                                         created_at=now, last_seen_at=now))
            with client.session_transaction() as cookie:
                cookie["sid"] = token
        elif subject != "anonymous":
            sign_in(self.app, client, self.world.people[subject])
        return client

    @staticmethod
    def csrf(client: Any) -> str:
        return csrf_from(client.get(CSRF_PAGE).get_data(as_text=True))

    # -- forms seen on the pages
    def _learn_forms(self) -> None:
        """Fields of every form on every GET page, filed under the route the form is sent
        to ("endpoint METHOD"; a form without an action goes to its own page)."""
        adapter = self.app.url_map.bind("localhost")
        for endpoint, method, rule, _has in _route_table():
            if method != "GET":
                continue
            client = self.client(self.subject(endpoint, method))
            page_url = self.url(rule, {})
            response = client.get(page_url)
            if response.mimetype != "text/html":
                continue
            forms, types = _forms(response.get_data(as_text=True))
            for name, kind in types.items():
                self.types.setdefault(name, kind)
            for key, fields in forms.items():
                form_method, _, action = key.partition(" ")
                target = urlsplit(action or page_url).path
                try:
                    sent_to = adapter.match(target, method=form_method)[0]
                except Exception:  # noqa: BLE001 - a form to elsewhere, or another method
                    continue
                known = self.fields.setdefault(f"{sent_to} {form_method}", {})
                for name, values in fields.items():
                    known[name] = sorted(set(known.get(name, [])) | set(values))[:20]
                    if form_method == "POST":
                        merged = set(self.all_fields.get(name, [])) | set(values)
                        self.all_fields[name] = sorted(merged)[:20]

    def fields_for(self, endpoint: str, method: str = "POST") -> dict[str, list[str]]:
        """The fields of the route's form; for a POST route no page links to, a few field
        names from the other forms (a GET route without a form: none)."""
        own = self.fields.get(f"{endpoint} {method}")
        if own is not None:
            fields = dict(own)
        elif method == "GET":
            return {}
        elif (parent := self._parent_form(endpoint)) is not None:
            fields = dict(parent)
        else:
            names = sorted(self.all_fields)[::7]
            fields = {name: self.all_fields[name] for name in names}
        fields.pop("csrf_token", None)
        return fields

    def _parent_form(self, endpoint: str) -> dict[str, list[str]] | None:
        """The POST form of the route whose URL this one extends (the screening form for
        its draft-saving route, which the page's script calls)."""
        rules = {e: r for e, m, r, _h in _route_table() if m == "POST"}
        rule = rules.get(endpoint, "")
        parents = [e for e, r in rules.items()
                   if e != endpoint and rule.startswith(r + "/") and f"{e} POST" in self.fields]
        if not parents:
            return None
        return self.fields[f"{max(parents, key=lambda e: len(rules[e]))} POST"]

    # -- URLs
    def url(self, rule: str, values: dict[str, str]) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(2)
            value = values.get(name, self.world.params.get(name, "1"))
            return quote(str(value), safe="/" if match.group(1) == "path" else "")

        return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule)


class _FormParser(HTMLParser):
    """Per form (by "METHOD action"; no action = the page itself): field name -> values
    offered (radio, checkbox and option values, prefilled values)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, set[str]]] = {}
        self.types: dict[str, str] = {}  # field name -> input type (or tag)
        self.action = "POST "  # fields outside a form: as if posted to the page
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name, value = found.get("name"), found.get("value")
        if tag == "form":
            method = (found.get("method") or "get").upper()
            self.action = f"{method} {found.get('action') or ''}"
            self.forms.setdefault(self.action, {})
            return
        if tag == "select":
            self.select = name
        if tag == "option" and self.select:
            name = self.select
        elif tag not in ("input", "textarea", "button", "select"):
            return
        if name:
            self.types.setdefault(name, found.get("type") or tag)
            values = self.forms.setdefault(self.action, {}).setdefault(name, set())
            if value is not None:
                values.add(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.action = "POST "


def _forms(html: str) -> tuple[dict[str, dict[str, list[str]]], dict[str, str]]:
    """The page's forms (see :class:`_FormParser`) and the type of each field."""
    parser = _FormParser()
    parser.feed(html)
    # An empty prefill offers nothing: such a field gets plausible values instead.
    forms = {action: {name: sorted(values - {""})[:20] for name, values in fields.items()}
             for action, fields in parser.forms.items()}
    return forms, parser.types


# --------------------------------------------------------------------------- strategies

# Wrong types three times in ten, metacharacters twice, random Unicode the rest (one_of
# would pick each branch equally often, and repeating a branch does not weight it).
_TEXT_KINDS = (
    *[st.sampled_from(WRONG_TYPES)] * 3,
    *[st.sampled_from(METACHARACTERS)] * 2,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=100),
    st.builds(lambda a, b: a + b, st.sampled_from(METACHARACTERS), st.text(max_size=10)),
    st.builds(lambda a, b: a + b, st.sampled_from(WRONG_TYPES), st.sampled_from(WRONG_TYPES)),
    st.text(alphabet="0123456789²³¹٣١٢۳０１２-+., ", max_size=12),
)
TEXT = st.integers(0, len(_TEXT_KINDS) - 1).flatmap(lambda i: _TEXT_KINDS[i])
BIG = st.sampled_from((BIG_PLAIN, BIG_MARKED))


def _weighted(first: st.SearchStrategy[str], share: int,
              *others: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``first`` in about ``share`` of ten draws, else one of ``others`` (``one_of`` with a
    repeated branch does not weight it)."""
    rest = st.one_of(*others)
    return st.integers(0, 9).flatmap(lambda i: first if i < share else rest)


@cache
def _value(offered: tuple[str, ...], fnrs: tuple[str, ...]) -> st.SearchStrategy[str]:
    if not offered:
        return st.one_of(TEXT, st.sampled_from(fnrs))
    return _weighted(st.sampled_from(offered), 4, TEXT, st.sampled_from(fnrs))


def _path_value(name: str, converter: str, world: Fuzzing) -> st.SearchStrategy[str]:
    """Mostly the id the route expects (so the form behind it is reached), else another
    kind of record's id, a random uuid, a non-uuid or random text."""
    known = sorted(set(world.world.params.values()))
    right = world.world.params.get(name)
    wrong: list[st.SearchStrategy[str]] = [st.sampled_from(known), TEXT]
    if converter == "uuid":
        wrong += [st.uuids().map(str), st.uuids().map(lambda u: str(u).upper())]
    elif converter == "int":
        wrong += [st.integers(min_value=0, max_value=2**80).map(str)]
    elif name == "instrument_id":
        wrong += [st.sampled_from(("dudit", "medication_falls", "brief_intervention", "AUDIT",
                                   "audit ", "audit/../dudit"))]
    if right is None:
        return st.one_of(*wrong)
    return _weighted(st.just(right), 7, *wrong)


# --------------------------------------------------------------------------- one request

HOW_MANY = st.sampled_from((1, 1, 1, 0, 2, 3))
# Values for fields without a value of their own on the page, by input type, so that most
# forms get through to the services now and then (one password, so that both agree).
PLAUSIBLE = {
    "number": ("1", "7", "14"),
    "date": ((date.today() + timedelta(weeks=4)).isoformat(),),
    "password": ("Lang-Syntetisk-Frase-2024",),
    "text": ("Synt Testesen", "synthetic-user", "home-b", "Enhet B"),
    "textarea": ("Akutt besøk på kveldsvakt i dag",),
}


def _form(world: Fuzzing, data: st.DataObject,
          fields: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Up to three fields (Hypothesis's choice) get fuzzed values, each missing, once or
    repeated; the others mostly a value the page offers (cheap random choices, so that an
    example costs a few draws, not one per field)."""
    rng = data.draw(st.randoms(use_true_random=True), label="rng")
    names = sorted(fields)
    focus: set[str] = set()
    if names:
        focus = set(data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True),
                              label="fuzzed fields"))
    pairs: list[tuple[str, str]] = []
    for name in names:
        offered = fields[name]
        if name in focus:
            for _ in range(data.draw(HOW_MANY, label=f"{name} times")):
                value = data.draw(_value(tuple(offered), tuple(world.fnrs)), label=name)
                pairs.append((name, value))
            continue
        roll = rng.random()
        if roll < 0.04:
            pool: tuple[str, ...] | list[str] = (*METACHARACTERS, *WRONG_TYPES, *WRONG_TYPES)
        elif offered:
            if roll < 0.065:
                continue
            pool = offered
        elif roll < 0.5:
            continue  # an empty field: usually left so
        elif "fnr" in name:
            pool = world.fnrs
        else:
            pool = PLAUSIBLE.get(world.types.get(name, "text"), PLAUSIBLE["text"])
        pairs.append((name, rng.choice(pool)))
    return pairs



def _request(world: Fuzzing, data: st.DataObject, endpoint: str, method: str,
             rule: str) -> None:
    db = world.db
    subject = world.subject(endpoint, method)
    client = world.clients.get(subject) if endpoint != "auth.logout" else None
    if client is None:
        client = world.client(subject)
        client.fuzz_token = world.csrf(client)
        if endpoint != "auth.logout":
            world.clients[subject] = client
        world.counts = None  # a new session row was written: count afresh
    # the URL
    values = {}
    for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule):
        key = (name, converter or "default")
        if key not in world.path_strategies:
            world.path_strategies[key] = _path_value(*key, world)
        values[name] = data.draw(world.path_strategies[key], label=name)
    url = world.url(rule, values)
    query = data.draw(st.lists(st.tuples(st.sampled_from(("next", "q", "page", "lang", "id")),
                                         TEXT), max_size=2), label="query")
    if method == "GET":  # a form sent by GET (the report filters): its fields, fuzzed
        query += _form(world, data, world.fields_for(endpoint, "GET"))
    if query:
        url += "?" + urlencode(query)
    # the form
    pairs: list[tuple[str, str]] = []
    body: dict[str, Any] = {}
    if method != "GET":
        pairs = _form(world, data, world.fields_for(endpoint, method))
        pairs += data.draw(st.lists(st.tuples(st.text(max_size=12), TEXT), max_size=2),
                           label="extra")
        if data.draw(st.integers(0, 19), label="big?") == 0 and pairs:
            where = data.draw(st.integers(0, len(pairs) - 1), label="big at")
            pairs[where] = (pairs[where][0], data.draw(BIG, label="big"))
        token = data.draw(st.sampled_from(["valid"] * 9 + ["missing", "fuzz"]), label="csrf")
        if token == "valid":
            pairs.append(("csrf_token", client.fuzz_token))
        elif token == "fuzz":
            pairs.append(("csrf_token", data.draw(TEXT, label="csrf value")))
        shape = data.draw(st.sampled_from(["form"] * 18 + ["json", "raw"]), label="body")
        if shape == "form":
            body = {"data": MultiDict(pairs)}
        elif shape == "json":
            body = {"json": dict(pairs)}
        else:
            body = {"data": data.draw(st.binary(max_size=200), label="raw").decode("latin-1"),
                    "content_type": data.draw(st.sampled_from(
                        ("text/plain", "multipart/form-data", "application/xml",
                         "application/x-www-form-urlencoded; charset=utf-16")), label="ctype")}
    before = world.counts if world.counts is not None else table_counts(db)
    response = client.open(url, method=method, **body)
    status = response.status_code
    world.statuses.setdefault(f"{endpoint} {method}", Counter())[status] += 1
    what = f"{method} {url[:200]} as {subject}"
    assert status < 500, f"{what}: {status}"
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        for marker in RAW_MARKERS:
            assert marker not in html, f"{what}: unescaped {marker!r} in the page"
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        assert parts.netloc in ("", "localhost") and not location.startswith("//"), \
            f"{what}: redirect off the site to {location[:200]!r}"
    accepted = 300 <= status < 400 or status == 204
    world.counts = after = table_counts(db)
    if not accepted:
        allowed = LOG_TABLES | ({"login_attempts"} if endpoint == "auth.login" else set())
        grown = {t: after[t] - before[t] for t in after
                 if after[t] != before[t] and t not in allowed}
        assert not grown, f"{what}: answered {status} but stored rows {grown}"
        if after["access_log"] != before["access_log"]:  # ids run 1, 2, 3 ... (a chain)
            actions = set(new_log_actions(db, before["access_log"]))
            assert actions <= READ_ACTIONS, f"{what}: answered {status} but logged {actions}"


@pytest.fixture(scope="module")
def fuzzing(module_app) -> Fuzzing:  # type: ignore[no-untyped-def]
    return Fuzzing(module_app)


def _fuzz(fuzzing: Fuzzing, route: tuple[str, str, str, bool, bool]) -> None:
    endpoint, method, rule, has_parameters, slow = route
    has_form = bool(fuzzing.fields.get(f"{endpoint} {method}"))
    examples = _examples(method, has_parameters, has_form, slow)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _request(fuzzing, data, endpoint, method, rule)

    run()


def test_fuzz(fuzzing: Fuzzing, route: tuple[str, str, str, bool, bool]) -> None:
    _fuzz(fuzzing, route)


@pytest.mark.slow
def test_fuzz_slow(fuzzing: Fuzzing, route: tuple[str, str, str, bool, bool]) -> None:
    _fuzz(fuzzing, route)


def test_every_route_is_fuzzed_and_every_form_was_learnt(fuzzing: Fuzzing) -> None:
    """The parametrisation came from the URL map of this app; the forms of the main pages
    were found (so the fuzzer posts their real field names)."""
    live = {(r.endpoint, m) for r in fuzzing.app.url_map.iter_rules()
            for m in (r.methods or set()) - SKIPPED_METHODS}
    assert live == {(e, m) for e, m, _r, _h in _route_table()}
    for route, names in (("assessments.screen POST", {"q1", "setting", "submission_token"}),
                         ("assessments.autosave POST", {"q1", "setting"}),
                         ("patients.register POST", {"fnr", "name", "unit"}),
                         ("conversations.edit POST", {"version", "goal.type"}),
                         ("admin.staff_new POST", {"username", "password", "units"}),
                         ("auth.login POST", {"username", "password", "code"}),
                         ("reports.page GET", {"instrument", "units"})):
        endpoint, method = route.split()
        assert names <= set(fuzzing.fields_for(endpoint, method)), route


def test_zz_fuzzing_reached_the_services(fuzzing: Fuzzing) -> None:
    """Not only refusals: the main forms were also accepted now and then (valid input got
    through to the services and was stored), so the checks above saw both kinds."""
    for route, counter in sorted(fuzzing.statuses.items()):
        print(f"{route}: {dict(sorted(counter.items()))}")
    assert fuzzing.statuses, "no fuzzing ran before this test (run the whole module)"
    for route in ("assessments.screen POST", "patients.register POST",
                  "conversations.edit POST", "assessments.autosave POST"):
        if route in fuzzing.statuses:
            counter = fuzzing.statuses[route]
            assert sum(n for code, n in counter.items() if code == 204 or 300 <= code < 400), \
                (route, counter)
