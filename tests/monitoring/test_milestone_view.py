"""Outcome milestone assessments: windows, instruments, out-of-range scores refused at the field."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from monitoring.models import Assessment, Milestone
from tests.monitoring.helpers import frozen, infuse

INFUSED = date(2027, 1, 4)
TODAY = date(2027, 7, 6)


def _good(**change):
    data = {
        "assessed_on": "2027-07-05",
        "sits": "on",
        "chop_intend": "48",
        "hine2": "12",
        "who_0": "on",
        "ventilator_free": "yes",
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def _post(client, cast, data):
    milestone = Milestone.objects.get(case=cast.case_a, month=6)
    with frozen(TODAY):
        client.force_login(cast.coordinator)
        return client.post(reverse("monitoring:milestone", args=[milestone.pk]), data)


def test_a_valid_assessment_completes_the_milestone(cast, client):
    infuse(cast.case_a, INFUSED)
    assert _post(client, cast, _good()).status_code == 302
    a = Assessment.objects.get()
    assert a.chop_intend == 48 and a.who_milestones["sitting without support"] is True and a.ventilator_free
    assert Milestone.objects.get(case=cast.case_a, month=6).state == "done"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"chop_intend": "65"}, "chop_intend", "CHOP INTEND is scored 0–64; 65 is out of range"),
        ({"chop_intend": "-1"}, "chop_intend", "out of range"),
        ({"hine2": "27"}, "hine2", "HINE-2 is scored 0–26"),
        ({"hfmse": "67"}, "hfmse", "HFMSE is scored 0–66"),
        ({"rhs": "70"}, "rhs", "RHS is scored 0–69"),
        ({"chop_intend": "12.5"}, "chop_intend", "Enter a whole number."),
        ({"chop_intend": None, "hine2": None}, "chop_intend", "at least one scored instrument"),
        ({"sits": None, "walks": "on"}, "walks", "also sits"),
        ({"assessed_on": "2027-07-07"}, "assessed_on", "in the future"),
        ({"assessed_on": "2026-12-31"}, "assessed_on", "before the infusion"),
        ({"assessed_on": "July"}, "assessed_on", "Enter a valid date."),
        ({"ventilator_free": None}, "ventilator_free", "This field is required."),
    ],
)
def test_bad_assessment_input_is_refused_next_to_the_field(cast, client, change, field, message):
    infuse(cast.case_a, INFUSED)
    response = _post(client, cast, _good(**change))
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert not Assessment.objects.exists()


def test_the_assessment_page_shows_the_ventilator_free_definition(cast, client):
    infuse(cast.case_a, INFUSED)
    milestone = Milestone.objects.get(case=cast.case_a, month=6)
    with frozen(TODAY):
        client.force_login(cast.coordinator)
        page = client.get(reverse("monitoring:milestone", args=[milestone.pk])).content.decode()
    assert "≥ 16 h/day respiratory assistance" in page and "excluding" in page
