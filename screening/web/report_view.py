"""What a report page shows, as plain rows of text and numbers: the page, the printable
summary, the CSV and the XLSX are all written from this, so a download holds exactly what
the page shows. Hidden figures carry only their mark, never a value: "<5" (k = 5) for a
count from 1 to 4, "x" for a count of 5 or more or a share, ":" for a total or a count over
several months whose size is not told. Which mark a figure gets is decided in
``core.aggregation``; this module writes it, and explains the marks in the legend and the
notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..core.aggregation import (
    LARGE,
    MARK_TEXT,
    SMALL,
    TOTAL,
    UNSIZED,
    Position,
    Rate,
    ReleasedTable,
    cell,
    col_total,
    linked_hidden,
    mark_text,
    row_total,
    small_marks,
)
from ..core.report_tables import (
    AGE_BANDS,
    FOLLOW_UPS,
    LEVELS,
    ORIGINS,
    OUTCOMES,
    PATHWAYS,
    SEX_AGE,
    SEXES,
    UNKNOWN,
    Report,
)
from ..i18n import current_lang
from .period_names import quarter_text
from .templating import pathway_name, zone_title

NO_DATA = "–"
MARKS = (SMALL, LARGE, UNSIZED)


@dataclass(frozen=True)
class Cell:
    text: str
    number: int | float | None = None  # the count, or the share as a fraction
    hidden: bool = False
    percent: bool = False
    said: str = ""  # what a screen reader says instead of a hidden figure's mark


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
    notes: list[tuple[str, str]] = field(default_factory=list)  # (marks, why hidden)
    figures: list[tuple[str, Cell]] = field(default_factory=list)  # key figures under it


def count(table: ReleasedTable, position: Position) -> Cell:
    mark = table.mark(position)
    if mark is not None:
        return Cell(mark_text(mark, table.k), None, hidden=True, said=mark_said(mark, table.k))
    value = int(table[position].value or 0)
    return Cell(format_decimal(value, format="#,##0"), value)


def share(rate: Rate) -> Cell:
    if rate.hidden:
        return Cell(MARK_TEXT[LARGE], None, hidden=True, percent=True, said=_("hidden"))
    percent = rate.percent
    if percent is None:
        return Cell(NO_DATA, None, percent=True)
    return Cell(format_decimal(percent, format="0.0") + " %", percent / 100, percent=True)


def mark_said(mark: str, k: int) -> str:
    if mark == SMALL:
        return _("hidden, fewer than %(k)d", k=k)
    if mark == LARGE:
        return _("hidden, %(k)d or more", k=k)
    return _("hidden")


def legend(k: int) -> list[tuple[str, str]]:
    """(mark, meaning) of every mark, for the page, the summary and the downloads."""
    entries = []
    if small_marks(k):
        entries.append((mark_text(SMALL, k), _("fewer than %(k)d: a count from 1 to %(last)d",
                                               k=k, last=k - 1)))
    entries += [
        (mark_text(LARGE, k), _("hidden: a count of %(k)d or more, or a share", k=k)),
        (mark_text(UNSIZED, k), _("hidden, without showing its size")),
        (NO_DATA, _("no assessments to compute a share from")),
    ]
    return entries


def result_name(instrument: str, row: str) -> str:
    """A zone by the AUDIT file's own name (the same as on the result and the sheet)."""
    if row in ("I", "II", "III", "IV"):
        return zone_title(row)
    names = {"negative": _("Negative"), "positive": _("Positive"), UNKNOWN: _("Not recorded")}
    return names.get(row, row)


def age_name(band: str) -> str:
    return {"under_65": _("Under 65"), "65_74": "65–74", "75_84": "75–84",
            "85_plus": _("85 and over")}[band]


def sex_name(sex: str) -> str:
    return _("Women") if sex == "female" else _("Men")


def level_name(level: str) -> str:
    """"Nivå 2: Enkle råd": the rule set's name of the level, as on the result."""
    if level == UNKNOWN:
        return _("Not recorded")
    return _("Level %(n)s: %(name)s", n=level, name=level_title(int(level)))


def level_title(level: int) -> str:
    from ..core.rulesets import LevelPolicy
    from .context import catalogue, settings

    policy = catalogue().rule_set(settings().rule_set).policy("audit")
    names = policy.level_names if isinstance(policy, LevelPolicy) else ()
    return names[level - 1].get(current_lang()) if 0 < level <= len(names) else str(level)


def follow_up_name(status: str) -> str:
    return {"none": _("No follow-up"), "pending": _("Pending"), "on_time": _("Done on time"),
            "late": _("Done late")}[status]


