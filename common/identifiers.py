"""Identifiers a payer reads on a prior authorization request: the facility's tax id and the
office's phone and fax numbers. Plain values in, plain values out; a ValueError says what is wrong.

- TIN: an Employer Identification Number is 9 digits written NN-NNNNNNN (IRS, "Employer ID
  Numbers"); prefix 00 is never issued.
- Phone and fax: a North American Numbering Plan number, 10 digits, area code and exchange
  each starting 2-9 (NANPA numbering plan); written (NNN) NNN-NNNN.
The NPI check is common/npi.py.
"""

from __future__ import annotations

import re

EIN_DIGITS = 9
NANP_DIGITS = 10
_SEPARATORS = re.compile(r"[\s().\-+]")


def _digits(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text; got {text!r}.")
    value = _SEPARATORS.sub("", text.strip())
    if not value:
        raise ValueError(f"{what} is empty.")
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"'{text.strip()}' is not a {what.lower()}: use digits only (spaces, dashes allowed).")
    return value


def validate_tin(text: str) -> str:
    """Return the TIN as NN-NNNNNNN, or raise ValueError (9 digits; 00 prefix never issued)."""
    value = _digits(text, "Tax id (TIN)")
    if len(value) != EIN_DIGITS:
        raise ValueError(f"'{text.strip()}' is not a TIN: it has {len(value)} digits, not 9 (NN-NNNNNNN).")
    if value.startswith("00"):
        raise ValueError(f"'{text.strip()}' is not a TIN: no employer id starts with 00.")
    return f"{value[:2]}-{value[2:]}"


def validate_us_phone(text: str, what: str = "Phone number") -> str:
    """Return the number as (NNN) NNN-NNNN, or raise ValueError naming ``what``.

    A leading country code 1 is accepted and dropped; area code and exchange start with 2-9.
    """
    value = _digits(text, what)
    if len(value) == NANP_DIGITS + 1 and value.startswith("1"):
        value = value[1:]
    if len(value) != NANP_DIGITS:
        raise ValueError(f"'{text.strip()}' is not a US {what.lower()}: it has {len(value)} digits, not 10.")
    if value[0] in "01" or value[3] in "01":
        raise ValueError(f"'{text.strip()}' is not a US {what.lower()}: the area code and the exchange start with 2-9.")
    return f"({value[:3]}) {value[3:6]}-{value[6:]}"
