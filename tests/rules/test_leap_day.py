"""Issue 15 item 6: a 29 February birth. The second birthday is taken as 28 February in the common
year (so the last eligible date is under 2 years by either convention); the age item and the PA
packet say so; both sides of the boundary are tested."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from django.urls import reverse

from billing.packet import packet_case, packet_html, packet_snapshot
from cases.eligibility import GateFacts, GatePolicy, evaluate_gate, leap_day_convention, second_birthday
from tests.infusion.factories import make_ready
from tests.personas import make_case

LEAP_DOB = date(2024, 2, 29)
NOTE = "Born on 29 February: the second birthday is taken as 28 Feb 2026 (28 February, not 1 March"


def _age(on: date, dob: date = LEAP_DOB):
    return evaluate_gate(replace(GateFacts(), date_of_birth=dob), GatePolicy(), on).item("age")


@pytest.mark.parametrize(
    ("on", "status"),
    [(date(2026, 2, 27), "pass"), (date(2026, 2, 28), "fail"), (date(2026, 3, 1), "fail")],
)
def test_both_sides_of_the_leap_day_boundary(on, status):
    item = _age(on)
    assert item.status == status
    assert NOTE in item.detail and "under 2 years by either convention" in item.detail


def test_the_convention_sentence_names_the_day_and_the_last_eligible_date():
    assert second_birthday(LEAP_DOB) == date(2026, 2, 28)
    text = leap_day_convention(LEAP_DOB)
    assert text.startswith(NOTE) and "last eligible date 27 Feb 2026" in text


def test_other_birth_dates_carry_no_leap_day_sentence_but_name_the_second_birthday():
    assert leap_day_convention(date(2024, 2, 28)) == "" and leap_day_convention(date(2024, 3, 1)) == ""
    item = _age(date(2025, 6, 1), date(2024, 3, 1))
    assert "second birthday 2026-03-01" in item.detail and "29 February" not in item.detail


@pytest.fixture
def leap_case(cast):
    case = make_case(cast.site_a, name="Leap Child", mrn="MRN-LEAP", dob=LEAP_DOB)
    make_ready(case, date(2026, 2, 27))
    return case


def test_the_case_page_and_the_packet_say_the_same(cast, client, leap_case):
    client.force_login(cast.coordinator)
    page = client.get(reverse("cases:detail", args=[leap_case.pk])).content.decode()
    assert NOTE in page
    snapshot = packet_snapshot(packet_case(leap_case.pk), today=date(2026, 2, 20))
    age = next(i for i in snapshot["gate"]["items"] if i["title"].startswith("Age under 2 years"))
    assert NOTE in age["detail"] and age["status"] == "pass"
    assert NOTE in packet_html(snapshot, [])
