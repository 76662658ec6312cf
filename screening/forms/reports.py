"""The report filter form, read from the query string (a GET form without CSRF: it changes
nothing). Every check is in :meth:`ReportForm.filters`, which raises ``PeriodError`` or
``ReportError`` with a code the view turns into a message in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.report_tables import INSTRUMENTS, Period, PeriodError
from ..localtime import local_today
from ..models.assessments import SETTINGS
from ..services.reports import Filters, ReportError
from .admin import choice
from .base import Form

KINDS = ("month", "quarter", "year", "custom")
MONTH_PLACEHOLDER = _l("YYYY-MM")


class ReportForm(Form):
    class Meta:
        csrf = False  # a GET form that only reads

    kind = RadioField(_l("Period"), default="year", validate_choice=False, choices=[
        choice("month", _l("Month")), choice("quarter", _l("Quarter")),
        choice("year", _l("Year")), choice("custom", _l("From month to month"))])
    month = StringField(_l("Month"), render_kw={"placeholder": MONTH_PLACEHOLDER, "size": 8})
    quarter = SelectField(_l("Quarter"), default="1", validate_choice=False,
                          choices=[choice(str(q), _l("Q%(n)d", n=q)) for q in range(1, 5)])
    year = SelectField(_l("Year"), validate_choice=False)
    start = StringField(_l("From month"), render_kw={"placeholder": MONTH_PLACEHOLDER, "size": 8})
    end = StringField(_l("To month"), render_kw={"placeholder": MONTH_PLACEHOLDER, "size": 8})
    instrument = RadioField(_l("Instrument"), default="audit", validate_choice=False,
                            choices=[choice("audit", "AUDIT"), choice("audit_c", "AUDIT-C"),
                                     choice("dudit", "DUDIT")])
    setting = SelectField(_l("Setting"), default="", validate_choice=False, choices=[
        choice("", _l("Both settings")), choice("home_care", _l("Home care")),
        choice("gp_practice", _l("GP practice"))])
    units = SelectMultipleField(_l("Units (none chosen: all units)"), coerce=str,
                                validate_choice=False, widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        this_year = local_today().year
        self.year.choices = [choice(str(y), str(y)) for y in range(this_year, this_year - 11, -1)]
        if not self.year.data:
            self.year.data = str(this_year)

    def period(self) -> Period:
        kind = self.kind.data
        if kind == "month":
            return Period.month((self.month.data or "").strip())
        if kind == "custom":
            return Period((self.start.data or "").strip(), (self.end.data or "").strip())
        year = _number(self.year.data, "bad_year")
        if not 2000 <= year <= 2100:
            raise PeriodError("bad_year")
        if kind == "quarter":
            return Period.quarter(year, _number(self.quarter.data, "bad_quarter"))
        if kind == "year":
            return Period.year(year)
        raise PeriodError("bad_kind")

    def filters(self) -> Filters:
        """The filters chosen (raises ``PeriodError`` or ``ReportError``)."""
        period = self.period()
        if self.instrument.data not in INSTRUMENTS:
            raise ReportError("unknown_instrument")
        setting = self.setting.data or None
        if setting is not None and setting not in SETTINGS:
            raise ReportError("unknown_setting")
        unit_ids = []
        for raw in self.units.data or []:
            if not (str(raw).isascii() and str(raw).isdigit()) or len(str(raw)) > 9:
                raise ReportError("unknown_unit")
            unit_ids.append(int(raw))
        return Filters(period, self.instrument.data, tuple(sorted(set(unit_ids))), setting)


def _number(raw: object, code: str) -> int:
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise PeriodError(code)
    return int(text)
