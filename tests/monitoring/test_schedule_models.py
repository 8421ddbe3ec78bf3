"""Creating a case's schedule through the models: protocol version, DST, year end, milestones,
steroid course."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from monitoring.models import Draw, Milestone, ProtocolVersion, SteroidCourse
from monitoring.workflows import protocol_in_force, protocol_version_create, schedule_create
from tests.monitoring.helpers import NEW_YORK, infuse


def test_the_schedule_has_the_labels_days_for_every_row(cast):
    infuse(cast.case_a, date(2027, 1, 4))
    days = {
        kind: list(Draw.objects.filter(case=cast.case_a, kind=kind).values_list("day", flat=True))
        for kind in ("liver", "platelets", "troponin", "steroid_review")
    }
    assert days["liver"] == [7, 14, 21, 28, 42, 56, 70, 84]
    assert days["platelets"] == [7, 14, 21, 28, 42, 56, 70, 84]
    assert days["troponin"] == [7, 14, 21, 28, 56, 84]
    assert days["steroid_review"] == [28]


def test_a_schedule_across_the_spring_dst_change_keeps_local_midnights(cast):
    # US DST starts on 2027-03-14; the D7 draw of a 2027-03-10 infusion falls after it.
    infuse(cast.case_a, date(2027, 3, 10))
    d7 = Draw.objects.get(case=cast.case_a, kind="liver", day=7)
    assert d7.due_on == date(2027, 3, 17)
    assert (d7.window_opens, d7.window_closes) == (date(2027, 3, 15), date(2027, 3, 19))
    # Upcoming on the infusion day; the state next changes at local midnight the window opens.
    assert d7.state == "upcoming"
    assert d7.next_change_at == datetime.combine(date(2027, 3, 15), time(0), tzinfo=NEW_YORK)
    assert d7.next_change_at.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)


def test_a_schedule_across_the_autumn_dst_change_and_year_end(cast):
    infuse(cast.case_a, date(2026, 10, 28))  # DST ends 2026-11-01
    d7 = Draw.objects.get(case=cast.case_a, kind="liver", day=7)
    assert d7.due_on == date(2026, 11, 4)
    assert d7.next_change_at.astimezone(NEW_YORK).hour == 0
    d70 = Draw.objects.get(case=cast.case_a, kind="liver", day=70)
    assert d70.due_on == date(2027, 1, 6)


def test_a_schedule_across_year_end_counts_days_not_calendar_dates(cast):
    infuse(cast.case_a, date(2026, 12, 20))
    d14 = Draw.objects.get(case=cast.case_a, kind="liver", day=14)
    assert d14.due_on == date(2027, 1, 3)
    assert d14.window_opens == date(2027, 1, 1) and d14.window_closes == date(2027, 1, 5)


def test_schedule_create_is_idempotent_and_makes_milestones_and_the_steroid_course(cast):
    infuse(cast.case_a, date(2027, 1, 4))
    assert schedule_create(case=cast.case_a, infused_on=date(2027, 1, 4), today=date(2027, 1, 4)) == []
    assert Draw.objects.filter(case=cast.case_a).count() == 8 + 8 + 6 + 1
    months = list(
        Milestone.objects.filter(case=cast.case_a).values_list("month", "due_on", "window_opens", "window_closes")
    )
    assert [m[0] for m in months] == [6, 12, 24, 36, 60]
    assert months[0][1:] == (date(2027, 7, 4), date(2027, 6, 4), date(2027, 8, 3))
    course = SteroidCourse.objects.get(case=cast.case_a)
    assert course.started_on == date(2027, 1, 3)  # day -1 (label §2.1)
    assert course.full_dose_mg == 5  # 1 mg/kg/day for 5 kg


def test_milestones_follow_the_payers_contract_months_when_it_has_them(cast):
    from billing.models import Payer

    payer = Payer.objects.create(name="Contract payer")
    payer.milestone_months = [12, 24]  # as billing would store it; absent -> the card's months
    cast.case_a.payer = payer
    from monitoring.workflows import milestone_months_for

    assert milestone_months_for(cast.case_a) == (12, 24)
    cast.case_a.payer = None
    assert milestone_months_for(cast.case_a) == (6, 12, 24, 36, 60)


def test_a_case_keeps_the_protocol_version_it_started_with(cast):
    from tests.personas import make_case

    infuse(cast.case_a, date(2027, 1, 4))
    old = protocol_in_force()
    new = protocol_version_create(
        version="wider", window_days=3, grace_days=5, note="clinic request", by=cast.coordinator
    )
    assert protocol_in_force() == new and not ProtocolVersion.objects.get(pk=old.pk).in_force
    other = make_case(cast.site_a, name="Other Child", mrn="MRN-2")
    infuse(other, date(2027, 1, 4))
    assert set(Draw.objects.filter(case=cast.case_a).values_list("protocol", flat=True)) == {old.pk}
    d7 = Draw.objects.get(case=other, kind="liver", day=7)
    assert d7.protocol == new and d7.window_opens == date(2027, 1, 8)
