"""The app refuses to start, with one clear line and no traceback, on bad settings, a wrong
database URL, an unwritable instance folder or a missing key file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from screening import StartupError, create_app
from screening.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    clean.update(env)
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("name, value", [
    ("SCREENING_ENV", "staging"),
    ("SCREENING_SMALL_CELL_K", "five"),
    ("SCREENING_SMALL_CELL_K", "1"),
    ("SCREENING_DEBUG", "maybe"),
    ("SCREENING_DEFAULT_LOCALE", "sv"),
    ("SCREENING_SESSION_IDLE_MINUTES", "0"),
    ("SCREENING_DATABASE_URL", "mysql://localhost/x"),
    ("SCREENING_NO_SUCH_SETTING", "1"),
])
def test_invalid_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert message.startswith(name) and "\n" not in message


def test_production_refuses_debug_and_sqlite() -> None:
    with pytest.raises(SettingsError, match="SCREENING_DEBUG"):
        Settings.from_env({"SCREENING_ENV": "production", "SCREENING_DEBUG": "1",
                           "SCREENING_DATABASE_URL": "postgresql://db/x"})
    with pytest.raises(SettingsError, match="SCREENING_DATABASE_URL"):
        Settings.from_env({"SCREENING_ENV": "production"})
    allowed = Settings.from_env({"SCREENING_ENV": "production",
                                 "SCREENING_ALLOW_SQLITE_IN_PRODUCTION": "yes"})
    assert allowed.production and allowed.is_sqlite


def test_defaults_are_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    from dataclasses import fields

    for field in fields(Settings):
        if field.name != "extra":
            assert f"SCREENING_{field.name.upper()}" in readme, field.name


def test_missing_key_file(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    result = _start({"SCREENING_INSTANCE_DIR": str(instance)})
    _assert_one_clear_line(result, str(instance / "keys.json"), "keys init")


def test_unwritable_instance_folder(tmp_path: Path, instance_dir: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    result = _start({"SCREENING_INSTANCE_DIR": str(not_a_folder),
                     "SCREENING_KEY_FILE": str(instance_dir / "keys.json")})
    _assert_one_clear_line(result, "SCREENING_INSTANCE_DIR")
    missing = tmp_path / "no" / "such" / "folder"
    result = _start({"SCREENING_INSTANCE_DIR": str(missing),
                     "SCREENING_KEY_FILE": str(instance_dir / "keys.json")})
    _assert_one_clear_line(result, "SCREENING_INSTANCE_DIR", str(missing))


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/nothing",
    "sqlite:////nonexistent-folder/x/screening.sqlite3",
    "oracle://x",
])
def test_wrong_database_url(instance_dir: Path, url: str) -> None:
    result = _start({"SCREENING_INSTANCE_DIR": str(instance_dir), "SCREENING_DATABASE_URL": url})
    _assert_one_clear_line(result, "SCREENING_DATABASE_URL")
    assert "secretpw" not in result.stderr


def test_create_app_makes_no_files(instance_dir: Path, database_url: str) -> None:
    before = sorted(p.name for p in instance_dir.iterdir())
    app = create_app(Settings(env="test", instance_dir=instance_dir, database_url=database_url,
                              argon2_time_cost=1, argon2_memory_kib=8))
    app.extensions["screening.db"].dispose()
    assert sorted(p.name for p in instance_dir.iterdir()) == before


def test_create_app_raises_startup_error_without_keys(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as caught:
        create_app(Settings(env="test", instance_dir=tmp_path))
    assert "keys.json" in str(caught.value)
