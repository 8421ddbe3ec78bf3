"""Reading what a user sees: the cells of a rendered HTML table, found by its labelling heading."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Collect every table as (the id its section is labelled by, rows of cell texts)."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._label = ""
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("aria-labelledby"):
            self._label = attrs["aria-labelledby"]
        if tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables.append((self._label, self._rows))
            self._rows = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(html: str, labelled_by: str) -> list[list[str]]:
    """The body rows (header row left out) of the first table in the section labelled by
    ``labelled_by``."""
    parser = _Tables()
    parser.feed(html)
    for label, rows in parser.tables:
        if label == labelled_by:
            return [row for row in rows[1:] if row]
    raise AssertionError(f"no table labelled by {labelled_by!r}")


def badge_after(html: str, element_id: str) -> int | None:
    """The number in the badge inside the element with ``element_id`` (a heading), or None."""
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>[^<]*<span class="badge[^"]*">(\d+)</span>', html)
    return int(match.group(1)) if match else None
