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
        patient_details,
        patients,
        referrals,
        reports,
        results,  # noqa: F401 - the result pages: routes of the assessments blueprint
        worklist,
    )

    for module in (health, lang, auth, home, admin, patients, patient_details, assessments,
                   extensions, conversations, worklist, referrals, reports):
        app.register_blueprint(module.bp)
