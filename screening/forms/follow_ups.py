"""Forms of the follow-up tasks and referrals: closing a task with its outcome, sending a
referral, and the receiving unit's answer (accept with a date, or return with a note)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .base import Form

NOTE_MAX = 2000
MODE_CHOICES = [SelectChoice("home_visit", _l("home visit")), SelectChoice("phone", _l("phone")),
                SelectChoice("consultation", _l("consultation"))]


class CloseForm(Form):
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice("done", _l("Done")),
                 SelectChoice("not_reached", _l("Patient not reached")),
                 SelectChoice("declined", _l("Patient declined")),
                 SelectChoice("rescheduled", _l("Rescheduled to a new date"))],
        validators=[InputRequired(message=_l("Choose the outcome."))])
    new_date = DateField(_l("New date"), validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=NOTE_MAX)])


class ReferralForm(Form):
    unit = SelectField(_l("Receiving unit"), coerce=int, validate_choice=True)
    reason = TextAreaField(
        _l("Reason for the referral"),
        validators=[InputRequired(message=_l("Give the reason for the referral.")),
                    Length(max=NOTE_MAX)])
    consent = RadioField(
        _l("The patient's consent"),
        choices=[SelectChoice("yes", _l("The patient consents")),
                 SelectChoice("no", _l("The patient does not consent: nothing is sent"))],
        validators=[InputRequired(message=_l("Record whether the patient consents."))])


class AcceptForm(Form):
    due_date = DateField(_l("Follow-up date"),
                         validators=[InputRequired(message=_l("Choose the follow-up date."))])
    mode = RadioField(_l("Mode"), choices=MODE_CHOICES,
                      validators=[InputRequired(message=_l("Choose the mode."))])
    accept_note = TextAreaField(_l("Note to the sender (optional)"),
                                validators=[Length(max=NOTE_MAX)])


class ReturnForm(Form):
    return_note = TextAreaField(
        _l("Why the referral is returned"),
        validators=[InputRequired(message=_l("Write a note to the sender.")),
                    Length(max=NOTE_MAX)])
