"""Formula-safe CSV cells: the one helper every CSV export writes its cells through.

A spreadsheet opening a CSV runs a cell that starts with = + - @ (and, in some, a tab or
carriage return before them) as a formula: ``=HYPERLINK(...)`` in a typed reason or a payer
named ``=1+1`` would run on a billing or manager's computer (CSV injection, OWASP "CSV
Injection"). Such a cell is prefixed with an apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Text for one CSV cell; a leading formula character is neutralised."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_row(cells: Iterable) -> list[str]:
    """A row of cells for ``csv.writer.writerow``, each through safe_cell."""
    return [safe_cell(cell) for cell in cells]
