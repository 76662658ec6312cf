"""Anonymised reports for analysts: the report page, a printable one-page summary, and CSV
and XLSX downloads of exactly what the page shows. Filters come from the query string
(a GET form); a bad filter gets a message and 422, never a 500.

Analysts see every unit; a unit leader (a member marked as leader of a unit, whatever the
role) sees the units they lead, and only those."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _

from ..core.report_tables import PeriodError, Report
from ..forms.reports import ReportForm
from ..localtime import now_utc
from ..services import reports
from . import report_files, report_view
from .context import db_session, settings
from .period_names import period_text
from .report_charts import charts
from .templating import instrument_code

bp = Blueprint("reports", __name__)
ANALYSTS = ("analyst",)


def _allowed_units() -> frozenset[int] | None:
    """None: every unit (analysts); otherwise the units the user leads."""
    return None if g.staff.role in ANALYSTS else g.staff.led_unit_ids


def report_readers(view: Callable[..., Any]) -> Callable[..., Any]:
    """Analysts, and unit leaders for their own units; anyone else 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.staff is None or (g.staff.role not in ANALYSTS and not g.staff.led_unit_ids):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _messages() -> dict[str, str]:
    return {
        "bad_month": _("Write the month as YYYY-MM with a year from 2000 to 2100, "
                       "for example 2024-03."),
        "bad_year": _("Choose a year from the list."),
        "bad_quarter": _("Choose a quarter from 1 to 4."),
        "bad_kind": _("Choose month, quarter, year or from month to month."),
        "start_after_end": _("The first month comes after the last month."),
        "too_long": _("Choose a period of at most ten years."),
        "unknown_unit": _("Choose units from the list."),
        "unknown_setting": _("Choose a setting from the list."),
        "unknown_instrument": _("Choose AUDIT, AUDIT-C or DUDIT."),
    }


def _prepare() -> tuple[ReportForm, reports.Filters | None, str | None, Report | None]:
    session = db_session()
    form = ReportForm(request.args)
    allowed = _allowed_units()
    units = [u for u in reports.unit_choices(session) if allowed is None or u.id in allowed]
    form.units.choices = [(str(u.id), u.name if u.active else _("%(name)s (closed)",
                                                                name=u.name)) for u in units]
    try:
        filters = form.filters()
        if allowed is not None:
            # A unit leader's report covers the units they lead, never more.
            chosen = set(filters.unit_ids) or set(allowed)
            if not chosen <= allowed:
                raise reports.ReportError("unknown_unit")
            filters = dataclasses.replace(filters, unit_ids=tuple(sorted(chosen)))
        report = reports.report(session, filters, settings().small_cell_k)
    except (PeriodError, reports.ReportError) as err:
        return form, None, _messages().get(err.code, _messages()["bad_kind"]), None
    return form, filters, None, report


def _context(filters: reports.Filters, report: Report) -> dict[str, Any]:
    setting_names = {None: _("Both settings"), "home_care": _("Home care"),
                     "gp_practice": _("GP practice")}
    names = reports.unit_names(db_session(), filters.unit_ids)
    return {
        "report": report, "tables": report_view.tables(report),
        "key_figures": report_view.key_figures(report),
        "period_text": period_text(filters.period), "period": filters.period,
        "instrument_text": instrument_code(filters.instrument),
        "instrument": filters.instrument,
        "counting_note": report_view.counting_note(filters.instrument),
        "setting_text": setting_names.get(filters.setting, filters.setting),
        "units_text": ", ".join(names) if names else _("All units"),
        "legend": report_view.legend(report.k),
        "k": report.k, "made_at": now_utc(),
        "query": request.query_string.decode("ascii", "replace"),
    }


def _invalid(form: ReportForm, error: str) -> tuple[str, int]:
    return render_template("reports/page.html", form=form, error=error, report=None,
                           k=settings().small_cell_k), 422


@bp.get("/reports")
@report_readers
def page() -> str | tuple[str, int]:
    form, filters, error, report = _prepare()
    if error or report is None or filters is None:
        return _invalid(form, error or "")
    return render_template("reports/page.html", form=form, error=None, charts=charts(report),
                           **_context(filters, report))


@bp.get("/reports/summary")
@report_readers
def summary() -> str | tuple[str, int]:
    form, filters, error, report = _prepare()
    if error or report is None or filters is None:
        return _invalid(form, error or "")
    return render_template("reports/summary.html", **_context(filters, report))


def _download(kind: str) -> Response | tuple[str, int]:
    form, filters, error, report = _prepare()
    if error or report is None or filters is None:
        return _invalid(form, error or "")
    context = _context(filters, report)
    header = report_files.header_lines(context)
    views = context["tables"]
    name = f"report-{filters.instrument}-{filters.period.start}-{filters.period.end}"
    if kind == "csv":
        return Response(report_files.csv_bytes(header, views),
                        mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(report_files.xlsx_bytes(header, views), mimetype=report_files.XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@bp.get("/reports/report.csv")
@report_readers
def csv() -> Response | tuple[str, int]:
    return _download("csv")


@bp.get("/reports/report.xlsx")
@report_readers
def xlsx() -> Response | tuple[str, int]:
    return _download("xlsx")
