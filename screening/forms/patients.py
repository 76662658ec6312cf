"""Patient search and registration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .base import Form

FNR_HINT = _l("11 digits (fødselsnummer or D-number).")


class SearchForm(Form):
    fnr = StringField(_l("Fødselsnummer"), validators=[DataRequired(), Length(max=20)],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})


class RegisterForm(Form):
    fnr = StringField(_l("Fødselsnummer"), validators=[DataRequired(), Length(max=20)],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    unit = SelectField(_l("Unit responsible"), coerce=int, validate_choice=True)


class BreakGlassForm(Form):
    reason = TextAreaField(_l("Why do you need access now?"),
                           validators=[DataRequired(), Length(min=10, max=500)])
