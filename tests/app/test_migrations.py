"""Migrations: an empty database upgraded to head matches the models; every revision
upgrades and downgrades (on SQLite, and on PostgreSQL when the suite runs there)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from screening.migrate import alembic_config
from screening.models import Base
from screening.settings import Settings
from tests.conftest import ON_POSTGRES, _pg_admin_url, _pg_execute


@pytest.fixture
def empty_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if ON_POSTGRES:
        name = f"m_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        yield _pg_admin_url(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_head_matches_models(empty_url: str) -> None:
    config = alembic_config(Settings(env="test", database_url=empty_url))
    command.upgrade(config, "head")
    assert _diff(empty_url) == []


def test_every_revision_upgrades_and_downgrades(empty_url: str) -> None:
    config = alembic_config(Settings(env="test", database_url=empty_url))
    revisions = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
    assert revisions, "no migrations found"
    for revision in revisions:
        command.upgrade(config, revision.revision)
        command.downgrade(config, revision.down_revision or "base")
        command.upgrade(config, revision.revision)
    command.downgrade(config, "base")
    engine = create_engine(empty_url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
