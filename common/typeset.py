"""Typeset text for print: "5x10^15" reads 5 × 10¹⁵, "310 10^9/L" reads 310 × 10⁹/L, "<= 1:50"
reads ≤ 1:50, "0.5 x ULN" reads 0.5 × ULN and "Day -1" reads Day −1.

Data and code tables keep their written forms (HCPCS descriptors are stored as CMS writes them,
titers as the lab writes them); screens and documents pass text through ``typeset_text`` when
they print it.
"""

from __future__ import annotations

import re

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
# "5x10^15", "5 × 10^15", "7.150 × 10^14": a mantissa times a power of ten.
_TIMES_POWER = re.compile(r"(\d)\s*[x×]\s*10\^(-?\d+)")
# "310 10^9/L": a value followed by a unit that starts with a power of ten.
_VALUE_UNIT = re.compile(r"(\d)\s+10\^(-?\d+)")
# "310 10⁹/L" (a unit already typeset, printed after its value): the same, with superscripts.
_VALUE_UNIT_SUP = re.compile(r"(\d)\s+10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")
_POWER = re.compile(r"10\^(-?\d+)")
# "1.1e14", "1.1E+14": E notation.
_E_NOTATION = re.compile(r"\b(\d+(?:\.\d+)?)[eE]\+?(-?\d{1,3})\b")
# "7.150 × 10¹⁴" → "7.15 × 10¹⁴": a trailing zero of a mantissa is noise.
_MANTISSA = re.compile(r"\b(\d+\.\d*?)0+ × 10")
# "0.5 x ULN", "1 mg/kg/day x 6.2 kg", "2x ULN": a multiplication written with the letter x.
_TIMES_X = re.compile(r"(?<=[\d)])\s*x\s*(?=ULN\b|\d)|(?<=\w) x (?=\d)")
# "<=", ">=" and "=<", "=>" as written on a keyboard.
_LE = re.compile(r"<=|=<")
_GE = re.compile(r">=|=>")
# "Day -1", "D-1": a minus sign, not a hyphen, before a day number.
_DAY_MINUS = re.compile(r"\b(Day |D)-(\d)")


def superscript(digits: str) -> str:
    """Return ``digits`` ("14", "-3") in superscript characters."""
    return digits.translate(_SUPERSCRIPT)


def typeset_numbers(text: str) -> str:
    """Return ``text`` with powers of ten typeset: a × 10ⁿ, value × 10ⁿ/unit, bare 10ⁿ, 1.1e14."""
    if not text:
        return text
    if "^" in text:
        text = _TIMES_POWER.sub(lambda m: f"{m[1]} × 10{superscript(m[2])}", text)
        text = _VALUE_UNIT.sub(lambda m: f"{m[1]} × 10{superscript(m[2])}", text)
        text = _POWER.sub(lambda m: f"10{superscript(m[1])}", text)
    text = _VALUE_UNIT_SUP.sub(lambda m: f"{m[1]} × 10{m[2]}", text)
    text = _E_NOTATION.sub(lambda m: f"{m[1]} × 10{superscript(str(int(m[2])))}", text)
    return _MANTISSA.sub(lambda m: f"{m[1].rstrip('.')} × 10", text)


def typeset_text(text: str) -> str:
    """Return ``text`` as printed for a reader: powers of ten (typeset_numbers), ≤ and ≥ for
    <= and >=, × for a multiplication written as x, and a minus sign in "Day −1"."""
    if not text:
        return text
    text = typeset_numbers(text)
    text = _LE.sub("≤", text)
    text = _GE.sub("≥", text)
    text = _TIMES_X.sub(" × ", text)
    return _DAY_MINUS.sub(lambda m: f"{m[1]}−{m[2]}", text)


def scientific(value: float, digits: int = 3) -> str:
    """Return ``value`` as "7.15 × 10¹⁴" (at most ``digits`` significant digits, no trailing zeros)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa} × 10{superscript(str(int(exponent)))}"
