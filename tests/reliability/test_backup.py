"""``flask backup`` and ``flask restore``: a drill that restores 1,000 records (100,000 in
the slow suite) into a fresh database and opens 100 % of them with the key file; a patient
erased before the backup stays erased in the restored copy; a restore refuses to overwrite
data without ``--yes``; errors are one line, and database passwords never reach a command
line.

Restoring an OLDER backup brings back a patient erased after it was taken: the database is
put back as it was. The operations guide must say that erasures made since the backup are
applied again after a restore (the command says so too); a test below shows the hazard.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from screening import create_app
from screening.models import Assessment, Patient, ReportFact
from screening.services import access_log, assessments, patients
from screening.services.access_log import Actor
from screening.services.backup import BackupError, backup, pg_environment
from screening.settings import Settings
from tests.app.fnr import random_fnr
from tests.app.report_counts import counted_from_facts, stored_counts
from tests.app.staffing import make_staff, make_units, sign_in
from tests.conftest import ON_POSTGRES, _pg_admin_url, _pg_execute
from tests.reliability import bulk
from tests.reliability.common import AUDIT_ANSWERS

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) to restore into."""
    if ON_POSTGRES:
        name = f"r_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        yield _pg_admin_url(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        folder = tmp_path / "restored"
        folder.mkdir()
        yield f"sqlite:///{folder / 'screening.sqlite3'}"


def _second_app(app: Any, database_url: str, tmp_path: Path) -> Any:
    """Another installation with the same key file (copied) and its own database."""
    folder = tmp_path / "second-instance"
    folder.mkdir(mode=0o700)
    shutil.copy2(app.extensions["screening.keys"].path, folder / "keys.json")
    os.chmod(folder / "keys.json", 0o600)
    second = create_app(Settings(env="test", instance_dir=folder, database_url=database_url,
                                 argon2_time_cost=1, argon2_memory_kib=8))
    second.config["TESTING"] = True
    return second


def _cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner(mix_stderr=False).invoke(args=list(args)) \
        if _mix_stderr_supported() else app.test_cli_runner().invoke(args=list(args))


def _mix_stderr_supported() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


class Nurse:
    """A nurse of home-a acting through the services."""

    def __init__(self, app: Any, person: Any) -> None:
        self.app = app
        self.id, self.role = person.id, "nurse"
        session = app.extensions["screening.db"].read_session()
        try:
            from screening.models import Unit

            unit = session.scalar(select(Unit.id).where(Unit.code == "home-a"))
            self.unit_ids = frozenset({unit})
        finally:
            session.close()

    def register_and_screen(self, fnr: str, name: str) -> str:
        db, keyring = self.app.extensions["screening.db"], self.app.extensions["screening.keys"]
        catalogue = self.app.extensions["screening.catalogue"]
        uuid_ = patients.register(db, keyring, Actor(self.id, "nurse"), fnr=fnr, name=name,
                                  unit_id=next(iter(self.unit_ids)))
        answers = {item.id: v for item, v in
                   zip(catalogue.instrument("audit").items, AUDIT_ANSWERS, strict=True)}
        assessments.submit(db, keyring, catalogue, self, patient_uuid=uuid_,
                           instrument_id="audit", answers=answers, setting="home_care",
                           medication=frozenset(), submission_token=uuid.uuid4().hex * 2)
        return uuid_


def _patient_uuids(app: Any) -> set[str]:
    session = app.extensions["screening.db"].read_session()
    try:
        return set(session.scalars(select(Patient.uuid)))
    finally:
        session.close()


def _verify_log(app: Any) -> None:
    session = app.extensions["screening.db"].read_session()
    try:
        assert access_log.verify(session, app.extensions["screening.keys"]).ok
        if app.extensions["screening.db"].is_sqlite:
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        session.close()


