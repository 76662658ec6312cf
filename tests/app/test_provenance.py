"""Provenance you can prove (issue 17, point 4): every result keeps the fingerprints of the
instrument and rule-set files that produced it; the app refuses to start, and
``flask check-instruments`` fails, when a file's content differs from what was recorded
under its id and version; an old result is shown with its own version's texts."""

from __future__ import annotations

import dataclasses
import random
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from screening import StartupError, create_app
from screening.core.catalogue import DEFAULT_DIRECTORY, load_catalogue
from screening.models import Assessment, InstrumentFingerprint
from screening.services import provenance
from tests.app.fnr import random_fnr
from tests.app.staffing import CHECKLIST_NO, Person, make_staff, make_units, sign_in
from tests.app.test_commands import run
from tests.app.test_screening_flow import audit_form, post_audit, register

RNG = random.Random(1704)
ANSWERS = [2, 1, 1, 1, 0, 0, 1, 1, 0, 0]


def copy_instruments(tmp_path: Path) -> Path:
    target = tmp_path / "instruments"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text("utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def start(settings, instruments: Path):  # type: ignore[no-untyped-def]
    app = create_app(dataclasses.replace(settings, instruments_dir=instruments))
    app.config["TESTING"] = True
    return app


def recorded(app) -> dict[tuple[str, str, int], str]:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return {(r.kind, r.file_id, r.version): r.fingerprint
                for r in session.scalars(select(InstrumentFingerprint))}
    finally:
        session.close()


def screen_once(app, nurse: Person) -> str:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(app, client, nurse)
    fnr = random_fnr(RNG, sex="female", born_from=date(1950, 1, 1), born_to=date(1955, 1, 1))
    patient = register(client, fnr, "Provenans Prøvesen")
    html, token = audit_form(client, patient)
    response = post_audit(client, patient, html, token, ANSWERS, checklist=CHECKLIST_NO)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return response.headers["Location"].rsplit("/", 1)[1]


def test_a_result_keeps_its_fingerprints_and_records_its_files(app) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse.a", "nurse", ("home-a",))
    assert recorded(app) == {}  # nothing recorded yet: the start compared with nothing
    assessment = screen_once(app, nurse)
    catalogue = app.extensions["screening.catalogue"]
    audit, rules = catalogue.instrument("audit"), catalogue.rule_set("sondre-land")
    session = app.extensions["screening.db"].read_session()
    try:
        row = session.scalar(select(Assessment).where(Assessment.uuid == assessment))
    finally:
        session.close()
    assert row is not None
    assert (row.instrument_fingerprint, row.rule_set_fingerprint) == (audit.fingerprint,
                                                                     rules.fingerprint)
    # the first result made with a file records it, in the same transaction
    assert recorded(app) == {("instrument", "audit", 1): audit.fingerprint,
                             ("rule_set", "sondre-land", 2): rules.fingerprint}
    page = app.test_client()
    sign_in(app, page, nurse)
    html = page.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert (f"Skåret med AUDIT versjon 1 og regelsettet «Søndre Land kommune, versjon 2» "
            f"(versjon 2). Fingeravtrykk for filene: instrument {audit.fingerprint[:8]}, "
            f"regelsett {rules.fingerprint[:8]}.") in html
    # a second result: nothing more to record (the process knows), nothing recorded twice
    screen_once(app, nurse)
    assert len(recorded(app)) == 2


def test_the_start_refuses_a_file_changed_under_the_same_version(settings, tmp_path) -> None:
    instruments = copy_instruments(tmp_path)
    app = start(settings, instruments)
    result = provenance.record(app.extensions["screening.db"],
                               app.extensions["screening.catalogue"])
    assert {f.id for f in result.new} >= {"audit", "audit_c", "sondre-land"}
    app.extensions["screening.db"].dispose()
    # a comment and blank lines: the same content, the app starts
    edit(instruments, "audit.toml", "# AUDIT - Alcohol", "# Reviewed.\n\n# AUDIT - Alcohol")
    start(settings, instruments).extensions["screening.db"].dispose()
    # one option label changed, version left at 1: refused, in one line naming it
    edit(instruments, "audit.toml", '"Ja, i løpet av siste år"]', '"Ja, siste år"]')
    with pytest.raises(StartupError) as caught:
        start(settings, instruments)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("instrument files differ from the record: audit.toml: "
                              "instrument 'audit' version 1 differs from the content recorded")
    assert "raise its version" in message and "check-instruments" in message
    # the version raised, version 1 kept in versions/: starts, and shows both
    edit(instruments, "audit.toml", "version = 1", "version = 2")
    with pytest.raises(StartupError) as gone:
        start(settings, instruments)
    assert "instrument 'audit' version 1 was recorded" in str(gone.value)
    assert "versions/audit-1.toml" in str(gone.value)
    (instruments / "versions").mkdir(exist_ok=True)
    shutil.copy(DEFAULT_DIRECTORY / "audit.toml", instruments / "versions" / "audit-1.toml")
    app = start(settings, instruments)
    assert app.extensions["screening.catalogue"].instrument("audit").version == 2
    app.extensions["screening.db"].dispose()


def test_an_old_result_is_shown_with_its_own_versions_texts(settings, tmp_path) -> None:
    instruments = copy_instruments(tmp_path)
    first = start(settings, instruments)
    make_units(first)
    nurse = make_staff(first, "nurse.a", "nurse", ("home-a",))
    old = screen_once(first, nurse)  # records audit v1 on first use
    first.extensions["screening.db"].dispose()
    # version 2 of the AUDIT rewords item 6; the rule set is raised and renamed
    shutil.copytree(instruments, tmp_path / "v1-copy")
    edit(instruments, "audit.toml", "version = 1", "version = 2")
    edit(instruments, "audit.toml", '"Hvor ofte starter du dagen din med alkohol?"',
         '"Hvor ofte har du trengt en drink om morgenen for å komme i gang?"')
    edit(instruments, "rules/sondre-land.toml", "version = 2", "version = 3")
    edit(instruments, "rules/sondre-land.toml", '"Søndre Land kommune, versjon 2"',
         '"Søndre Land kommune, versjon 3"')
    with pytest.raises(StartupError):  # version 1 is recorded: its file must stay
        start(settings, instruments)
    (instruments / "versions").mkdir(exist_ok=True)
    shutil.copy(tmp_path / "v1-copy" / "audit.toml", instruments / "versions" / "audit-1.toml")
    second = start(settings, instruments)
    new = screen_once(second, nurse)
    client = second.test_client()
    sign_in(second, client, nurse)
    old_page = client.get(f"/assessments/{old}").get_data(as_text=True)
    new_page = client.get(f"/assessments/{new}").get_data(as_text=True)
    assert "Hvor ofte starter du dagen din med alkohol?" in old_page
    assert "trengt en drink om morgenen" not in old_page
    assert "Hvor ofte har du trengt en drink om morgenen for å komme i gang?" in new_page
    assert "AUDIT versjon 1 og regelsettet «Søndre Land kommune, versjon 2» (versjon 2)" in old_page
    assert "AUDIT versjon 2 og regelsettet «Søndre Land kommune, versjon 3» (versjon 3)" in new_page
    assert "er endret etter at resultatet ble laget" not in old_page
    # the sheet too
    sheet = client.get(f"/assessments/{old}/sheet").get_data(as_text=True)
    assert "trengt en drink om morgenen" not in sheet
    second.extensions["screening.db"].dispose()


def test_an_old_result_says_when_its_texts_cannot_be_shown_exactly(app) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse.a", "nurse", ("home-a",))
    assessment = screen_once(app, nurse)
    db = app.extensions["screening.db"]
    with db.write() as session:  # a result whose file has since changed (made elsewhere)
        session.execute(update(Assessment).values(instrument_fingerprint="0" * 64))
    client = app.test_client()
    sign_in(app, client, nurse)
    page = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "Spørreskjemafilen for denne versjonen er endret etter at resultatet ble laget" in page
    with db.write() as session:  # a version whose file is no longer installed
        session.execute(update(Assessment).values(instrument_version="7"))
    page = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "Filen for versjon 7 er ikke lenger installert" in page


def test_a_result_is_refused_when_the_record_differs(app) -> None:
    """Another server recorded other content for the same id and version after this one
    started: this one stores no result with files it cannot vouch for."""
    make_units(app)
    nurse = make_staff(app, "nurse.a", "nurse", ("home-a",))
    db = app.extensions["screening.db"]
    with db.write() as session:
        session.add(InstrumentFingerprint(kind="instrument", file_id="audit", version=1,
                                          fingerprint="f" * 64, source="audit.toml"))
    client = app.test_client()
    sign_in(app, client, nurse)
    fnr = random_fnr(RNG, sex="female", born_from=date(1950, 1, 1), born_to=date(1955, 1, 1))
    patient = register(client, fnr, "Avvist Prøvesen")
    html, token = audit_form(client, patient)
    response = post_audit(client, patient, html, token, ANSWERS, checklist=CHECKLIST_NO)
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "Resultatet kan ikke lagres" in body and re.search(r'name="q1" value="2"', body)
    session = db.read_session()
    try:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 0
        assert session.scalar(select(func.count()).select_from(InstrumentFingerprint)) == 1
    finally:
        session.close()
    with db.write() as session:
        session.execute(delete(InstrumentFingerprint))
    assert screen_once(app, nurse)  # with the record gone, it records and stores


def test_commands_record_check_and_refuse(tmp_path, instance_dir, database_url) -> None:
    instruments = copy_instruments(tmp_path)
    env = {"SCREENING_INSTANCE_DIR": str(instance_dir), "SCREENING_DATABASE_URL": database_url,
           "SCREENING_INSTRUMENTS_DIR": str(instruments)}
    upgraded = run(["db", "upgrade"], env)  # records the fingerprints after the migrations
    assert upgraded.returncode == 0, upgraded.stderr
    assert "recorded audit.toml: instrument 'audit' version 1" in upgraded.stdout
    again = run(["instruments", "record"], env)
    assert again.returncode == 0 and "0 recorded now, 7 already recorded" in again.stdout
    checked = run(["check-instruments"], env)
    assert checked.returncode == 0 and "every file agrees with the fingerprints" in checked.stdout
    edit(instruments, "rules/sondre-land.toml", "weeks = 8", "weeks = 6")
    checked = run(["check-instruments"], env)
    assert checked.returncode != 0 and "Traceback" not in checked.stderr
    assert ("FAIL rules/sondre-land.toml: rule set 'sondre-land' version 2 differs from the "
            "content recorded") in checked.stdout
    refused = run(["instruments", "record"], env)  # the app does not even start
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rules/sondre-land.toml" in lines[0]
    assert load_catalogue(instruments).rule_set("sondre-land").version == 2
