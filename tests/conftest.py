"""Shared fixtures: a fresh database (SQLite file, or a PostgreSQL database when
``SCREENING_TEST_DATABASE_URL`` is set), fresh random keys, and the app with CSRF on."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from screening import create_app
from screening.crypto.keys import init_key_file
from screening.settings import Settings

PG_URL = os.environ.get("SCREENING_TEST_DATABASE_URL", "")
# The scoring core and the crypto package touch no database: their tests run once.
NO_DATABASE_FOLDERS = {Path(__file__).resolve().parent / name for name in ("core", "crypto")}
ON_POSTGRES = bool(PG_URL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of SQLite's own files and pragmas (``sqlite_only``) and tests that use no
    database at all (``no_database``) run in the SQLite pass; the PostgreSQL pass deselects
    them. Tests of PostgreSQL itself (``postgres_only``) run in the PostgreSQL pass only.
    Deselected tests are reported as such; nothing is skipped."""
    here = Path(__file__).resolve().parent
    for item in items:
        where = Path(str(item.fspath)).resolve()
        if where.parent in NO_DATABASE_FOLDERS or where.parent == here and where.name in (
                "test_architecture.py", "test_translations.py"):
            item.add_marker(pytest.mark.no_database)
    keep, drop = [], []
    for item in items:
        if ON_POSTGRES:
            marked = item.get_closest_marker("sqlite_only") or item.get_closest_marker(
                "no_database")
        else:
            marked = item.get_closest_marker("postgres_only")
        (drop if marked else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    where = "PostgreSQL " + make_url(PG_URL).render_as_string() if ON_POSTGRES else "SQLite"
    return f"database: {where}"


def _pg_admin_url(database: str = "postgres") -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _pg_execute(statement: str) -> None:
    engine = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _migrate(url: str) -> None:
    from screening import migrate

    migrate.upgrade(Settings(env="test", database_url=url))


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per session; tests get copies of it."""
    if ON_POSTGRES:
        name = f"tmpl_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        _migrate(_pg_admin_url(name))
        yield name
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        _migrate(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    if ON_POSTGRES:
        name = f"t_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield _pg_admin_url(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        target = tmp_path / "db" / "screening.sqlite3"
        target.parent.mkdir()
        shutil.copyfile(template_database, target)
        yield f"sqlite:///{target}"


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    init_key_file(folder / "keys.json")
    return folder


@pytest.fixture
def settings(instance_dir: Path, database_url: str) -> Settings:
    # Cheap password hashing in tests only.
    return Settings(
        env="test",
        instance_dir=instance_dir,
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
    )


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["screening.db"].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)
