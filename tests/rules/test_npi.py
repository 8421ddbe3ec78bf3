"""Tests for common.npi: the CMS NPI check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.npi import npi_check_digit, npi_is_valid, validate_npi


def test_the_cms_example_1234567893_is_valid() -> None:
    assert npi_is_valid("1234567893")
    assert validate_npi(" 1234567893 ") == "1234567893"


def test_1234567890_has_a_wrong_check_digit() -> None:
    assert not npi_is_valid("1234567890")
    with pytest.raises(ValueError, match="check digit should be 3"):
        validate_npi("1234567890")


def test_the_check_digit_of_123456789_is_3() -> None:
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("", "empty"),
        ("123456789", "9 digits"),
        ("12345678930", "11 digits"),
        ("12345-7893", "digits only"),
        ("123456789３", "digits only"),
        ("abcdefghij", "digits only"),
    ],
)
def test_it_rejects_malformed_npis_with_a_message(npi: str, message: str) -> None:
    assert not npi_is_valid(npi)
    with pytest.raises(ValueError, match=message):
        validate_npi(npi)


def test_it_rejects_non_text() -> None:
    assert not npi_is_valid(1234567893)  # type: ignore[arg-type]


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_9_digit_base_has_exactly_one_valid_check_digit(base: str) -> None:
    valid = [d for d in "0123456789" if npi_is_valid(base + d)]
    assert valid == [str(npi_check_digit(base))]


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9), st.integers(1, 9))
def test_changing_any_single_digit_makes_a_valid_npi_invalid(base: str, pos: int, delta: int) -> None:
    npi = base + str(npi_check_digit(base))
    changed = npi[:pos] + str((int(npi[pos]) + delta) % 10) + npi[pos + 1 :]
    assert not npi_is_valid(changed)
