"""Tables for Swedish spreadsheet users, and the one formula guard every export shares.

A cell a spreadsheet program could run as a formula (``=``, ``+``, ``-``, ``@``, or a tab or
carriage return before one) gets an apostrophe in front in CSV (CWE-1236, "CSV injection"); in
XLSX every text is written as a string cell, never a formula, and the same guard is applied so
both files read alike. CSV is what Excel opens as it is on a Swedish computer: UTF-8 with a
byte order mark, ``;`` between cells (the comma is the decimal sign), CRLF line ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = Sequence[object]


def safe_cell(value: object) -> str:
    """The cell as text that no spreadsheet runs as a formula (None is empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(rows: Iterable[Row]) -> str:
    """Rows as Swedish CSV (BOM, ``;``, CRLF), every cell through the formula guard."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return BOM + out.getvalue()


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[Row]]], *, header_rows: int = 1) -> bytes:
    """A workbook with one sheet per ``(title, rows)``: whole numbers as numbers, dates as
    dates, everything else as guarded text (never a formula); the first ``header_rows`` rows
    bold, the columns wide enough for their longest cell."""
    out = io.BytesIO()
    # strings_to_formulas off: a text is never turned into a formula, whatever it starts with.
    workbook = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for title, rows in sheets:
        sheet = workbook.add_worksheet(title[:31])  # Excel's limit on sheet names
        widths: dict[int, int] = {}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                style = bold if r < header_rows else None
                if isinstance(value, bool) or value is None:
                    sheet.write_string(r, c, safe_cell(value), style)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value, style)
                elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), day)
                else:
                    sheet.write_string(r, c, safe_cell(value), style)
                widths[c] = max(widths.get(c, 8), min(len(str(value)) + 2, 60))
        for c, width in widths.items():
            sheet.set_column(c, c, width)
    workbook.close()
    return out.getvalue()
