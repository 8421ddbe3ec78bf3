"""CSV formula injection: every CSV export writes its cells through common.csvsafe (issue 13 item 5).

The exports themselves are tested with hostile text in tests/reminders/test_dashboard.py (overdue
dashboard) and tests/infusion/test_infusion_claim.py (claim summary).
"""

from __future__ import annotations

import pytest

from common.csvsafe import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme = Health", "Acme = Health"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_a_leading_formula_character_is_neutralised_and_other_text_kept(value, cell):
    assert safe_cell(value) == cell


def test_a_row_goes_cell_by_cell():
    assert safe_row(["=1", 2, None, "ok"]) == ["'=1", "2", "", "ok"]
