"""The start page after login: what this user can do."""

from __future__ import annotations

from flask import Blueprint, g, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    return render_template("home/index.html", user=g.staff)
