"""Issue 15 item 4: the physician records "no active infection, clinically stable" (label §5)
before signing; a "no" or no recent check blocks the sign-off and says to postpone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.packet import packet_case, packet_snapshot
from cases.infusion.models import InfusionRecord
from cases.models import ClinicalStatusCheck
from common.wording import day_text
from tests.infusion.factories import make_record, ready_case
from tests.personas import PASSWORD

TODAY = timezone.localdate


@pytest.fixture
def drafted(cast):
    case = ready_case(cast.site_a)
    ClinicalStatusCheck.objects.filter(case=case).delete()
    make_record(case, cast.coordinator)
    return case


def _day(client, case):
    return client.get(reverse("cases:infusion", args=[case.pk])).content.decode()


def _check(client, case, **data):
    return client.post(reverse("cases:infusion_clinical_status", args=[case.pk]), data)


def _sign(client, case):
    version = InfusionRecord.objects.get(case=case).version  # the version the page shows
    return client.post(reverse("cases:infusion_sign", args=[case.pk]), {"password": PASSWORD, "version": version})


def test_without_a_check_the_draft_is_written_but_not_signed(cast, client, drafted):
    client.force_login(cast.physician)
    body = _day(client, drafted)
    assert "No active infection, clinically stable" in body and "The record cannot be signed until" in body
    response = _sign(client, drafted)
    assert "No physician check of infection and clinical stability" in response.content.decode()
    assert not InfusionRecord.objects.get().is_signed


def test_a_check_that_finds_an_infection_blocks_signing_and_says_postpone(cast, client, drafted):
    client.force_login(cast.physician)
    response = _check(
        client,
        drafted,
        checked_on=TODAY().isoformat(),
        no_active_infection="no",
        clinically_stable="yes",
        notes="Fever 38.6, RSV positive",
    )
    assert response.status_code == 302
    body = _day(client, drafted)
    assert "Active infection on" in body and "postpone the infusion" in body and "RSV positive" in body
    response = _sign(client, drafted)
    assert "Postpone the infusion until the infection has resolved" in response.content.decode()
    assert not InfusionRecord.objects.get().is_signed


def test_a_passing_check_by_the_physician_lets_the_record_be_signed(cast, client, drafted):
    client.force_login(cast.physician)
    _check(client, drafted, checked_on=TODAY().isoformat(), no_active_infection="yes", clinically_stable="yes")
    assert f"checked {day_text(TODAY())} by Physician" in _day(client, drafted)
    assert _sign(client, drafted).status_code == 302
    assert InfusionRecord.objects.get().is_signed


def test_a_check_two_days_old_is_not_enough(cast, client, drafted):
    ClinicalStatusCheck.objects.create(
        case=drafted,
        checked_on=TODAY() - timedelta(days=2),
        no_active_infection=True,
        clinically_stable=True,
        recorded_by=cast.physician,
    )
    client.force_login(cast.physician)
    assert "more than 1 day before" in _sign(client, drafted).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"checked_on": "__tomorrow__", "no_active_infection": "yes", "clinically_stable": "yes"}, "after today"),
        ({"checked_on": "soon", "no_active_infection": "yes", "clinically_stable": "yes"}, "Enter a valid date."),
        ({"checked_on": "__today__", "clinically_stable": "yes"}, "This field is required."),
        ({"checked_on": "__today__", "no_active_infection": "no", "clinically_stable": "yes"}, "Say what was found"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(cast, client, drafted, data, message):
    words = {"__tomorrow__": (TODAY() + timedelta(days=1)).isoformat(), "__today__": TODAY().isoformat()}
    data = {k: words.get(v, v) for k, v in data.items()}
    client.force_login(cast.physician)
    response = _check(client, drafted, **data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not ClinicalStatusCheck.objects.filter(case=drafted).exists()


def test_only_a_physician_records_the_check(cast, client, drafted):
    client.force_login(cast.coordinator)
    assert "Record the check (physician)" not in _day(client, drafted)
    data = {"checked_on": TODAY().isoformat(), "no_active_infection": "yes", "clinically_stable": "yes"}
    assert _check(client, drafted, **data).status_code == 403


def test_the_packet_checklist_carries_the_line(cast, drafted):
    line = packet_snapshot(packet_case(drafted.pk))["gate"]["day_of_infusion"][0]
    assert line["title"] == "No active infection, clinically stable"
    assert line["status"] == "on the day" and "within 1 day before the infusion" in line["detail"]
    assert line["source"].startswith("FDA label §5")
