"""Finding a patient by name and birth date through the keyed search terms: how names are
compared, what a query means, that only the user's own units are searched, that every
patient shown is logged, the limit, and that the index stays exact on registration,
correction, erasure, rebuilding and key rotation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select

from screening.crypto.hashing import SEARCH_TERM_BITS, pseudonym, search_term, search_term_key
from screening.crypto.keys import rotate_key_file
from screening.models import AccessLogEntry, Patient, PatientSearchTerm
from screening.services import (
    key_rotation,
    patient_edits,
    patient_search,
    patients,
    search_terms,
)
from screening.services.care import AccessDenied
from screening.services.patient_search import Query, SearchError, parse_query
from screening.services.search_terms import fold, matches, name_parts
from tests.app import fnr as gen
from tests.app.clinic import Clinic, setup_clinic

TODAY = date(2026, 12, 3)


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


def born(day: date, individual: int = 100, d_number: bool = False) -> str:
    """A valid synthetic number for that birth date."""
    for i in range(individual, individual + 200):
        number = gen.make_fnr(day, i if day.year < 2000 else 500 + i % 500, d_number=d_number)
        if number is not None:
            return number
    raise AssertionError("no number")


def add(clinic: Clinic, name: str, day: date = date(1941, 3, 9), unit: str = "home-a",
        individual: int = 100) -> str:
    nurse = clinic.people["nurse-a" if unit == "home-a" else "nurse-b"]
    return patients.register(clinic.db, clinic.keyring, nurse, fnr=born(day, individual),
                             name=name, unit_id=clinic.units[unit])


def names(clinic: Clinic, text: str, who: str = "nurse-a", **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    found = patient_search.search_names(clinic.db, clinic.keyring, clinic.people[who],
                                        parse_query(text, TODAY), today=TODAY, **kwargs)
    return [hit.name for hit in found.hits]


def log_rows(clinic: Clinic) -> list[AccessLogEntry]:
    session = clinic.db.read_session()
    try:
        return list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))
    finally:
        session.close()


def terms_of(clinic: Clinic, patient_uuid: str) -> set[int]:
    session = clinic.db.read_session()
    try:
        return set(session.scalars(
            select(PatientSearchTerm.term).join(Patient, Patient.id == PatientSearchTerm.patient_id)
            .where(Patient.uuid == patient_uuid)))
    finally:
        session.close()


def term_rows(clinic: Clinic) -> int:
    session = clinic.db.read_session()
    try:
        return session.scalar(select(func.count()).select_from(PatientSearchTerm)) or 0
    finally:
        session.close()


# ----------------------------------------------------------------- comparing names


@pytest.mark.parametrize(("typed", "name", "found"), [
    ("ås", "Åsmund Bråthen", True),
    ("as", "Åsmund Bråthen", False),  # å is a letter of its own
    ("ÅS", "åsmund bråthen", True),
    ("bra", "Åsmund Bråthen", False),
    ("brå", "Åsmund Bråthen", True),
    ("o", "Øyvor Lien", False),
    ("øy", "Øyvor Lien", True),
    ("bjø", "Björn Säter", True),  # ö is ø, ä is æ
    ("sæt", "Björn Säter", True),
    ("bjo", "Björn Säter", False),
    ("rene", "René Müller", True),  # other accents are dropped
    ("muller", "René Müller", True),
    ("aa", "Aasmund Aasen", True),
    ("å", "Aasmund Aasen", False),  # "aa" is not folded to "å"
    ("marie", "Anne-Marie Kvernvik", True),
    ("anne-marie", "Anne-Marie Kvernvik", True),
    ("obrien", "Kari O'Brien", True),
    ("kari h", "Kari Hansen", True),
    ("hansen k", "Kari Hansen", True),
    ("kari n", "Kari Hansen", False),
    ("strasse", "Inge Straße", True),
    ("ASMUND", "Åsmund", False),
])
def test_how_names_are_compared(typed: str, name: str, found: bool) -> None:
    assert matches(parse_query(typed, TODAY).words, name_parts(name)) is found


def test_folding_keeps_the_norwegian_letters() -> None:
    assert fold("ÆØÅ æøå") == "æøå æøå"
    assert fold("A\u030asmund") == "åsmund"  # a decomposed å is still å
    assert name_parts("  Anne-Marie  Bråthen-Ås ") == ["anne", "marie", "bråthen", "ås"]


# ----------------------------------------------------------------- the query


@pytest.mark.parametrize(("typed", "dates"), [
    ("09.03.1941", (date(1941, 3, 9),)),
    ("9.3.1941", (date(1941, 3, 9),)),
    ("09031941", (date(1941, 3, 9),)),
    ("090341", (date(1941, 3, 9),)),  # 2041 is in the future
    ("09/03/1941", (date(1941, 3, 9),)),
    ("010220", (date(2020, 2, 1), date(1920, 2, 1))),  # both centuries are looked for
    ("01.02.20", (date(2020, 2, 1), date(1920, 2, 1))),
])
def test_birth_dates_as_typed(typed: str, dates: tuple[date, ...]) -> None:
    query = parse_query(typed, TODAY)
    assert query == Query(words=(), dates=dates)


@pytest.mark.parametrize(("typed", "code"), [
    ("", "empty"), ("   ", "empty"), ("-", "empty"), ("x" * 101, "too_long"),
    ("a b c d e f g", "too_long"), ("31.02.1950", "bad_date"), ("01.01.2030", "bad_date"),
    ("12345", "bad_query"), ("1234567", "bad_query"), ("kari 12", "bad_query"),
    ("01.02.1940 02.03.1941", "two_dates"), ("٠١٠٢١٩٤٠", "bad_query"),
])
def test_what_cannot_be_searched(typed: str, code: str) -> None:
    with pytest.raises(SearchError) as caught:
        parse_query(typed, TODAY)
    assert caught.value.code == code and str(caught.value) == code


def test_eleven_digits_are_a_number() -> None:
    number = born(date(1941, 3, 9))
    assert parse_query(gen.spaced(number), TODAY).fnr == number
    assert parse_query(f" {number[:6]}-{number[6:]} ", TODAY).fnr == number
    assert number not in repr(parse_query(number, TODAY))


def test_a_term_depends_on_the_unit_and_the_key(clinic: Clinic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from screening.crypto.keys import init_key_file

    other = init_key_file(tmp_path / "other.json")
    a, b = search_term_key(clinic.keyring, 1), search_term_key(clinic.keyring, 2)
    assert a != b != search_term_key(other, 1)
    values = {search_term(key, "name", "hans") for key in (a, b, search_term_key(other, 1))}
    assert len(values) == 3 and all(0 <= v < 2 ** SEARCH_TERM_BITS for v in values)
    assert search_term(a, "name", "1941-03-09") != search_term(a, "birth_date", "1941-03-09")


# ----------------------------------------------------------------- searching


def test_name_parts_case_birth_date_and_combinations(clinic: Clinic) -> None:
    add(clinic, "Åsmund Bråthen", date(1941, 3, 9))
    add(clinic, "Åshild Fjellvang", date(1950, 7, 1), individual=150)
    add(clinic, "Kari Hansen", date(1941, 3, 9), individual=200)
    add(clinic, "Kari Haugland", date(1938, 12, 24), individual=250)
    add(clinic, "Bjørg Ås", date(1944, 5, 5), individual=300)
    assert names(clinic, "Bråt") == ["Åsmund Bråthen"]
    # by surname, å last: Bråthen, Fjellvang, Ås
    assert names(clinic, "ÅS") == ["Åsmund Bråthen", "Åshild Fjellvang", "Bjørg Ås"]
    assert names(clinic, "åsm") == ["Åsmund Bråthen"]
    assert names(clinic, "kari") == ["Kari Hansen", "Kari Haugland"]  # by surname
    assert names(clinic, "kari hau") == ["Kari Haugland"]
    assert names(clinic, "hau kari") == ["Kari Haugland"]
    assert names(clinic, "09.03.1941") == ["Åsmund Bråthen", "Kari Hansen"]
    assert names(clinic, "090341") == ["Åsmund Bråthen", "Kari Hansen"]
    assert names(clinic, "09031941") == ["Åsmund Bråthen", "Kari Hansen"]
    assert names(clinic, "kari 09.03.1941") == ["Kari Hansen"]
    assert names(clinic, "24121938") == ["Kari Haugland"]
    assert names(clinic, "01.01.1941") == []
    assert names(clinic, "zzz") == []
    assert names(clinic, "Bråthenes") == []  # longer than the name: not a prefix


def test_long_prefixes_are_confirmed_on_the_name(clinic: Clinic) -> None:
    # the index stops at MAX_PREFIX letters; what is typed beyond is checked on the name
    add(clinic, "Ingebjørg Kvernhusvik", individual=100)
    add(clinic, "Ingebjørn Kvernhusvoll", individual=150)
    assert search_terms.MAX_PREFIX == 8
    assert names(clinic, "kvernhus") == ["Ingebjørg Kvernhusvik", "Ingebjørn Kvernhusvoll"]
    assert names(clinic, "kvernhusvo") == ["Ingebjørn Kvernhusvoll"]
    assert names(clinic, "ingebjørg") == ["Ingebjørg Kvernhusvik"]


def test_other_units_patients_are_never_returned(clinic: Clinic) -> None:
    mine = add(clinic, "Halvdan Tjernmo", unit="home-a")
    theirs = add(clinic, "Halvdan Tjernmo", unit="home-b", individual=300)
    found_a = patient_search.search_names(clinic.db, clinic.keyring, clinic.people["nurse-a"],
                                          parse_query("halvdan", TODAY), today=TODAY)
    found_b = patient_search.search_names(clinic.db, clinic.keyring, clinic.people["nurse-b"],
                                          parse_query("tjernmo", TODAY), today=TODAY)
    assert [h.uuid for h in found_a.hits] == [mine]
    assert [h.uuid for h in found_b.hits] == [theirs]
    assert names(clinic, "halvdan", who="gp-a") == []
    # the same name in two units: the real terms of the two do not line up
    shared = terms_of(clinic, mine) & terms_of(clinic, theirs)
    assert len(shared) <= 3
    for who in ("analyst", "admin"):
        with pytest.raises(AccessDenied):
            names(clinic, "halvdan", who=who)


def test_results_show_birth_date_age_and_unit(clinic: Clinic) -> None:
    add(clinic, "Magnhild Sæterdal", date(1950, 6, 15))
    hit = patient_search.search_names(clinic.db, clinic.keyring, clinic.people["nurse-a"],
                                      parse_query("sæter", TODAY), today=TODAY).hits[0]
    assert (hit.name, hit.birth_date, hit.age, hit.unit_name) == (
        "Magnhild Sæterdal", date(1950, 6, 15), 76, "Home care A")
    assert "Magnhild" not in repr(hit) and "1950" not in repr(hit)


def test_each_patient_shown_is_logged_once(clinic: Clinic) -> None:
    shown = [add(clinic, f"Sigrunn Lyng{end}", individual=100 + 10 * i)
             for i, end in enumerate(("dal", "heim", "vik"))]
    add(clinic, "Oddveig Myrvoll", individual=400)
    before = len(log_rows(clinic))
    assert len(names(clinic, "lyng")) == 3
    rows = log_rows(clinic)[before:]
    nurse = clinic.people["nurse-a"]
    assert sorted((r.action, r.staff_id, r.unit_id, r.purpose, r.outcome, r.patient_pseudonym)
                  for r in rows) == sorted(
        ("patient_search", nurse.id, clinic.units["home-a"], "care", "ok",
         pseudonym(clinic.keyring, u)) for u in shown)
    before = len(log_rows(clinic))
    assert names(clinic, "nobody") == []
    assert [(r.action, r.patient_pseudonym) for r in log_rows(clinic)[before:]] == [
        ("patient_search", None)]


def test_at_most_the_limit_is_shown(clinic: Clinic) -> None:
    for i in range(7):
        add(clinic, f"Torbjørg Dølv{chr(97 + i)}", individual=100 + 10 * i)
    before = len(log_rows(clinic))
    found = patient_search.search_names(clinic.db, clinic.keyring, clinic.people["nurse-a"],
                                        parse_query("dølv", TODAY), today=TODAY, limit=5)
    assert [h.name for h in found.hits] == [f"Torbjørg Dølv{c}" for c in "abcde"]
    assert found.more is True and found.too_many is False
    assert len(log_rows(clinic)) - before == 5  # only those shown


def test_too_many_candidates_opens_none(clinic: Clinic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        add(clinic, f"Ragnvald Hølj{i}", individual=100 + 10 * i)
    monkeypatch.setattr(patient_search, "CANDIDATE_MAX", 3)
    opened = []
    monkeypatch.setattr(patient_search, "data_key",
                        lambda *args: opened.append(1) or patients.data_key(*args))
    before = len(log_rows(clinic))
    found = patient_search.search_names(clinic.db, clinic.keyring, clinic.people["nurse-a"],
                                        parse_query("ragnvald", TODAY), today=TODAY)
    assert found.too_many and found.hits == () and opened == []
    assert [(r.action, r.patient_pseudonym) for r in log_rows(clinic)[before:]] == [
        ("patient_search", None)]


# ----------------------------------------------------------------- the index stays exact


def test_every_patient_has_as_many_terms(clinic: Clinic) -> None:
    short = add(clinic, "Ola Li")
    longer = add(clinic, "Kristine Eliassen Bjørkøy", individual=200)
    assert len(terms_of(clinic, short)) == len(terms_of(clinic, longer)) == search_terms.PAD_TO
    very_long = add(clinic, "Anne-Marie Kristine Eliassen Bjørkøy Kvernhusvik", individual=300)
    assert len(terms_of(clinic, very_long)) % search_terms.PAD_STEP == 0
    assert len(terms_of(clinic, very_long)) > search_terms.PAD_TO


def test_the_index_follows_correction_and_erasure(clinic: Clinic) -> None:
    nurse = clinic.people["nurse-a"]
    patient_uuid = add(clinic, "Leidulv Urdland", date(1939, 1, 2))
    assert names(clinic, "urdl") == ["Leidulv Urdland"]
    patient_edits.correct(clinic.db, clinic.keyring, nurse, patient_uuid,
                          name="Leidulv Ørneset")
    assert names(clinic, "urdl") == []
    assert names(clinic, "ørne") == ["Leidulv Ørneset"]
    new_number = born(date(1939, 1, 3), individual=400)
    patient_edits.correct(clinic.db, clinic.keyring, nurse, patient_uuid,
                          name="Leidulv Ørneset", fnr=new_number)
    assert names(clinic, "02.01.1939") == []
    assert names(clinic, "03.01.1939") == ["Leidulv Ørneset"]
    assert len(terms_of(clinic, patient_uuid)) == search_terms.PAD_TO
    patients.erase(clinic.db, clinic.keyring, patient_uuid)
    assert term_rows(clinic) == 0
    assert names(clinic, "ørne") == []


def test_a_failed_registration_leaves_no_terms(clinic: Clinic) -> None:
    add(clinic, "Borghild Vassbø")
    before = term_rows(clinic)
    with pytest.raises(patients.PatientError):
        patients.register(clinic.db, clinic.keyring, clinic.people["nurse-a"],
                          fnr=born(date(1941, 3, 9)), name="Borghild Tvilling",
                          unit_id=clinic.units["home-a"])
    assert term_rows(clinic) == before
    assert names(clinic, "tvilling") == []


def test_rebuild_indexes_patients_without_terms(clinic: Clinic) -> None:
    uuids = [add(clinic, f"Vebjørn Kløv{end}", individual=100 + 10 * i)
             for i, end in enumerate(("heim", "stad", "vik"))]
    with clinic.db.write() as session:
        session.execute(delete(PatientSearchTerm))
    assert names(clinic, "kløv") == []
    result = search_terms.rebuild(clinic.db, clinic.keyring, batch_size=2)
    assert (result.indexed, result.failed) == (3, 0)
    assert names(clinic, "kløv") == ["Vebjørn Kløvheim", "Vebjørn Kløvstad", "Vebjørn Kløvvik"]
    assert search_terms.rebuild(clinic.db, clinic.keyring).indexed == 0  # nothing missing
    assert search_terms.rebuild(clinic.db, clinic.keyring, only_missing=False).indexed == 3
    assert all(len(terms_of(clinic, u)) == search_terms.PAD_TO for u in uuids)


def test_rebuild_skips_what_does_not_open(clinic: Clinic) -> None:
    keep = add(clinic, "Gunnvor Eikrli")
    broken = add(clinic, "Gunnvor Eikrmo", individual=200)
    with clinic.db.write() as session:
        session.execute(delete(PatientSearchTerm))
        row = session.scalar(select(Patient).where(Patient.uuid == broken))
        assert row is not None
        row.name_sealed = row.name_sealed[:-1] + bytes([row.name_sealed[-1] ^ 1])
    result = search_terms.rebuild(clinic.db, clinic.keyring)
    assert (result.indexed, result.failed) == (1, 1)
    assert terms_of(clinic, keep) and not terms_of(clinic, broken)


def test_search_works_after_key_rotation_and_reencryption(clinic: Clinic) -> None:
    add(clinic, "Njål Flåtten")
    ring = rotate_key_file(clinic.keyring.path)
    assert key_rotation.rewrap_all(clinic.db, ring) > 0
    key_rotation.reencrypt_all(clinic.db, ring)
    clinic.keyring = ring
    assert names(clinic, "flåt") == ["Njål Flåtten"]


def test_the_reindex_command(app, settings, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from tests.app.test_erasure import flask

    add(clinic, "Kjellaug Mørkvoll")
    with clinic.db.write() as session:
        session.execute(delete(PatientSearchTerm))
    done = flask(["patients", "reindex"], settings)
    assert done.returncode == 0, done.stderr
    assert "indexed 1 patient(s)" in done.stdout and "Mørkvoll" not in done.stdout
    assert names(clinic, "mørk") == ["Kjellaug Mørkvoll"]