def _drill(app: Any, fresh_database: str, tmp_path: Path, records: int) -> None:
    make_units(app)
    nurse = Nurse(app, make_staff(app, "nurse.backup", "nurse", ("home-a",)))
    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    written = bulk.create(db, keyring, n_patients=records // 4, per_patient=3)
    assert written.records == records
    rng = __import__("random").Random(3)
    kept = nurse.register_and_screen(random_fnr(rng, born_from=date(1940, 1, 1)), "Synt Blir")
    erased_fnr = random_fnr(rng, born_from=date(1941, 1, 1))
    erased = nurse.register_and_screen(erased_fnr, "Synt Slettes")
    patients.erase(db, keyring, erased)  # erased BEFORE the backup is taken
    path = tmp_path / "drill.backup"
    made = _cli(app, "backup", str(path))
    assert made.exit_code == 0, made.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    second = _second_app(app, fresh_database, tmp_path)
    try:
        restored = _cli(second, "restore", str(path))
        assert restored.exit_code == 0, restored.output
        assert f"{records // 4 + 1} patients" in restored.output
        assert "erasures made after this backup" in restored.output
        # 100 % of the records open with the key file, and are what was written
        read = bulk.open_everything(second.extensions["screening.db"],
                                    second.extensions["screening.keys"])
        bulk_read = bulk.Written({u: v for u, v in read.patients.items() if u in written.patients},
                                 {u: v for u, v in read.assessments.items()
                                  if u in written.assessments})
        assert bulk_read == written
        assert set(read.patients) == set(written.patients) | {kept}
        # the patient erased before the backup is not in it
        assert erased not in _patient_uuids(second)
        from screening.crypto.hashing import blind_index

        session = second.extensions["screening.db"].read_session()
        try:
            index = blind_index(second.extensions["screening.keys"], erased_fnr)
            assert session.scalar(select(Patient.id).where(Patient.fnr_index == index)) is None
            facts = session.scalar(select(func.count()).select_from(ReportFact))
            assert facts == records * 3 // 4 + 2  # the erased patient's fact stays
            # the report counts come back as they were (PostgreSQL restores the rows before
            # it creates the triggers, which therefore do not count the facts again)
            assert stored_counts(session) == counted_from_facts(session)
        finally:
            session.close()
        _verify_log(second)
        # the restored installation serves the kept patient
        client = second.test_client()
        sign_in(second, client, type("P", (), {"id": nurse.id})())
        page = client.get(f"/patients/{kept}")
        assert page.status_code == 200 and "Synt Blir" in page.get_data(as_text=True)
        # a second restore over data needs --yes
        refused = _cli(second, "restore", str(path))
        assert refused.exit_code == 1 and "--yes" in refused.output
        again = _cli(second, "restore", "--yes", str(path))
        assert again.exit_code == 0, again.output
        assert len(bulk.open_everything(second.extensions["screening.db"],
                                        second.extensions["screening.keys"]).patients) \
            == records // 4 + 1
    finally:
        second.extensions["screening.db"].dispose()


def test_backup_restore_drill_1000_records(app, fresh_database, tmp_path) -> None:
    _drill(app, fresh_database, tmp_path, 1_000)


@pytest.mark.slow
def test_backup_restore_drill_100000_records(app, fresh_database, tmp_path) -> None:
    _drill(app, fresh_database, tmp_path, 100_000)


def test_an_older_backup_brings_an_erased_patient_back(app, tmp_path) -> None:
    """The hazard the operations guide must cover: a restore puts the database back as it
    was, so an erasure made after the backup is undone and must be applied again. Also:
    a restore with --yes replaces the live database of a running app (no restart needed)."""
    make_units(app)
    person = make_staff(app, "nurse.old", "nurse", ("home-a",))
    nurse = Nurse(app, person)
    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    rng = __import__("random").Random(4)
    patient = nurse.register_and_screen(random_fnr(rng, born_from=date(1940, 1, 1)),
                                        "Synt Kommertilbake")
    client = app.test_client()
    sign_in(app, client, person)
    assert client.get(f"/patients/{patient}").status_code == 200
    path = tmp_path / "older.backup"
    assert _cli(app, "backup", str(path)).exit_code == 0
    patients.erase(db, keyring, patient)
    later = nurse.register_and_screen(random_fnr(rng, born_from=date(1942, 1, 1)), "Synt Senere")
    assert _patient_uuids(app) == {later}
    restored = _cli(app, "restore", "--yes", str(path))
    assert restored.exit_code == 0, restored.output
    assert "erasures made after this backup was taken are undone" in restored.output
    assert _patient_uuids(app) == {patient}  # back: the erasure must be applied again
    session = db.read_session()
    try:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 1
    finally:
        session.close()
    # the running app serves the restored database at once
    page = client.get(f"/patients/{patient}")
    assert page.status_code == 200 and "Synt Kommertilbake" in page.get_data(as_text=True)
    patients.erase(db, keyring, patient)  # what the operator does next
    assert _patient_uuids(app) == set()
    _verify_log(app)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    clean.update(env)
    return subprocess.run(FLASK + args, cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=120)


def test_command_line_errors_are_one_line(app, database_url, tmp_path) -> None:
    make_units(app)  # data, so that a restore over it needs --yes
    env = {"SCREENING_INSTANCE_DIR": str(app.extensions["screening.settings"].instance_dir),
           "SCREENING_DATABASE_URL": database_url}
    target = tmp_path / "cli.backup"
    ok = _run(["backup", str(target)], env)
    assert ok.returncode == 0 and "backup written to" in ok.stdout, ok.stderr
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a backup\n")
    for args, words in (
            (["backup", str(tmp_path / "missing" / "x.backup")], "does not exist"),
            (["backup", str(target)], "exists already"),
            (["backup", str(tmp_path)], "is a folder"),
            (["restore", str(tmp_path / "nothing.backup")], "does not exist"),
            (["restore", str(not_a_backup)], "not a"),
            (["restore", str(target)], "--yes")):
        failed = _run(args, env)
        assert failed.returncode != 0, args
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:") and words in lines[0], \
            (args, failed.stderr)
        assert "Traceback" not in failed.stdout + failed.stderr


def test_postgres_password_goes_by_environment_never_argv(monkeypatch, tmp_path) -> None:
    url = make_url("postgresql+psycopg://screening:S3cret-pw-42@127.0.0.1:1/screening"
                   "?sslmode=disable")
    env = pg_environment(url)
    assert env["PGPASSWORD"] == "S3cret-pw-42" and env["PGUSER"] == "screening"
    assert env["PGPORT"] == "1" and env["PGSSLMODE"] == "disable"
    seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(argv: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append([str(a) for a in argv])
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    settings = Settings(env="test", instance_dir=tmp_path, database_url=url.render_as_string(
        hide_password=False))
    with pytest.raises(BackupError) as failed:
        backup(settings, tmp_path / "pg.backup")
    message = str(failed.value)
    assert message.startswith("pg_dump failed:") and "\n" not in message
    assert "S3cret-pw-42" not in message
    assert seen and all("S3cret-pw-42" not in " ".join(argv) for argv in seen)
    assert not (tmp_path / "pg.backup").exists()
