"""Patient search, registration, emergency access and correction forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .base import Form

FNR_HINT = _l("11 digits (fødselsnummer or D-number).")
SEARCH_HINT = _l("Part of the surname or given name, a birth date (dd.mm.åååå) or an "
                 "11-digit fødselsnummer.")


class SearchForm(Form):
    query = StringField(_l("Name, birth date or fødselsnummer"),
                        validators=[DataRequired(), Length(max=100)],
                        render_kw={"autocomplete": "off", "autocapitalize": "words",
                                   "spellcheck": "false", "enterkeyhint": "search"})


class RegisterForm(Form):
    fnr = StringField(_l("Fødselsnummer"), validators=[DataRequired(), Length(max=20)],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    unit = SelectField(_l("Unit responsible"), coerce=int, validate_choice=True)


class BreakGlassForm(Form):
    reason = TextAreaField(_l("Why do you need access now?"),
                           validators=[DataRequired(), Length(min=10, max=500)])


class EmergencyForm(Form):
    """Emergency access by fødselsnummer: the number searched, carried in the form (the
    page shows it), and the reason."""

    fnr = HiddenField(validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField(_l("Why do you need access now?"),
                           validators=[DataRequired(), Length(min=10, max=500)])


class DetailsForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    fnr = StringField(_l("New fødselsnummer or D-number"),
                      validators=[Optional(), Length(max=20)],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})
