"""Issue 15 item 3: the infusion day is never stuck. No future-dated drafts; the prednisolone start
typed on the record is the one the gate and the steroid course use; the coordinator or the
physician moves the plan from the infusion page, without a gate override."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.infusion.models import GateOverride, InfusionRecord
from common.wording import day_text
from monitoring.models import SteroidCourse
from tests.infusion.factories import make_record, ready_case, record_post

TODAY = timezone.localdate


@pytest.fixture
def ready(cast):
    return ready_case(cast.site_a)


def _day(client, case):
    return client.get(reverse("cases:infusion", args=[case.pk])).content.decode()


def _case_page(client, case):
    return client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def _save(client, case, data):
    return client.post(reverse("cases:infusion_record", args=[case.pk]), data)


def _plan(client, case, **data):
    case.refresh_from_db()
    return client.post(reverse("cases:infusion_plan", args=[case.pk]), {"version": case.version, **data})


def test_a_draft_dated_after_today_is_refused_next_to_the_date(cast, client, ready):
    client.force_login(cast.coordinator)
    tomorrow = TODAY() + timedelta(days=1)
    response = _save(client, ready, record_post(tomorrow))
    body = response.content.decode()
    assert response.status_code == 200 and "is after today" in body and "change the planned infusion date" in body
    assert "Medfusion 4000, asset SP-12" in body  # what was typed is kept
    assert not InfusionRecord.objects.exists()


def test_the_path_that_got_stuck_draft_then_plan_moved_is_signed_without_an_override(cast, client, ready):
    client.force_login(cast.coordinator)
    assert _save(client, ready, record_post(TODAY())).status_code == 302
    later = TODAY() + timedelta(days=7)
    assert _plan(client, ready, planned_on=later.isoformat(), steroid_start="").status_code == 302
    ready.refresh_from_db()
    assert ready.planned_infusion_date == later and ready.steroid_plan_start == later - timedelta(days=1)
    # The draft's own prednisolone start is judged, not the moved plan's: nothing blocks.
    assert "Every blocking gate item passes" in _day(client, ready)
    assert "(from the infusion record)" in _case_page(client, ready)
    client.force_login(cast.physician)
    response = client.post(
        reverse("cases:infusion_sign", args=[ready.pk]),
        {"password": "correct-horse-battery-staple", "version": InfusionRecord.objects.get(case=ready).version},
    )
    assert response.status_code == 302
    assert InfusionRecord.objects.get().is_signed and not GateOverride.objects.exists()
    assert SteroidCourse.objects.get(case=ready).started_on == TODAY() - timedelta(days=1)


def test_the_prednisolone_start_typed_on_the_record_is_honoured_by_the_gate(cast, client, ready):
    ready.steroid_plan_start = TODAY() - timedelta(days=3)  # the case's plan says otherwise
    ready.save()
    client.force_login(cast.coordinator)
    response = _save(client, ready, record_post(TODAY()))
    assert response.status_code == 302, response.content.decode()[:3000]
    body = _case_page(client, ready)
    assert "(from the infusion record): prednisolone 5.4 mg/day" in body
    # A start typed that is not day -1 is judged too, and said to come from the record.
    response = _save(
        client,
        ready,
        record_post(
            TODAY(),
            steroid_started_on=(TODAY() - timedelta(days=2)).isoformat(),
            version=str(InfusionRecord.objects.get().version),
        ),
    )
    assert response.status_code == 200
    assert "Corticosteroid plan starts the day before infusion" in response.content.decode()
    assert InfusionRecord.objects.get().steroid_started_on == TODAY() - timedelta(days=1)


def test_the_case_page_plan_is_used_before_any_record_and_said_so(cast, client, ready):
    client.force_login(cast.coordinator)
    assert "(from the case plan)" in _case_page(client, ready)


def test_the_physician_fixes_the_plan_from_the_infusion_page_and_the_day_opens(cast, client, ready):
    ready.steroid_plan_start = TODAY() + timedelta(days=4)  # a plan moved by hand, now blocking
    ready.save()
    client.force_login(cast.physician)
    body = _day(client, ready)
    assert "The infusion day cannot open" in body and "Change the plan" in body
    response = _plan(client, ready, planned_on=TODAY().isoformat(), steroid_start="")
    assert response.status_code == 302
    body = _day(client, ready)
    assert "Every blocking gate item passes" in body and not GateOverride.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"planned_on": "yesterday"}, "Enter a valid date."),
        ({"planned_on": ""}, "This field is required."),
        ({"planned_on": "2020-01-01"}, "The planned date cannot be before today"),
        ({"planned_on": "__tomorrow__", "steroid_start": "__tomorrow__"}, "Prednisolone starts before the infusion"),
    ],
)
def test_bad_plan_input_is_refused_next_to_the_field(cast, client, ready, data, message):
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    data = {k: tomorrow if v == "__tomorrow__" else v for k, v in data.items()}
    client.force_login(cast.coordinator)
    response = _plan(client, ready, **data)
    assert response.status_code == 422 and message in response.content.decode()
    ready.refresh_from_db()
    assert ready.planned_infusion_date == TODAY()


def test_a_stale_plan_form_is_refused_with_a_message(cast, client, ready):
    client.force_login(cast.coordinator)
    response = client.post(
        reverse("cases:infusion_plan", args=[ready.pk]),
        {"version": ready.version - 1 if ready.version > 1 else 999, "planned_on": TODAY().isoformat()},
    )
    assert response.status_code == 422 and "Someone else changed this case" in response.content.decode()


def test_billing_cannot_change_the_plan(cast, client, ready):
    client.force_login(cast.billing)
    assert _plan(client, ready, planned_on=TODAY().isoformat()).status_code == 403


def test_a_future_draft_from_before_is_shown_with_a_warning_and_can_be_redated(cast, client, ready):
    tomorrow = TODAY() + timedelta(days=1)
    make_record(ready, cast.coordinator, tomorrow)  # saved before drafts were refused
    client.force_login(cast.coordinator)
    body = _day(client, ready)
    assert f"This draft is dated {day_text(tomorrow)}, after today" in body
    record = InfusionRecord.objects.get()
    response = _save(client, ready, record_post(TODAY(), version=str(record.version)))
    assert response.status_code == 302
    assert InfusionRecord.objects.get().infused_on == TODAY()