def mark_note(mark: str, k: int) -> str:
    """Why figures with ``mark`` are hidden. The notes say only what the marks say: a note
    per reason would tell, of a figure marked ":", whether it is below k."""
    if mark == SMALL:
        return _("Fewer than %(k)d assessments.", k=k)
    if mark == LARGE:
        return _("%(k)d or more, hidden so that a number below %(k)d cannot be worked out "
                 "from the other figures, from other tables or from the reports for other "
                 "periods.", k=k)
    return _("Hidden without showing its size: for a total, a count over several months or "
             "a pathway count, its size would tell more than the other figures do.")


def _notes(tables: list[ReleasedTable], rates: list[Rate], k: int,
           shown: Sequence[Position] | None = None) -> list[tuple[str, str]]:
    """(mark, why) for every mark that a figure of ``tables`` (those at ``shown``, if
    given) carries, then for hidden shares in ``rates``."""
    marks = {table.mark(p) for table in tables for p in table.hidden()
             if shown is None or p in shown}
    notes = [(mark_text(m, k), mark_note(m, k)) for m in MARKS if m in marks]
    if any(r.hidden for r in rates):
        notes.append((MARK_TEXT[LARGE],
                      _("A share is hidden when a number it is computed from is hidden.")))
    return notes


def _rows_shown(report: Report) -> list[str]:
    table = report.release["results"]
    unknown = any(table[cell(UNKNOWN, c)].hidden or table[cell(UNKNOWN, c)].value
                  for c in SEX_AGE)
    return list(report.result_rows) + ([UNKNOWN] if unknown else [])


def results_table(report: Report) -> TableView:
    table = report.release["results"]
    audit = report.instrument == "audit"
    title = (_("AUDIT assessments by zone, sex and age band") if audit
             else _("AUDIT-C assessments by result, sex and age band")
             if report.instrument == "audit_c"
             else _("DUDIT assessments by result, sex and age band"))
    head = [[("", 1)] + [(sex_name(s), len(AGE_BANDS)) for s in SEXES] + [("", 1)],
            [(_("Zone") if audit else _("Result"), 1)]
            + [(age_name(b), 1) for _s in SEXES for b in AGE_BANDS] + [(_("Total"), 1)]]
    rows = [Row(result_name(report.instrument, r),
                [count(table, cell(r, c)) for c in SEX_AGE] + [count(table, row_total(r))])
            for r in _rows_shown(report)]
    rows.append(Row(_("Total"), [count(table, col_total(c)) for c in SEX_AGE]
                    + [count(table, TOTAL)], total=True))
    return TableView("results", title, head, rows,
                     _notes([table], [], report.k))


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
            count(table, row_total(level)),
            share(rates[f"level:{level}"]) if level != UNKNOWN else Cell(""),
            count(table, cell(level, "delivered")), count(table, cell(level, "not_delivered")),
            share(rates[f"conversation:{level}"]) if level != UNKNOWN else Cell("")]))
    rows.append(Row(_("Total"), [count(table, TOTAL), Cell(""),
                                 count(table, col_total("delivered")),
                                 count(table, col_total("not_delivered")), Cell("")],
                    total=True))
    used = [rates[k] for k in rates if k.startswith(("level", "conversation"))]
    view = TableView("levels", _("Action levels and brief conversations"), head, rows,
                     _notes([table], used, report.k))
    view.figures = [
        (_("Assessments at level 2 or higher"), share(rates["level2plus"])),
        (_("Conversations delivered among assessments at level 2 or higher"),
         share(rates["conversation_level2"]))]
    return view


def origin_table(report: Report) -> TableView:
    """How the AUDITs began: asked whole, or extended from an AUDIT-C (items 1-3 carried
    over, the AUDIT-C counted in its own report)."""
    table = report.release["origin"]
    head = [[(_("How the AUDIT began"), 1), (_("Assessments"), 1)]]
    names = {"whole": _("Asked whole"), "extended": _("Extended from an AUDIT-C")}
    rows = [Row(names[o], [count(table, cell(o))]) for o in ORIGINS]
    rows.append(Row(_("Total"), [count(table, TOTAL)], total=True))
    rate = report.rates["extended"]
    view = TableView("origin", _("AUDITs asked whole and extended from an AUDIT-C"), head,
                     rows, _notes([table], [rate], report.k))
    view.figures = [(_("AUDITs extended from an AUDIT-C"), share(rate))]
    return view


def counting_note(instrument: str) -> str | None:
    """How a screening in two steps (AUDIT-C, then the full AUDIT) is counted: on the page,
    the summary and the downloads of the AUDIT and AUDIT-C reports."""
    if instrument == "audit_c":
        return _("An AUDIT-C that was extended to the full AUDIT is counted here as the AUDIT-C "
                 "it was (positive), and its AUDIT in the AUDIT report, as extended from an "
                 "AUDIT-C. People screened are the AUDIT-C screenings plus the AUDITs asked "
                 "whole: do not add the AUDIT-C and AUDIT reports together.")
    if instrument == "audit":
        return _("An AUDIT extended from an AUDIT-C is one screening in two steps: it is "
                 "counted here with its zone and level, and its AUDIT-C in the AUDIT-C report. "
                 "People screened are the AUDIT-C screenings plus the AUDITs asked whole: do "
                 "not add the AUDIT-C and AUDIT reports together.")
    return None


