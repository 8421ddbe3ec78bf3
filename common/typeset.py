"""Typeset numbers for print: "5x10^15" reads 5 × 10¹⁵, "310 10^9/L" reads 310 × 10⁹/L.

Data and code tables keep their written forms (HCPCS descriptors are stored as CMS writes them);
screens and documents pass text through ``typeset_numbers`` when they print it.
"""

from __future__ import annotations

import re

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
# "5x10^15", "5 × 10^15", "7.150 × 10^14": a mantissa times a power of ten.
_TIMES_POWER = re.compile(r"(\d)\s*[x×]\s*10\^(-?\d+)")
# "310 10^9/L": a value followed by a unit that starts with a power of ten.
_VALUE_UNIT = re.compile(r"(\d)\s+10\^(-?\d+)")
_POWER = re.compile(r"10\^(-?\d+)")
# "7.150 × 10¹⁴" → "7.15 × 10¹⁴": a trailing zero of a mantissa is noise.
_MANTISSA = re.compile(r"\b(\d+\.\d*?)0+ × 10")


def superscript(digits: str) -> str:
    """Return ``digits`` ("14", "-3") in superscript characters."""
    return digits.translate(_SUPERSCRIPT)


def typeset_numbers(text: str) -> str:
    """Return ``text`` with powers of ten typeset: a × 10ⁿ, value × 10ⁿ/unit, bare 10ⁿ."""
    if not text or "^" not in text:
        return text
    text = _TIMES_POWER.sub(lambda m: f"{m[1]} × 10{superscript(m[2])}", text)
    text = _VALUE_UNIT.sub(lambda m: f"{m[1]} × 10{superscript(m[2])}", text)
    text = _POWER.sub(lambda m: f"10{superscript(m[1])}", text)
    return _MANTISSA.sub(lambda m: f"{m[1].rstrip('.')} × 10", text)


def scientific(value: float, digits: int = 3) -> str:
    """Return ``value`` as "7.15 × 10¹⁴" (at most ``digits`` significant digits, no trailing zeros)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa} × 10{superscript(str(int(exponent)))}"
