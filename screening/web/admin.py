"""Administration: staff accounts, units, membership, break-the-glass review.
Administrators see no patient data: the review list shows who broke the glass, when, until
when and why, never which patient."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..forms.admin import (
    UNIT_KIND_NAMES,
    ConfirmForm,
    MembershipForm,
    StaffCreateForm,
    UnitCreateForm,
    choice,
)
from ..services import accounts, administration, care
from ..services.accounts import AccountError
from ..services.passwords import PasswordRejected
from .context import database, keyring
from .security import roles

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _account_message(code: str) -> str:
    messages = {
        "bad_username": _("The username may contain letters a-z, digits, '.' and '-' only."),
        "bad_role": _("Choose one of the roles."),
        "bad_hpr": _("An HPR number has 6 to 9 digits."),
        "username_taken": _("That username is already taken."),
        "unknown_unit": _("That unit does not exist."),
        "unknown_user": _("That account does not exist."),
        "bad_unit_code": _("2 to 40 characters: lower-case letters a-z, digits and '-'."),
        "bad_unit_name": _("The name must have 2 to 120 characters."),
        "bad_unit_kind": _("Choose one of the kinds."),
        "unit_code_taken": _("A unit with that code already exists."),
        "not_a_member": _("The account is not a member of that unit."),
        "own_account": _("You cannot do this to your own account. Ask another administrator."),
    }
    return messages.get(code, _("The change could not be made."))


def _password_message(code: str) -> str:
    messages = {
        "too_short": _("The password must have at least 12 characters."),
        "too_long": _("The password must have at most 256 characters."),
        "common": _("The password is too common or too simple. Choose a longer, less common "
                    "phrase."),
        "contains_username": _("The password must not contain the username."),
    }
    return messages.get(code, _("The password cannot be used."))


def _staff_or_404(staff_uuid: UUID) -> administration.StaffRow:
    row = administration.get_staff(database(), str(staff_uuid))
    if row is None:
        abort(404)
    return row


# ----------------------------------------------------------------------------- staff


@bp.get("/")
@roles("admin")
def staff_list() -> str:
    return render_template("admin/staff_list.html", staff=administration.list_staff(database()))


@bp.route("/staff/new", methods=["GET", "POST"])
@roles("admin")
def staff_new() -> str | Response:
    form = StaffCreateForm()
    units = [unit for unit in administration.list_units(database()) if unit.active]
    form.units.choices = [choice(unit.id, f"{unit.name} ({unit.code})") for unit in units]
    if form.validate_on_submit():
        chosen = set(form.units.data or [])
        username = (form.username.data or "").strip().lower()
        try:
            accounts.create_staff(
                database(), keyring(), current_app.extensions["screening.hasher"],
                username=username, display_name=form.display_name.data or "",
                role=form.role.data or "", password=form.password.data or "",
                unit_codes=tuple(unit.code for unit in units if unit.id in chosen),
                hpr_number=(form.hpr_number.data or "").strip() or None)
        except PasswordRejected as err:
            form.password.errors.append(_password_message(err.code))
        except AccountError as err:
            field = {"bad_username": form.username, "username_taken": form.username,
                     "bad_hpr": form.hpr_number, "unknown_unit": form.units,
                     "bad_role": form.role}.get(err.code, form.username)
            field.errors.append(_account_message(err.code))
        else:
            flash(_("Account %(username)s created. The user sets up two-factor login at "
                    "first login.", username=username), "info")
            return redirect(url_for("admin.staff_list"))
    return render_template("admin/staff_new.html", form=form)


@bp.get("/staff/<uuid:staff_uuid>")
@roles("admin")
def staff_detail(staff_uuid: UUID) -> str:
    person = _staff_or_404(staff_uuid)
    membership = MembershipForm()
    member_of = {unit_id for unit_id, _code, _name in person.units}
    membership.unit.choices = [choice(unit.id, f"{unit.name} ({unit.code})")
                               for unit in administration.list_units(database())
                               if unit.active and unit.id not in member_of]
    return render_template("admin/staff_detail.html", person=person, membership=membership,
                           confirm=ConfirmForm(), is_self=person.id == g.staff.id)


@bp.post("/staff/<uuid:staff_uuid>/disable")
@roles("admin")
def staff_disable(staff_uuid: UUID) -> Response:
    person = _staff_or_404(staff_uuid)
    if ConfirmForm().validate_on_submit():
        try:
            administration.disable(database(), person.uuid, g.staff.id)
        except AccountError as err:
            flash(_account_message(err.code), "error")
        else:
            flash(_("Account %(username)s is disabled and all its sessions have ended.",
                    username=person.username), "info")
    return redirect(url_for("admin.staff_detail", staff_uuid=person.uuid))


@bp.post("/staff/<uuid:staff_uuid>/reset-2fa")
@roles("admin")
def staff_reset_2fa(staff_uuid: UUID) -> Response:
    person = _staff_or_404(staff_uuid)
    if ConfirmForm().validate_on_submit():
        try:
            administration.reset_2fa(database(), person.uuid, g.staff.id)
        except AccountError as err:
            flash(_account_message(err.code), "error")
        else:
            flash(_("Two-factor login of %(username)s is reset. The user sets it up again at "
                    "next login.", username=person.username), "info")
    return redirect(url_for("admin.staff_detail", staff_uuid=person.uuid))


@bp.post("/staff/<uuid:staff_uuid>/units")
@roles("admin")
def membership_add(staff_uuid: UUID) -> Response:
    person = _staff_or_404(staff_uuid)
    form = MembershipForm()
    form.unit.choices = [choice(unit.id, unit.code)
                         for unit in administration.list_units(database())]
    if form.validate_on_submit() and form.unit.data is not None:
        try:
            administration.add_member(database(), person.uuid, form.unit.data,
                                      leader=bool(form.leader.data))
        except AccountError as err:
            flash(_account_message(err.code), "error")
        else:
            flash(_("Unit added."), "info")
    else:
        flash(_("Choose a unit."), "error")
    return redirect(url_for("admin.staff_detail", staff_uuid=person.uuid))


# Bounded: a larger number would overflow the database integer (a 500 instead of a 404).
@bp.post("/staff/<uuid:staff_uuid>/units/<int(max=2147483647):unit_id>/remove")
@roles("admin")
def membership_remove(staff_uuid: UUID, unit_id: int) -> Response:
    person = _staff_or_404(staff_uuid)
    if ConfirmForm().validate_on_submit():
        try:
            administration.remove_member(database(), person.uuid, unit_id)
        except AccountError as err:
            flash(_account_message(err.code), "error")
        else:
            flash(_("Unit removed."), "info")
    return redirect(url_for("admin.staff_detail", staff_uuid=person.uuid))


# ----------------------------------------------------------------------------- units


@bp.route("/units", methods=["GET", "POST"])
@roles("admin")
def units() -> str | Response:
    form = UnitCreateForm()
    if form.validate_on_submit():
        try:
            administration.create_unit(database(), form.code.data or "", form.name.data or "",
                                       form.kind.data or "")
        except AccountError as err:
            target = {"bad_unit_name": form.name, "bad_unit_kind": form.kind}.get(err.code,
                                                                                  form.code)
            target.errors.append(_account_message(err.code))
        else:
            flash(_("Unit %(code)s created.", code=(form.code.data or "").strip().lower()),
                  "info")
            return redirect(url_for("admin.units"))
    return render_template("admin/units.html", form=form, kinds=UNIT_KIND_NAMES,
                           units=administration.list_units(database()))


# ----------------------------------------------------------------------------- break-the-glass


@bp.get("/break-glass")
@roles("admin")
def break_glass_list() -> str:
    return render_template("admin/break_glass.html", confirm=ConfirmForm(),
                           reviews=care.pending_reviews(database(), keyring()))


@bp.post("/break-glass/<uuid:grant_uuid>/reviewed")
@roles("admin")
def break_glass_reviewed(grant_uuid: UUID) -> Response:
    if ConfirmForm().validate_on_submit():
        try:
            care.mark_reviewed(database(), g.staff, str(grant_uuid))
        except care.CareError as err:
            if err.code == "unknown_grant":
                abort(404)
            flash(_("That grant has already been reviewed."), "info")
        else:
            flash(_("Marked as reviewed."), "info")
    return redirect(url_for("admin.break_glass_list"))
