"""Forms of the administration pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from .base import Form


def choice(value: object, label: object) -> Any:
    """A select option (WTForms >= 3.3 deprecates plain tuples)."""
    return SelectChoice(value=value, label=label)


ROLE_NAMES = {
    "nurse": _l("nurse"),
    "gp": _l("GP"),
    "consultant": _l("substance-use consultant"),
    "analyst": _l("analyst"),
    "admin": _l("administrator"),
}
UNIT_KIND_NAMES = {
    "home_care": _l("home care"),
    "gp_office": _l("GP office"),
    "substance_use_service": _l("substance-use service"),
}
ROLE_CHOICES = [choice(value, label) for value, label in ROLE_NAMES.items()]
UNIT_KIND_CHOICES = [choice(value, label) for value, label in UNIT_KIND_NAMES.items()]
REQUIRED = _l("This field is required.")


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (each with its own label)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StaffCreateForm(Form):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(REQUIRED), Length(max=64),
                    Regexp(r"^\s*[A-Za-z0-9.-]+\s*$",
                           message=_l("Use letters a-z, digits, '.' and '-' only."))],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    display_name = StringField(_l("Full name"),
                               validators=[DataRequired(REQUIRED), Length(max=120)],
                               render_kw={"autocomplete": "off"})
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired(REQUIRED)])
    units = CheckboxesField(_l("Units"), coerce=int, validate_choice=True)
    hpr_number = StringField(
        _l("HPR number (clinicians, optional)"),
        validators=[Optional(), Regexp(r"^\s*\d{6,9}\s*$",
                                       message=_l("An HPR number has 6 to 9 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    password = PasswordField(_l("First password"),
                             validators=[DataRequired(REQUIRED), Length(max=256)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("First password again"),
        validators=[DataRequired(REQUIRED),
                    EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"})


class UnitCreateForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=40),
                    Regexp(r"^\s*[a-z0-9][a-z0-9-]{1,39}\s*$",
                           message=_l("2 to 40 characters: lower-case letters a-z, digits "
                                      "and '-'."))],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(min=2, max=120)],
                       render_kw={"autocomplete": "off"})
    kind = SelectField(_l("Kind"), choices=UNIT_KIND_CHOICES,
                       validators=[DataRequired(REQUIRED)])


class MembershipForm(Form):
    unit = SelectField(_l("Unit"), coerce=int, validators=[DataRequired(REQUIRED)])
    leader = BooleanField(_l("Unit leader (sees the unit's anonymised reports)"))


class ConfirmForm(Form):
    """A button that changes state: only the CSRF token."""
