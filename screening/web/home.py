"""The start page after login: what this user can do, and for a clinician the day: her
units' follow-ups due today (home visits marked as visits) and overdue, and how many
referrals wait in the inbox."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from ..localtime import local_today
from ..services import worklist
from .context import database, keyring

bp = Blueprint("home", __name__)
CLINICIANS = ("nurse", "gp", "consultant")


@bp.get("/")
def index() -> str:
    day = None
    if g.staff.role in CLINICIANS:
        day = worklist.day(database(), keyring(), g.staff, local_today())
    return render_template("home/index.html", user=g.staff, day=day, today_date=local_today())
