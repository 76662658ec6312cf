"""Blueprints, one per user task. Nothing imports ``web``."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        assessments,
        auth,
        conversations,
        extensions,
        health,
        home,
        lang,
        patients,
        reports,
        worklist,
    )

    for module in (health, lang, auth, home, admin, patients, assessments, extensions,
                   conversations, worklist, reports):
        app.register_blueprint(module.bp)