def pathways_table(report: Report) -> TableView:
    table, rates = report.release["pathways"], report.rates
    head = [[(_("Pathway recommended"), 1), (_("Assessments"), 1),
             (_("Share of all assessments"), 1)]]
    rows = [Row(pathway_name(p), [count(table, cell(p)), share(rates[f"pathway:{p}"])])
            for p in PATHWAYS]
    used = [rates[f"pathway:{p}"] for p in PATHWAYS]
    return TableView("pathways", _("Pathways recommended (an assessment may have several)"),
                     head, rows, _notes([table], used, report.k) + _linked_note(report))


def _linked_note(report: Report) -> list[tuple[str, str]]:
    """Why pathways may be hidden, when the figures they follow from are hidden (as the page
    shows: the note tells nothing the tables do not)."""
    release = report.release
    pathways = release["pathways"]
    if not any(pathways.mark(p) in (LARGE, UNSIZED) for p in pathways.hidden()):
        return []
    if not any(linked_hidden(release[table].hidden(), scope)
               for table, scope in pathways.spec.linked):
        return []
    if report.instrument == "audit":
        why = _("Pathways follow from the action levels under the rule set, and a level count "
                "is hidden.")
    elif report.instrument == "audit_c":
        why = _("Pathways follow from the AUDIT-C result under the rule set, and a positive "
                "count is hidden.")
    else:
        why = _("Pathways follow from the DUDIT result under the rule set, and a positive "
                "count is hidden.")
    return [(" ".join(mark_text(m, report.k) for m in (LARGE, UNSIZED)
                      if any(pathways.mark(p) == m for p in pathways.hidden())), why)]


def follow_ups_table(report: Report) -> TableView:
    table = report.release["follow_ups"]
    head = [[(_("Follow-up"), 1), (_("Assessments"), 1)]]
    rows = [Row(follow_up_name(s), [count(table, cell(s))]) for s in FOLLOW_UPS]
    rows.append(Row(_("Total"), [count(table, TOTAL)], total=True))
    rate = report.rates["follow_up_on_time"]
    view = TableView("follow_ups", _("Follow-ups"), head, rows,
                     _notes([table], [rate], report.k))
    view.figures = [(_("Follow-ups done on time, of those done"), share(rate))]
    return view


def trend_table(report: Report) -> TableView:
    audit = report.instrument == "audit"
    groups = LEVELS if audit else OUTCOMES
    source = "levels" if audit else "results"
    head = [[(_("Quarter"), 1), (_("Assessments"), 1)]
            + [((level_name(g) if audit else result_name("dudit", g)), 1) for g in groups]
            + ([(_("Conversations at level 2 or higher"), 1)] if audit else [])]
    rows, rates_used, shown = [], [], []
    for label, release, rates in report.trend:
        table = release[source]
        shown.append(table)
        cells = [count(table, TOTAL)] + [count(table, row_total(g)) for g in groups]
        if audit:
            cells.append(share(rates["conversation_level2"]))
            rates_used.append(rates["conversation_level2"])
        rows.append(Row(quarter_text(label), cells))
    whole = report.trend_total[source]
    shown.append(whole)
    rows.append(Row(_("Total"), [count(whole, TOTAL)] + [count(whole, row_total(g))
                                                        for g in groups]
                    + ([Cell("")] if audit else []), total=True))
    notes = _notes(shown, rates_used, report.k, [TOTAL] + [row_total(g) for g in groups])
    return TableView("trend", _("Trend by quarter over the plan period (eight quarters)"),
                     head, rows, notes)


def tables(report: Report) -> list[TableView]:
    views = [results_table(report)]
    if report.instrument == "audit":
        views += [levels_table(report), origin_table(report)]
    views += [pathways_table(report), follow_ups_table(report), trend_table(report)]
    return views


def key_figures(report: Report) -> list[tuple[str, Cell]]:
    figures = [(_("Assessments"), count(report.release["results"], TOTAL))]
    if report.instrument == "audit":
        figures.append((_("At action level 2 or higher"), share(report.rates["level2plus"])))
        figures.append((_("Conversations delivered at level 2 or higher"),
                        share(report.rates["conversation_level2"])))
    else:
        figures.append((_("Positive"), share(report.rates["result:positive"])))
    figures.append((_("Follow-ups done on time, of those done"),
                    share(report.rates["follow_up_on_time"])))
    return figures
