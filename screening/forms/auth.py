"""Login, second-factor enrolment and language forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from .base import Form


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code from the authenticator app"),
                       validators=[Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    next = HiddenField()


class EnrolForm(Form):
    code = StringField(_l("Code from the authenticator app"),
                       validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$",
                                                          message=_l("Enter the 6 digits."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
