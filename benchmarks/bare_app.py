"""The bare baseline of ``benchmarks/http.py``: a minimal Flask app with one route that
writes one row, run under the same gunicorn configuration (``deploy/gunicorn.conf.py``) on
the same database as the app.

It uses the app's own engine set-up (``screening.database.Database``: the same pool size,
SQLite WAL, busy timeout and ``BEGIN IMMEDIATE``), so that the difference measured is the
app's work (sessions, CSRF, access checks, the access log, sealing, scoring, templates),
not a different driver configuration. The database comes from ``BENCH_DATABASE_URL``; the
table ``bench_rows`` is created when the app is loaded (in gunicorn's master).

    BENCH_DATABASE_URL=sqlite:////tmp/x.sqlite3 gunicorn -c deploy/gunicorn.conf.py \\
        benchmarks.bare_app:app
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert

from screening.database import Database
from screening.settings import Settings

METADATA = MetaData()
ROWS = Table(
    "bench_rows",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("value", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def create() -> Flask:
    database = Database(Settings(env="test", database_url=os.environ["BENCH_DATABASE_URL"]))
    METADATA.create_all(database.engine)  # the baseline's own table, in the master
    database.dispose()
    app = Flask(__name__)
    app.extensions["screening.db"] = database  # disposed after fork like the app's

    @app.post("/rows")
    def write_row() -> Response:
        with database.write() as session:
            session.execute(insert(ROWS).values(
                uuid=str(uuid.uuid4()), value=request.form.get("value", "")[:200],
                created_at=datetime.now(UTC)))
        return Response("ok\n", mimetype="text/plain")

    return app


app = create()
