"""Result-aware extension after day 84 (label §5.1/§5; domain.md §4)."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse

from monitoring.models import Draw
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post

INFUSED = date(2027, 1, 4)
D84 = INFUSED + timedelta(days=84)


def _post(client, cast, kind, day, data):
    with frozen(D84 + timedelta(days=1)):
        client.force_login(cast.coordinator)
        return client.post(reverse("monitoring:draw", args=[draw(cast.case_a, kind, day).pk]), data)


def test_an_abnormal_liver_panel_at_day_84_adds_a_liver_draw_two_weeks_later_saying_why(cast, client):
    infuse(cast.case_a, INFUSED)
    _post(client, cast, "liver", 84, liver_post({"alt": "150"}, collected=at(D84)))
    extra = Draw.objects.get(case=cast.case_a, kind="liver", day=98)
    assert extra.is_extension and extra.due_on == INFUSED + timedelta(days=98)
    assert "ALT 2.5×ULN" in extra.reason and "until unremarkable" in extra.reason
    assert extra.state == "upcoming" and extra.next_change_at is not None


def test_an_unremarkable_liver_panel_at_day_84_ends_liver_monitoring(cast, client):
    infuse(cast.case_a, INFUSED)
    _post(client, cast, "liver", 84, liver_post(collected=at(D84)))
    assert not Draw.objects.filter(case=cast.case_a, is_extension=True).exists()


def test_an_abnormal_result_before_day_84_adds_no_extension(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(INFUSED + timedelta(days=71)):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 70).pk]),
            liver_post({"alt": "150"}, collected=at(INFUSED + timedelta(days=70))),
        )
    assert not Draw.objects.filter(case=cast.case_a, is_extension=True).exists()


def test_extensions_chain_until_the_liver_is_unremarkable(cast, client):
    infuse(cast.case_a, INFUSED)
    _post(client, cast, "liver", 84, liver_post({"alt": "150"}, collected=at(D84)))
    d98 = INFUSED + timedelta(days=98)
    with frozen(d98):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 98).pk]),
            liver_post({"pt": "15"}, collected=at(d98, 9)),
        )
        assert "PT prolonged" in draw(cast.case_a, "liver", 112).reason
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 98).pk]), liver_post(collected=at(d98, 9))
        )
    # Correcting day 98 to normal adds nothing further; the planned day-112 draw stays for the clinic to keep or miss.
    assert not Draw.objects.filter(case=cast.case_a, kind="liver", day=126).exists()


def test_platelets_not_back_to_baseline_continue_every_other_week(cast, client):
    infuse(cast.case_a, INFUSED)
    data = {
        "collected_at": at(D84).strftime("%Y-%m-%dT%H:%M"),
        "platelets_value": "200",
        "platelets_unit": "10^9/L",
        "hemoglobin_value": "11",
        "hemoglobin_unit": "g/dL",
    }
    _post(client, cast, "platelets", 84, data)
    extra = draw(cast.case_a, "platelets", 98)
    assert "not back to baseline 300" in extra.reason and "every other week" in extra.reason


def test_troponin_above_baseline_continues_monthly(cast, client):
    infuse(cast.case_a, INFUSED)
    _post(
        client,
        cast,
        "troponin",
        84,
        {"collected_at": at(D84).strftime("%Y-%m-%dT%H:%M"), "troponin_i_value": "45", "troponin_i_unit": "ng/L"},
    )
    extra = draw(cast.case_a, "troponin", 112)
    assert "monthly" in extra.reason and extra.is_extension


def test_troponin_back_to_baseline_stops(cast, client):
    infuse(cast.case_a, INFUSED)
    _post(
        client,
        cast,
        "troponin",
        84,
        {"collected_at": at(D84).strftime("%Y-%m-%dT%H:%M"), "troponin_i_value": "20", "troponin_i_unit": "ng/L"},
    )
    assert not Draw.objects.filter(case=cast.case_a, kind="troponin", is_extension=True).exists()
