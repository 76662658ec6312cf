"""Login with password and TOTP, first-time TOTP enrolment, logout."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..forms.auth import EnrolForm, LoginForm
from ..services import accounts, totp
from ..services.passwords import Hasher
from .context import database, keyring
from .navigation import safe_next
from .parking import ENDED_KEY, PARKED_KEY

bp = Blueprint("auth", __name__)


def _hasher() -> Hasher:
    return current_app.extensions["screening.hasher"]


def _start(token: str) -> None:
    """A fresh cookie session for the new login session: only the language and the handle of
    a form parked while logged out survive (the parked form opens only for its author)."""
    kept = {k: session[k] for k in ("lang", PARKED_KEY) if k in session}
    session.clear()
    session["sid"] = token
    session.permanent = True
    session.update(kept)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if g.staff is not None and g.staff.stage == "full":
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        outcome = accounts.login(
            database(),
            keyring(),
            _hasher(),
            username=form.username.data or "",
            password=form.password.data or "",
            code=form.code.data or "",
            address=request.remote_addr or "unknown",
        )
        if outcome.status == "throttled":
            flash(_("Too many failed attempts. Wait a minute and try again."), "error")
        elif outcome.status == "invalid" or outcome.token is None:
            flash(_("Wrong username, password or code."), "error")
        else:
            _start(outcome.token)
            if outcome.status == "enrol":
                return redirect(url_for("auth.enrol"))
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> str | Response:
    user = g.staff
    token = session.get("sid")
    if user is None or user.stage != "enrol" or not isinstance(token, str):
        return redirect(url_for("auth.login"))
    form = EnrolForm()
    if form.validate_on_submit():
        new_token = accounts.confirm_enrolment(database(), keyring(), token, form.code.data or "")
        if new_token is not None:
            _start(new_token)
            flash(_("Two-factor login is set up."), "info")
            return redirect(url_for("home.index"))
        flash(_("The code was not accepted. Try the newest code."), "error")
    secret = accounts.pending_secret(database(), keyring(), user.id)
    uri = totp.provisioning_uri(secret, user.username)
    return render_template("auth/enrol.html", form=form, qr=totp.qr_svg(uri), secret=secret)


@bp.post("/logout")
def logout() -> Response:
    token = session.get("sid")
    if isinstance(token, str):
        accounts.end_session(database(), token)
    # The ended session's token and the CSRF token stay: a form still open in another tab
    # and sent later is then kept for its author (web.parking); the token opens nothing.
    kept = {k: session[k] for k in ("lang", "csrf_token") if k in session}
    session.clear()
    session.update(kept)
    if isinstance(token, str):
        session[ENDED_KEY] = token
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
