"""Fixtures of the reliability tests: an app shared by the tests of one module (the fuzzer
walks every route against one world), on a copy of the migrated template database (SQLite
file, or a PostgreSQL database when ``SCREENING_TEST_DATABASE_URL`` is set)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from screening import create_app
from screening.crypto.keys import init_key_file
from screening.settings import Settings
from tests.conftest import ON_POSTGRES, _pg_admin_url, _pg_execute


@pytest.fixture(scope="module")
def module_database_url(template_database: str,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if ON_POSTGRES:
        name = f"m_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield _pg_admin_url(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        target = tmp_path_factory.mktemp("module-db") / "screening.sqlite3"
        shutil.copyfile(template_database, target)
        yield f"sqlite:///{target}"


@pytest.fixture(scope="module")
def module_app(module_database_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("module-instance")
    folder.chmod(0o700)
    init_key_file(folder / "keys.json")
    application = create_app(Settings(env="test", instance_dir=folder,
                                      database_url=module_database_url,
                                      argon2_time_cost=1, argon2_memory_kib=8))
    application.config["TESTING"] = True
    yield application
    application.extensions["screening.db"].dispose()
