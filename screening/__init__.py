"""Screening and brief intervention for risky drinking: the Flask application package.

``create_app`` only assembles the application. It creates no tables, no files and no keys
and never prompts; set-up is done by explicit commands (see README.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .startup import StartupError

if TYPE_CHECKING:
    from flask import Flask

    from .settings import Settings

__all__ = ["StartupError", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Assemble the app: settings, keys, instruments, database, CSRF, i18n, blueprints,
    commands and error handlers. Raises :class:`StartupError` (one line) when something it
    needs is missing or invalid."""
    from .factory import assemble

    return assemble(settings)
