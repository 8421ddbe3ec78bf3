"""US postal addresses as the X12 837 N3/N4 segments carry them: street lines, city, the 2-letter
USPS state code and a ZIP code of 5 digits or ZIP+4 (stored as 5 or 9 digits, no hyphen)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# USPS two-letter codes: the 50 states, DC, the territories and the military "states".
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "VI",
        "GU",
        "AS",
        "MP",
        "AA",
        "AE",
        "AP",
    ]
)
_ZIP = re.compile(r"^\d{5}(?:-?\d{4})?$")
ZIP_MESSAGE = "Enter a US ZIP code: 5 digits (e.g. 02134) or ZIP+4 (e.g. 02134-1234)."


def state_message(value: str) -> str:
    return f"“{value}” is not a US state code; enter the 2-letter USPS code, e.g. MA or CA."


def normalize_zip(value: str) -> str:
    """ "02134-1234" → "021341234"; raises ValidationError for anything else."""
    text = (value or "").strip()
    if not _ZIP.match(text):
        raise ValidationError(ZIP_MESSAGE, code="zip")
    return text.replace("-", "")


def validate_zip(value: str) -> None:
    if value and not re.fullmatch(r"\d{5}(?:\d{4})?", value):
        raise ValidationError(ZIP_MESSAGE, code="zip")


def validate_state(value: str) -> None:
    if value and value not in US_STATES:
        raise ValidationError(state_message(value), code="state")


def zip_display(value: str) -> str:
    return f"{value[:5]}-{value[5:]}" if len(value or "") == 9 else (value or "")
