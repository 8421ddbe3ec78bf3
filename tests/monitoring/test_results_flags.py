"""Results entry through the form: ×ULN, fallback ULN, flags at their boundaries, resolving
flags, the urgent banner, and bad input refused next to the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from monitoring.models import Flag, Result
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post

INFUSED = date(2027, 1, 4)


@pytest.fixture
def entering(cast, client):
    """post(kind, day, data, on=...) posts results for the case's draw as the coordinator."""
    infuse(cast.case_a, INFUSED)

    def post(kind, day, data, on=date(2027, 1, 12)):
        with frozen(on):
            client.force_login(cast.coordinator)
            return client.post(reverse("monitoring:draw", args=[draw(cast.case_a, kind, day).pk]), data)

    return post


def _open_codes(case):
    return sorted(Flag.objects.filter(case=case, resolved_at__isnull=True).values_list("code", flat=True))


@pytest.mark.parametrize(
    ("alt", "expected"),
    [("119.9", []), ("120", ["alt_2x_uln"]), ("1199", ["alt_2x_uln"]), ("1200", ["alt_20x_uln"])],
)
def test_alt_flags_at_2x_and_20x_uln(cast, entering, alt, expected):
    response = entering("liver", 7, liver_post({"alt": alt}, collected=at(date(2027, 1, 11))))
    assert response.status_code == 302
    assert _open_codes(cast.case_a) == expected


def test_ast_at_twice_the_uln_blocks_the_taper(cast, entering):
    entering("liver", 7, liver_post({"ast": "120"}, collected=at(date(2027, 1, 11))))
    flag = Flag.objects.get(case=cast.case_a)
    assert flag.level == "taper_blocked" and "2×ULN" in flag.message


def test_bilirubin_above_normal_with_raised_alt_is_urgent(cast, entering):
    entering("liver", 7, liver_post({"alt": "70", "tbili": "1.1"}, collected=at(date(2027, 1, 11))))
    assert "bilirubin_with_transaminases" in _open_codes(cast.case_a)
    assert Flag.objects.get(code="bilirubin_with_transaminases").level == "urgent"


def test_bilirubin_exactly_at_the_uln_is_normal(cast, entering):
    entering("liver", 7, liver_post({"tbili": "1.0"}, collected=at(date(2027, 1, 11))))
    assert _open_codes(cast.case_a) == []


def test_prolonged_pt_is_urgent_and_the_case_shows_the_hepatology_banner(cast, entering, client):
    entering("liver", 7, liver_post({"pt": "14.1"}, collected=at(date(2027, 1, 11))))
    assert _open_codes(cast.case_a) == ["pt_prolonged"]
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.coordinator)
        page = client.get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
    assert "Consult pediatric hepatology now" in page


def test_no_banner_without_an_urgent_flag(cast, entering, client):
    entering("liver", 7, liver_post({"alt": "130"}, collected=at(date(2027, 1, 11))))
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.coordinator)
        page = client.get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
    assert "Consult pediatric hepatology now" not in page and "Taper blocked" in page


def _platelets(value, hgb="12"):
    return {
        "collected_at": "2027-01-11T10:00",
        "platelets_value": value,
        "platelets_unit": "10^9/L",
        "hemoglobin_value": hgb,
        "hemoglobin_unit": "g/dL",
    }


@pytest.mark.parametrize(
    ("value", "flagged"),
    [("226", False), ("225", True), ("150", True), ("149", True)],  # baseline 300: a 25% fall is 225
)
def test_platelets_flag_a_25_percent_fall_from_baseline(cast, entering, value, flagged):
    entering("platelets", 7, _platelets(value))
    assert ("tma_watch" in _open_codes(cast.case_a)) is flagged


def test_platelets_below_150_flag_even_without_a_fall(cast, client):
    infuse(cast.case_a, INFUSED, baseline={"platelets": ("160", "10^9/L"), "troponin_i": ("20", "ng/L")})
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.coordinator)
        client.post(reverse("monitoring:draw", args=[draw(cast.case_a, "platelets", 7).pk]), _platelets("149"))
    assert _open_codes(cast.case_a) == ["tma_watch"]


