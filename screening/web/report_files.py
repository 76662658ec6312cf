"""CSV and XLSX files of a report: the same rows, marks, legend and notes as the page (from
``report_view``), nothing else: the legend of the marks under the header; under each table
a line per mark it shows (and for hidden shares), the mark first. CSV uses ';' between
fields and a byte-order mark, as spreadsheet programs set up for Norwegian expect; text that
a spreadsheet could take for a formula is quoted with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from ..localtime import iso_local
from .report_view import Cell, TableView

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def header_lines(context: dict[str, Any]) -> list[tuple[str, str]]:
    """The file's head: the period in words and as ISO months (YYYY-MM), the time it was
    made as ISO 8601 in Oslo time with the offset, then the legend of the marks."""
    return [
        (_("Report"), _("Anonymised screening report")),
        (_("Period"), context["period_text"]),
        (_("From month"), context["period"].start),
        (_("To month"), context["period"].end),
        (_("Instrument"), context["instrument_text"]),
        (_("Setting"), context["setting_text"]),
        (_("Units"), context["units_text"]),
        (_("Made on"), iso_local(context["made_at"])),
        *([(_("Counting"), context["counting_note"])] if context.get("counting_note") else []),
        *context["legend"],
    ]


def _head_cells(view: TableView) -> list[list[str]]:
    lines = []
    for head_row in view.head:
        line: list[str] = []
        for text, span in head_row:
            line += [text] + [""] * (span - 1)
        lines.append(line)
    return lines


def _csv_cell(cell: Cell) -> str:
    if cell.hidden or cell.number is None:
        return cell.text
    if cell.percent:
        return cell.text.replace("\u00a0", " ")
    return str(cell.number)


def csv_bytes(header: Sequence[tuple[str, str]], views: Sequence[TableView]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for label, value in header:
        writer.writerow([safe_text(label), safe_text(value)])
    for view in views:
        writer.writerow([])
        writer.writerow([safe_text(view.title)])
        for line in _head_cells(view):
            writer.writerow([safe_text(t) for t in line])
        for row in view.rows:
            writer.writerow([safe_text(row.label)] + [_csv_cell(c) for c in row.cells])
        for label, cell in view.figures:
            writer.writerow([safe_text(label), _csv_cell(cell)])
        for marks, note in view.notes:
            writer.writerow([safe_text(marks), safe_text(_("Hidden: %(reason)s", reason=note))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[tuple[str, str]], views: Sequence[TableView]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Report")[:31]
    bold = Font(bold=True)
    for label, value in header:
        sheet.append([safe_text(label), safe_text(value)])
    for view in views:
        sheet.append([])
        sheet.append([safe_text(view.title)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        for line in _head_cells(view):
            sheet.append([safe_text(t) for t in line])
        for row in view.rows:
            sheet.append([safe_text(row.label)] + [_xlsx_value(c) for c in row.cells])
            _formats(sheet, row.cells, bold if row.total else None)
        for label, cell in view.figures:
            sheet.append([safe_text(label), _xlsx_value(cell)])
            _formats(sheet, [cell], None)
        for marks, note in view.notes:
            sheet.append([safe_text(marks), safe_text(_("Hidden: %(reason)s", reason=note))])
    sheet.column_dimensions["A"].width = 48
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(cell: Cell) -> Any:
    if cell.hidden or cell.number is None:
        return safe_text(cell.text)
    return cell.number


def _formats(sheet: Any, cells: Sequence[Cell], font: Font | None) -> None:
    row = sheet.max_row
    if font is not None:
        sheet.cell(row=row, column=1).font = font
    for offset, cell in enumerate(cells, start=2):
        if cell.percent and not cell.hidden and cell.number is not None:
            sheet.cell(row=row, column=offset).number_format = "0.0%"
