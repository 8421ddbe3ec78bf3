"""CSV cells that a spreadsheet will not run: a leading formula character is neutralised
(CSV injection, OWASP). Every CSV the product writes passes its cells through ``cell``."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """Text for a CSV cell; a leading formula character gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def row(values) -> list[str]:
    return [cell(value) for value in values]
