"""What a report page shows, as plain rows of text and numbers: the page, the printable
summary, the CSV and the XLSX are all written from this, so a download holds exactly what
the page shows. Hidden figures carry only the mark, never a value."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..core.aggregation import (
    COMPLEMENTARY,
    LINKED,
    PRIMARY,
    RATE,
    SERIES,
    TOTAL,
    Figure,
    Rate,
    Release,
    cell,
    col_total,
    row_total,
)
from ..core.report_tables import (
    AGE_BANDS,
    FOLLOW_UPS,
    LEVELS,
    OUTCOMES,
    PATHWAYS,
    SEX_AGE,
    SEXES,
    UNKNOWN,
    Report,
)
from .templating import pathway_name

HIDDEN = ":"  # as in Statistics Norway's tables: not shown, to protect privacy
NO_DATA = "–"


@dataclass(frozen=True)
class Cell:
    text: str
    number: int | float | None = None  # the count, or the share as a fraction
    hidden: bool = False
    percent: bool = False


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]
    total: bool = False


@dataclass
class TableView:
    id: str
    title: str
    head: list[list[tuple[str, int]]]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    figures: list[tuple[str, Cell]] = field(default_factory=list)  # key figures under it


def count(figure: Figure) -> Cell:
    if figure.hidden:
        return Cell(HIDDEN, None, hidden=True)
    value = int(figure.value or 0)
    return Cell(format_decimal(value, format="#,##0"), value)


def share(rate: Rate) -> Cell:
    if rate.hidden:
        return Cell(HIDDEN, None, hidden=True, percent=True)
    percent = rate.percent
    if percent is None:
        return Cell(NO_DATA, None, percent=True)
    return Cell(format_decimal(percent, format="0.0") + " %", percent / 100, percent=True)


def result_name(instrument: str, row: str) -> str:
    names = {
        "I": _("Zone I (low risk)"), "II": _("Zone II (hazardous use)"),
        "III": _("Zone III (harmful use)"), "IV": _("Zone IV (possible dependence)"),
        "negative": _("Negative"), "positive": _("Positive"), UNKNOWN: _("Not recorded"),
    }
    return names.get(row, row)


def age_name(band: str) -> str:
    return {"under_65": _("Under 65"), "65_74": "65–74", "75_84": "75–84",
            "85_plus": _("85 and over")}[band]


def sex_name(sex: str) -> str:
    return _("Women") if sex == "female" else _("Men")


def level_name(level: str) -> str:
    return _("Not recorded") if level == UNKNOWN else _("Level %(n)s", n=level)


def follow_up_name(status: str) -> str:
    return {"none": _("No follow-up"), "pending": _("Pending"), "on_time": _("Done on time"),
            "late": _("Done late")}[status]


def reason_note(reason: str, k: int, instrument: str) -> str:
    if reason == PRIMARY:
        return _("Fewer than %(k)d assessments.", k=k)
    if reason == COMPLEMENTARY:
        return _("Hidden so that a number below %(k)d cannot be worked out from the totals.",
                 k=k)
    if reason == SERIES:
        return _("Hidden in a month of this period; showing it would let a number below %(k)d "
                 "be found by subtracting the reports for other periods.", k=k)
    if reason == LINKED:
        if instrument == "audit":
            return _("Pathways follow from the action levels under the rule set, and a level "
                     "count is hidden.")
        return _("Pathways follow from the DUDIT result under the rule set, and a positive "
                 "count is hidden.")
    return _("A share is hidden when a number it is computed from is hidden.")


def _notes(release: Release, table_ids: list[str], rates: list[Rate], instrument: str
           ) -> list[str]:
    reasons = set()
    for table_id in table_ids:
        reasons |= set(release[table_id].hidden().values())
    if any(r.hidden for r in rates):
        reasons.add(RATE)
    order = (PRIMARY, COMPLEMENTARY, SERIES, LINKED, RATE)
    return [reason_note(r, release.k, instrument) for r in order if r in reasons]


def _rows_shown(report: Report) -> list[str]:
    table = report.release["results"]
    unknown = any(table[cell(UNKNOWN, c)].hidden or table[cell(UNKNOWN, c)].value
                  for c in SEX_AGE)
    return list(report.result_rows) + ([UNKNOWN] if unknown else [])


def results_table(report: Report) -> TableView:
    table = report.release["results"]
    audit = report.instrument == "audit"
    title = (_("AUDIT assessments by zone, sex and age band") if audit
             else _("DUDIT assessments by result, sex and age band"))
    head = [[("", 1)] + [(sex_name(s), len(AGE_BANDS)) for s in SEXES] + [("", 1)],
            [(_("Zone") if audit else _("Result"), 1)]
            + [(age_name(b), 1) for _s in SEXES for b in AGE_BANDS] + [(_("Total"), 1)]]
    rows = [Row(result_name(report.instrument, r),
                [count(table[cell(r, c)]) for c in SEX_AGE] + [count(table[row_total(r)])])
            for r in _rows_shown(report)]
    rows.append(Row(_("Total"), [count(table[col_total(c)]) for c in SEX_AGE]
                    + [count(table[TOTAL])], total=True))
    return TableView("results", title, head, rows,
                     _notes(report.release, ["results"], [], report.instrument))


def levels_table(report: Report) -> TableView:
    table, rates = report.release["levels"], report.rates
    head = [[(_("Action level"), 1), (_("Assessments"), 1), (_("Share of all"), 1),
             (_("Conversation delivered"), 1), (_("Not delivered"), 1),
             (_("Share delivered"), 1)]]
    shown = list(LEVELS) + ([UNKNOWN] if table[row_total(UNKNOWN)].hidden
                            or table[row_total(UNKNOWN)].value else [])
    rows = []
    for level in shown:
        rows.append(Row(level_name(level), [
            count(table[row_total(level)]),
            share(rates[f"level:{level}"]) if level != UNKNOWN else Cell(""),
            count(table[cell(level, "delivered")]), count(table[cell(level, "not_delivered")]),
            share(rates[f"conversation:{level}"]) if level != UNKNOWN else Cell("")]))
    rows.append(Row(_("Total"), [count(table[TOTAL]), Cell(""),
                                 count(table[col_total("delivered")]),
                                 count(table[col_total("not_delivered")]), Cell("")],
                    total=True))
    used = [rates[k] for k in rates if k.startswith(("level", "conversation"))]
    view = TableView("levels", _("Action levels and brief conversations"), head, rows,
                     _notes(report.release, ["levels"], used, report.instrument))
    view.figures = [
        (_("Assessments at level 2 or higher"), share(rates["level2plus"])),
        (_("Conversations delivered among assessments at level 2 or higher"),
         share(rates["conversation_level2"]))]
    return view


def pathways_table(report: Report) -> TableView:
    table, rates = report.release["pathways"], report.rates
    head = [[(_("Pathway recommended"), 1), (_("Assessments"), 1),
             (_("Share of all assessments"), 1)]]
    rows = [Row(pathway_name(p), [count(table[cell(p)]), share(rates[f"pathway:{p}"])])
            for p in PATHWAYS]
    used = [rates[f"pathway:{p}"] for p in PATHWAYS]
    return TableView("pathways", _("Pathways recommended (an assessment may have several)"),
                     head, rows, _notes(report.release, ["pathways"], used, report.instrument))


def follow_ups_table(report: Report) -> TableView:
    table = report.release["follow_ups"]
    head = [[(_("Follow-up"), 1), (_("Assessments"), 1)]]
    rows = [Row(follow_up_name(s), [count(table[cell(s)])]) for s in FOLLOW_UPS]
    rows.append(Row(_("Total"), [count(table[TOTAL])], total=True))
    rate = report.rates["follow_up_on_time"]
    view = TableView("follow_ups", _("Follow-ups"), head, rows,
                     _notes(report.release, ["follow_ups"], [rate], report.instrument))
    view.figures = [(_("Follow-ups done on time, of those done"), share(rate))]
    return view


def trend_table(report: Report) -> TableView:
    audit = report.instrument == "audit"
    groups = LEVELS if audit else OUTCOMES
    source = "levels" if audit else "results"
    head = [[(_("Quarter"), 1), (_("Assessments"), 1)]
            + [((level_name(g) if audit else result_name("dudit", g)), 1) for g in groups]
            + ([(_("Conversations at level 2 or higher"), 1)] if audit else [])]
    rows, rates_used = [], []
    for label, release, rates in report.trend:
        table = release[source]
        cells = [count(table[TOTAL])] + [count(table[row_total(g)]) for g in groups]
        if audit:
            cells.append(share(rates["conversation_level2"]))
            rates_used.append(rates["conversation_level2"])
        rows.append(Row(label, cells))
    whole = report.trend_total[source]
    rows.append(Row(_("Total"), [count(whole[TOTAL])] + [count(whole[row_total(g)])
                                                         for g in groups]
                    + ([Cell("")] if audit else []), total=True))
    reasons: set[str] = set()
    for _label, release, _rates in report.trend:
        reasons |= set(release[source].hidden().values())
    reasons |= set(whole.hidden().values())
    if any(r.hidden for r in rates_used):
        reasons.add(RATE)
    order = (PRIMARY, COMPLEMENTARY, SERIES, LINKED, RATE)
    notes = [reason_note(r, report.k, report.instrument) for r in order if r in reasons]
    return TableView("trend", _("Trend by quarter over the plan period (eight quarters)"),
                     head, rows, notes)


def tables(report: Report) -> list[TableView]:
    views = [results_table(report)]
    if report.instrument == "audit":
        views.append(levels_table(report))
    views += [pathways_table(report), follow_ups_table(report), trend_table(report)]
    return views


def key_figures(report: Report) -> list[tuple[str, Cell]]:
    figures = [(_("Assessments"), count(report.release["results"][TOTAL]))]
    if report.instrument == "audit":
        figures.append((_("At action level 2 or higher"), share(report.rates["level2plus"])))
        figures.append((_("Conversations delivered at level 2 or higher"),
                        share(report.rates["conversation_level2"])))
    else:
        figures.append((_("Positive"), share(report.rates["result:positive"])))
    figures.append((_("Follow-ups done on time, of those done"),
                    share(report.rates["follow_up_on_time"])))
    return figures
