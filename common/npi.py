"""National Provider Identifier check (CMS NPI check digit standard).

An NPI is 10 digits; the 10th is a Luhn (ISO/IEC 7812) check digit computed over the
prefix "80840" (US health applications) followed by the first 9 digits. Source: CMS,
"Requirements for NPI check digit" (NPPES). Example from that document: 123456789 -> 3.
"""

from __future__ import annotations

NPI_LENGTH = 10  # CMS NPI standard
NPI_LUHN_PREFIX = "80840"  # CMS NPI standard: card issuer prefix for US health


def npi_check_digit(first_nine: str) -> int:
    """Return the check digit for the first 9 digits of an NPI.

    1. Prefix "80840" to the 9 digits.
    2. From the rightmost digit leftwards, double every other digit starting with the
       rightmost; subtract 9 from any result above 9.
    3. Sum all digits; the check digit brings the sum up to the next multiple of 10.
    """
    if len(first_nine) != NPI_LENGTH - 1 or not (first_nine.isascii() and first_nine.isdigit()):
        raise ValueError(f"Expected the first 9 digits of an NPI; got {first_nine!r}.")
    total = 0
    for position, char in enumerate(reversed(NPI_LUHN_PREFIX + first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def validate_npi(npi: str) -> str:
    """Return the NPI (surrounding spaces removed) or raise ValueError saying what is wrong."""
    if not isinstance(npi, str):
        raise ValueError(f"An NPI must be text of 10 digits; got {npi!r}.")
    value = npi.strip()
    if not value:
        raise ValueError("The NPI is empty; it must be 10 digits.")
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"'{value}' is not an NPI: it must contain digits only.")
    if len(value) != NPI_LENGTH:
        raise ValueError(f"'{value}' is not an NPI: it has {len(value)} digits, not 10.")
    expected = npi_check_digit(value[:9])
    if int(value[9]) != expected:
        raise ValueError(
            f"'{value}' is not a valid NPI: the check digit should be {expected}; check for a typing error."
        )
    return value


def npi_is_valid(npi: str) -> bool:
    """Return True when ``npi`` is 10 digits with a correct check digit."""
    try:
        validate_npi(npi)
    except ValueError:
        return False
    return True
