"""Anti-AAV9 total binding antibody titers, as the lab writes them.

A titer is a reciprocal dilution such as "1:25", optionally with a comparator when the
result is at the end of the lab's dilution range ("<1:25", ">=1:400"). The gate asks
whether a result is certainly at or below a payer ceiling (1:50 by ELISA: trial and
payer criterion, docs/domain.md §2; label §2.3/§6.2 requires baseline testing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Comparator = Literal["<", "<=", "=", ">=", ">"]

# Offsets that place a bounded or open result next to its denominator in ``Titer.key``.
# Denominators are whole numbers, so any offset below 0.5 keeps results with different
# denominators in denominator order.
_KEY_OFFSETS: dict[str, Decimal] = {
    "<": Decimal("-0.10"),
    "<=": Decimal("-0.05"),
    "=": Decimal("0.00"),
    ">=": Decimal("0.05"),
    ">": Decimal("0.10"),
}

# What a lab may write before "1:N", mapped to a comparator. Case-insensitive.
_COMPARATOR_SPELLINGS: dict[str, Comparator] = {
    "": "=",
    "=": "=",
    "<": "<",
    "lt": "<",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    "le": "<=",
    ">": ">",
    "gt": ">",
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "ge": ">=",
}

_TITER_RE = re.compile(r"^(?P<op>[^\d:\-+]*)(?P<num>[-+]?\d+):(?P<den>[-+]?\d+)$")


@dataclass(frozen=True)
class Titer:
    """One titer result: a comparator and the denominator N of "1:N"."""

    comparator: Comparator
    denominator: int

    def __post_init__(self) -> None:
        if self.comparator not in _KEY_OFFSETS:
            raise ValueError(f"Unknown titer comparator {self.comparator!r}.")
        if isinstance(self.denominator, bool) or not isinstance(self.denominator, int):
            raise ValueError("A titer denominator must be a whole number.")
        if self.denominator < 1:
            raise ValueError(f"A titer is 1:N with N a positive whole number; got 1:{self.denominator}.")

    @property
    def is_bounded_above(self) -> bool:
        """Return True when the result has an upper bound ("1:N", "<1:N", "<=1:N")."""
        return self.comparator in ("<", "<=", "=")

    @property
    def key(self) -> Decimal:
        """Return a sortable number for a DB column (2 decimal places).

        "<1:N" is N - 0.10, "<=1:N" N - 0.05, "1:N" N, ">=1:N" N + 0.05 and ">1:N"
        N + 0.10, so results sort by denominator and then by comparator, and for a
        bounded result ``key <= L`` exactly when ``is_at_most(L)``.
        """
        return Decimal(self.denominator) + _KEY_OFFSETS[self.comparator]

    def is_at_most(self, limit: int) -> bool:
        """Return True only when the result is certainly at or below 1:limit.

        1. An open result (">1:N", ">=1:N") has no upper bound: never certain.
        2. A bounded result's true value is at most N: certain when N <= limit.
        "<1:100" does not pass 50 (its value could be 1:75).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"A titer limit is a positive whole number; got {limit!r}.")
        return self.is_bounded_above and self.denominator <= limit

    def __str__(self) -> str:
        """Return the normalized display, e.g. "1:50", "<1:25", ">=1:400"."""
        prefix = "" if self.comparator == "=" else self.comparator
        return f"{prefix}1:{self.denominator}"


def parse_titer(text: str) -> Titer:
    """Return the Titer a lab report string describes.

    1. Drop all whitespace and lower-case, so "> 1 : 400" and "GE 1:400" parse.
    2. Split into comparator, numerator and denominator; the numerator must be 1.
    3. Map the comparator spelling (<, <=, ≤, lt, le, >, >=, ≥, gt, ge, =) to one form.
    Raises ValueError with a message a coordinator can act on.
    """
    if not isinstance(text, str):
        raise ValueError(f"A titer must be text such as '1:25'; got {text!r}.")
    compact = re.sub(r"\s+", "", text).lower()
    if not compact:
        raise ValueError("The titer is empty; enter it as the lab wrote it, e.g. '1:25' or '<1:25'.")
    match = _TITER_RE.match(compact)
    if match is None:
        raise ValueError(f"'{text}' is not a titer; expected the form '1:25', '<1:25' or '>=1:400'.")
    op = match["op"]
    if op not in _COMPARATOR_SPELLINGS:
        raise ValueError(f"'{text}' has an unknown comparator '{op}'; use <, <=, >, >= or none.")
    numerator, denominator = int(match["num"]), int(match["den"])
    if numerator != 1:
        raise ValueError(f"'{text}' is not a titer: a titer is written 1:N, not {numerator}:N.")
    if denominator < 1:
        raise ValueError(f"'{text}' is not a titer: the dilution in 1:N must be a positive whole number.")
    return Titer(_COMPARATOR_SPELLINGS[op], denominator)
