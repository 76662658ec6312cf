"""Alembic environment: batch mode on SQLite, the models' metadata as the target."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from screening.models import Base

config = context.config


def render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render the models' UTCDateTime as a plain timezone-aware DateTime in revisions."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


target_metadata = Base.metadata


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url is not None and url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # Batch mode copies tables; foreign keys are checked again after the migration.
        # (The pragma is a no-op inside a transaction, so end the implicit one first.)
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=is_sqlite, compare_type=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {len(problems)} row(s)")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
