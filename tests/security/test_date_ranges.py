"""Issue 13 item 7: every date a form accepts has a sane range for its meaning, refused next to
its field, nothing saved; records of older children (follow-up runs five years) stay editable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Patient
from tests.cases.helpers import intake_data
from tests.personas import make_case

NEW = reverse("cases:new")


def _errors(response, field: str) -> str:
    for name in ("patient_form", "case_form"):
        form = response.context[name]
        if field in form.fields:
            return " ".join(form.errors.get(field, []))
    raise AssertionError(field)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "0001-01-01", "over two years old when Zolgensma was approved"),
        ("date_of_birth", "2017-05-23", "over two years old when Zolgensma was approved"),
        ("date_of_birth", "9999-12-31", "cannot be in the future"),
        ("planned_infusion_date", "9999-12-31", "check the year"),
        ("planned_infusion_date", "past", "is in the past"),
        ("planned_infusion_date", "too-far", "check the year"),
        ("steroid_plan_start", "9999-12-31", "check the year"),
        ("genetic_report_date", "0001-01-01", "check the year"),
        ("nbs_date", "0001-01-01", "before"),
    ],
)
def test_intake_refuses_absurd_dates_next_to_the_field(cast, login, field, value, message):
    today = timezone.localdate()
    value = {"past": today - timedelta(days=1), "too-far": today + timedelta(days=800)}.get(value, value)
    extra = {"nbs_identified": "on"} if field == "nbs_date" else {}
    response = login(cast.coordinator).post(NEW, intake_data(cast.site_a, **{field: str(value)}, **extra))
    assert response.status_code == 400
    assert message in _errors(response, field)
    assert f"id_{field}" in response.content.decode()
    assert not Patient.objects.filter(mrn="MRN-NEW-1").exists()


def test_intake_accepts_a_plan_two_years_ahead_and_a_prenatal_genetic_report(cast, login):
    today = timezone.localdate()
    data = intake_data(
        cast.site_a,
        planned_infusion_date=str(today + timedelta(days=700)),
        steroid_plan_start=str(today + timedelta(days=699)),
        genetic_report_date=str(today - timedelta(days=150)),  # the child is 100 days old
    )
    response = login(cast.coordinator).post(NEW, data)
    assert response.status_code == 302


def _edit(client, case: Case, **overrides):
    patient = case.patient
    data = intake_data(
        case.site,
        legal_name=patient.legal_name,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth.isoformat(),
        planned_infusion_date=case.planned_infusion_date.isoformat() if case.planned_infusion_date else "",
        steroid_plan_start=case.steroid_plan_start.isoformat() if case.steroid_plan_start else "",
        genetic_report_date="",
        version=str(case.version),
        **{"therapies-TOTAL_FORMS": "0"},
    )
    data.pop("site")
    data.update(overrides)
    return client.post(reverse("cases:edit", args=[case.pk]), data)


def test_an_older_child_in_follow_up_stays_editable(cast, login):
    """Born 2017-06, infused 2019-06, followed to 2024: the stored past dates are kept as they are."""
    case = make_case(
        cast.site_a,
        name="Older Child",
        mrn="MRN-OLD",
        dob=date(2017, 6, 1),
        planned_infusion_date=date(2019, 6, 1),
        steroid_plan_start=date(2019, 5, 31),
        coordinator=cast.coordinator,
    )
    response = _edit(login(cast.coordinator), case, plan_name="Renewed plan")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.plan_name == "Renewed plan" and case.planned_infusion_date == date(2019, 6, 1)


def test_an_edit_to_an_absurd_date_is_refused_and_the_saved_case_is_kept(cast, login):
    case = cast.case_a
    planned = timezone.localdate() + timedelta(days=10)
    case.planned_infusion_date = planned
    case.save()
    response = _edit(login(cast.coordinator), case, planned_infusion_date="9999-12-31", plan_name="Changed")
    assert response.status_code == 200  # the edit page again, the error next to the field
    assert "check the year" in _errors(response, "planned_infusion_date")
    case.refresh_from_db()
    assert case.planned_infusion_date == planned and case.plan_name != "Changed"
    # The case page still opens for everyone.
    assert login(cast.manager).get(reverse("cases:detail", args=[case.pk])).status_code == 200


def test_billing_dates_start_at_the_products_approval(db):
    from billing.forms import OneGeneEnrollmentForm, PAMoveForm, ReferencePriceForm

    move = PAMoveForm(data={"to": "approved", "expected_status": "submitted", "on": "0001-01-01"}, to="approved")
    assert "check the year" in " ".join(move.errors["on"])
    move = PAMoveForm(
        data={"to": "approved", "on": str(timezone.localdate()), "valid_from": "9999-12-31"}, to="approved"
    )
    assert "check the year" in " ".join(move.errors["valid_from"])
    price = ReferencePriceForm(data={"code": "J3399", "kind": "WAC", "amount": "1", "effective_on": "9999-12-31"})
    assert "check the year" in " ".join(price.errors["effective_on"])
    enrolment = OneGeneEnrollmentForm(data={"enrolled_on": "1900-01-01"}, services=[])
    assert "check the year" in " ".join(enrolment.errors["enrolled_on"])


def test_infusion_dates_are_bounded(db):
    from cases.infusion.forms import InfusionRecordForm, VialForm

    form = InfusionRecordForm(data={"version": "0", "infused_on": "0001-01-01", "steroid_started_on": "9999-12-31"})
    assert "check the year" in " ".join(form.errors["infused_on"])
    assert "check the year" in " ".join(form.errors["steroid_started_on"])
    vial = VialForm(data={"size_ml": "5.5", "lot_number": "A1", "expires_on": "9999-12-31"})
    assert "check the year" in " ".join(vial.errors["expires_on"])


def test_a_collection_time_after_it_was_received_is_refused():
    """A result's collection is "received" when it is entered: it cannot be after now."""
    from monitoring.forms import ResultsForm

    now = timezone.now()
    later = timezone.localtime(now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    form = ResultsForm(data={"collected_at": later}, analytes=[], infused_on=now.date() - timedelta(days=3), now=now)
    assert "in the future" in " ".join(form.errors["collected_at"])
