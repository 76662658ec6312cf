"""``/healthz``: is the database reachable? Answers without login and returns no data."""

from __future__ import annotations

from flask import Blueprint, Response

from .context import database

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        database().ping()
    except Exception:  # noqa: BLE001 - any failure is "not healthy"; details go nowhere
        return Response("unavailable\n", status=503, mimetype="text/plain")
    return Response("ok\n", status=200, mimetype="text/plain")
