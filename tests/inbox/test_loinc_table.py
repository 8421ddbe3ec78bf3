"""docs/loinc.md and the inbox's LOINC map (monitoring/inbox/codes.py) say the same thing
(issue 19 item 3): every code verified and cited, none in one and not the other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cases.analytes import ANALYTES
from monitoring.inbox import codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "loinc.md"
HEADER = ["LOINC", "Long common name", "Analyte", "Unit", "Source", "Verified by"]


def _rows() -> list[dict[str, str]]:
    lines = [line.strip() for line in DOC.read_text(encoding="utf-8").splitlines() if line.strip().startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    assert cells[0] == HEADER, "docs/loinc.md's table header changed"
    assert all(c and set(c) <= {"-"} for c in cells[1]), "the second line is the header rule"
    return [dict(zip(HEADER, row, strict=True)) for row in cells[2:]]


def test_the_docs_table_and_the_code_map_are_the_same_row_for_row():
    documented = {
        row["LOINC"]: (row["Long common name"], None if row["Analyte"] == "—" else row["Analyte"], row["Unit"])
        for row in _rows()
    }
    mapped = {code: (c.long_name, c.analyte, c.ucum) for code, c in codes.LOINC.items()}
    assert documented == mapped
    assert len(_rows()) == len(documented), "a code is listed twice in docs/loinc.md"


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row["LOINC"])
def test_each_row_cites_loinc_org_and_says_how_it_was_verified(row):
    code = row["LOINC"]
    assert re.fullmatch(r"\d{1,6}-\d", code), f"{code} is not a LOINC code"
    assert row["Source"] == f"https://loinc.org/{code}/"
    verified = row["Verified by"]
    assert verified.startswith(("Verified", "[U]")), f"{code}: say whether it was verified, and how"
    if verified.startswith("[U]"):
        assert "not found" in verified, f"{code}: an unverified row says what could not be found"


@pytest.mark.parametrize("code", sorted(codes.LOINC))
def test_each_recorded_code_names_a_known_analyte_whose_unit_converts(code):
    entry = codes.LOINC[code]
    if entry.analyte is None:
        return
    assert entry.analyte in ANALYTES
    assert codes.unit_for(entry.analyte, entry.ucum)  # the usual unit is one the inbox takes
    assert codes.analyte_for(code, codes.LOINC_SYSTEM) == (entry.analyte, entry.display)