@pytest.mark.parametrize(
    ("value", "unit", "flagged"), [("20", "ng/L", False), ("21", "ng/L", True), ("0.021", "ng/mL", True)]
)
def test_troponin_above_baseline_is_flagged_in_any_accepted_unit(cast, entering, value, unit, flagged):
    entering("troponin", 7, {"collected_at": "2027-01-11T10:00", "troponin_i_value": value, "troponin_i_unit": unit})
    assert ("troponin_above_baseline" in _open_codes(cast.case_a)) is flagged


def test_a_blank_alt_uln_uses_the_fallback_by_age_and_sex_and_says_so(cast, entering, client):
    # case_a: a girl born 2026-06-01, 7 months old -> 55 U/L (England 2009).
    entering("liver", 7, liver_post({"alt": "110"}, {"alt": ""}, collected=at(date(2027, 1, 11))))
    alt = Result.objects.get(analyte="alt")
    assert alt.uln == Decimal("55.000") and alt.uln_is_fallback and alt.uln_multiple == 2
    assert _open_codes(cast.case_a) == ["alt_2x_uln"]
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.coordinator)
        page = client.get(reverse("monitoring:draw", args=[alt.draw_id])).content.decode()
    assert "published limit for age and sex (lab gave none)" in page


def test_a_newer_normal_result_resolves_the_older_flag(cast, entering):
    entering("liver", 7, liver_post({"alt": "130"}, collected=at(date(2027, 1, 11))))
    assert _open_codes(cast.case_a) == ["alt_2x_uln"]
    entering("liver", 14, liver_post({"alt": "50"}, collected=at(date(2027, 1, 18))), on=date(2027, 1, 18))
    assert _open_codes(cast.case_a) == []
    assert Flag.objects.get(code="alt_2x_uln").resolved_at is not None


def test_a_late_entered_older_panel_does_not_clear_a_newer_flag(cast, entering):
    entering("liver", 14, liver_post({"alt": "130"}, collected=at(date(2027, 1, 18))), on=date(2027, 1, 19))
    entering("liver", 7, liver_post({"alt": "30"}, collected=at(date(2027, 1, 11))), on=date(2027, 1, 19))
    assert _open_codes(cast.case_a) == ["alt_2x_uln"]


def test_correcting_a_result_replaces_its_flag_instead_of_duplicating_it(cast, entering):
    entering("liver", 7, liver_post({"alt": "130"}, collected=at(date(2027, 1, 11))))
    entering("liver", 7, liver_post({"alt": "140"}, collected=at(date(2027, 1, 11))))
    assert _open_codes(cast.case_a) == ["alt_2x_uln"]
    assert Result.objects.filter(analyte="alt").count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"alt_value": "abc"}, "alt_value", "Enter a number."),
        ({"alt_value": "-1"}, "alt_value", "greater than or equal to 0"),
        ({"alt_value": ""}, "alt_value", "This field is required."),
        ({"alt_unit": "furlongs"}, "alt_unit", "Select a valid choice"),
        ({"ast_uln": ""}, "ast_uln", "no published infant fallback for AST"),
        ({"tbili_uln": "0"}, "tbili_uln", "greater than or equal to 0.001"),
        ({"collected_at": "2027-01-02T10:00"}, "collected_at", "cannot be before the infusion"),
        ({"collected_at": "2027-01-13T10:00"}, "collected_at", "in the future"),
        ({"collected_at": "yesterday"}, "collected_at", "Enter a valid date/time."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(cast, entering, change, field, message):
    data = liver_post(collected=at(date(2027, 1, 11)))
    data.update(change)
    response = entering("liver", 7, data)
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert message.split("'")[0] in response.content.decode()
    assert not Result.objects.exists() and draw(cast.case_a, "liver", 7).state != "done"


def test_results_keep_the_entered_unit_and_store_the_canonical_value(cast, entering):
    data = liver_post(collected=at(date(2027, 1, 11)))
    data.update({"tbili_value": "17.1", "tbili_unit": "µmol/L", "tbili_uln": "17.1"})
    entering("liver", 7, data)
    tbili = Result.objects.get(analyte="tbili")
    assert tbili.unit == "µmol/L" and tbili.value_canonical == 1 and tbili.uln_multiple == 1
