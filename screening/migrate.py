"""Alembic, driven from the app's settings (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from .settings import PROJECT_ROOT, Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # Alembic's ini interpolation treats "%" specially.
    config.set_main_option("sqlalchemy.url",
                           settings.resolved_database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)
