"""Tests for cases.titers: parsing anti-AAV9 titers as labs write them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.titers import Titer, parse_titer

titers = st.builds(
    Titer,
    comparator=st.sampled_from(["<", "<=", "=", ">=", ">"]),
    denominator=st.integers(min_value=1, max_value=100_000),
)


@pytest.mark.parametrize(
    ("text", "comparator", "denominator"),
    [
        ("1:25", "=", 25),
        ("<1:25", "<", 25),
        ("1:50", "=", 50),
        ("1:100", "=", 100),
        (">=1:400", ">=", 400),
        ("≥1:400", ">=", 400),
        ("> 1:400", ">", 400),
        ("<=1:25", "<=", 25),
        ("≤1:25", "<=", 25),
        ("  < 1 : 25  ", "<", 25),
        ("GE 1:400", ">=", 400),
        ("lt 1:25", "<", 25),
        ("=1:50", "=", 50),
    ],
)
def test_it_parses_what_the_lab_writes(text: str, comparator: str, denominator: int) -> None:
    assert parse_titer(text) == Titer(comparator, denominator)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not a titer"),
        ("", "empty"),
        ("   ", "empty"),
        ("1:0", "positive whole number"),
        ("2:50", "1:N"),
        ("1:-5", "positive whole number"),
        ("1:25.5", "not a titer"),
        ("~1:25", "unknown comparator"),
        ("1:", "not a titer"),
        ("25", "not a titer"),
    ],
)
def test_it_rejects_text_that_is_not_a_titer_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_titer(text)


def test_it_rejects_non_text_input() -> None:
    with pytest.raises(ValueError, match="must be text"):
        parse_titer(25)  # type: ignore[arg-type]


def test_a_titer_cannot_be_built_with_a_zero_or_bool_denominator() -> None:
    with pytest.raises(ValueError):
        Titer("=", 0)
    with pytest.raises(ValueError):
        Titer("=", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Titer("~", 25)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "display"),
    [("1:25", "1:25"), ("< 1:25", "<1:25"), ("≥1:400", ">=1:400"), ("≤1:25", "<=1:25"), ("=1:50", "1:50")],
)
def test_str_gives_a_normalized_display(text: str, display: str) -> None:
    assert str(parse_titer(text)) == display


@pytest.mark.parametrize(
    ("text", "passes_50"),
    [
        ("<1:25", True),
        ("1:25", True),
        ("<=1:50", True),
        ("1:50", True),
        ("<1:50", True),
        ("1:51", False),
        ("1:100", False),
        ("<1:100", False),
        (">=1:400", False),
        (">1:25", False),
        (">=1:25", False),
    ],
)
def test_is_at_most_50_is_true_only_when_the_result_is_certainly_at_most_1_to_50(text: str, passes_50: bool) -> None:
    assert parse_titer(text).is_at_most(50) is passes_50


def test_is_at_most_rejects_a_nonsense_limit() -> None:
    with pytest.raises(ValueError, match="positive whole number"):
        parse_titer("1:25").is_at_most(0)


def test_key_places_open_results_slightly_below_or_above_the_denominator() -> None:
    assert parse_titer("<1:25").key == Decimal("24.90")
    assert parse_titer("<=1:25").key == Decimal("24.95")
    assert parse_titer("1:25").key == Decimal("25.00")
    assert parse_titer(">=1:400").key == Decimal("400.05")
    assert parse_titer(">1:400").key == Decimal("400.10")


def test_keys_sort_a_dilution_series_in_order() -> None:
    series = ["<1:25", "1:25", "1:50", "1:100", "1:200", "1:400", ">=1:400", ">1:400"]
    keys = [parse_titer(t).key for t in series]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@given(titers)
def test_parsing_the_display_gives_back_the_same_titer(titer: Titer) -> None:
    assert parse_titer(str(titer)) == titer


@given(titers, titers)
def test_key_is_unique_per_titer(a: Titer, b: Titer) -> None:
    assert (a.key == b.key) == (a == b)


@given(titers, st.integers(min_value=1, max_value=100_000))
def test_a_bounded_titer_passes_a_limit_exactly_when_its_key_is_at_most_the_limit(titer: Titer, limit: int) -> None:
    if titer.is_bounded_above:
        assert titer.is_at_most(limit) == (titer.key <= limit)
    else:
        assert not titer.is_at_most(limit)


@given(titers, titers, st.integers(min_value=1, max_value=100_000))
def test_a_lower_bounded_result_passes_whenever_a_higher_one_does(a: Titer, b: Titer, limit: int) -> None:
    low, high = sorted((a, b), key=lambda t: t.key)
    if high.is_at_most(limit) and low.is_bounded_above:
        assert low.is_at_most(limit)
