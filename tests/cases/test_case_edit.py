"""Editing a case: optimistic locking on Case.version, duplicates, roles."""

from __future__ import annotations

from django.forms.models import model_to_dict
from django.urls import reverse

from cases.models import Case
from tests.cases.helpers import intake_data
from tests.personas import make_case


def _edit_data(case: Case, **overrides) -> dict:
    patient = case.patient
    data = intake_data(
        case.site,
        legal_name=patient.legal_name,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth.isoformat(),
        version=str(case.version),
        **{"therapies-TOTAL_FORMS": "0"},
    )
    data.pop("site")
    data.update(overrides)
    return data


def test_a_coordinator_edits_a_case_and_its_version_goes_up(cast, login):
    case = cast.case_a
    response = login(cast.coordinator).post(
        reverse("cases:edit", args=[case.pk]), _edit_data(case, plan_name="Gold PPO")
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.plan_name == "Gold PPO" and case.version == 2


def test_two_people_editing_at_once_get_a_conflict_instead_of_a_silent_overwrite(cast, login, client):
    from django.test import Client

    case = cast.case_a
    first, second = Client(), Client()
    first.force_login(cast.coordinator)
    second.force_login(cast.coordinator)
    # Both open the form at version 1.
    assert first.get(reverse("cases:edit", args=[case.pk])).context["version_form"].initial["version"] == 1
    assert second.get(reverse("cases:edit", args=[case.pk])).status_code == 200
    saved = first.post(reverse("cases:edit", args=[case.pk]), _edit_data(case, plan_name="First plan"))
    assert saved.status_code == 302
    clash = second.post(
        reverse("cases:edit", args=[case.pk]), _edit_data(case, plan_name="Second plan", member_id="X9")
    )
    assert clash.status_code == 409
    body = clash.content.decode()
    assert "Someone else saved this case after you opened it" in body and "not saved" in body
    assert "First plan" in body and "Second plan" in body  # saved now vs your entry
    case.refresh_from_db()
    assert case.plan_name == "First plan" and case.member_id == "" and case.version == 2


def test_an_edit_with_bad_input_keeps_the_saved_case(cast, login):
    case = cast.case_a
    before = model_to_dict(case)
    response = login(cast.coordinator).post(
        reverse("cases:edit", args=[case.pk]), _edit_data(case, ordering_physician_npi="1234567890", plan_name="X")
    )
    assert response.status_code == 200 and "check digit" in response.content.decode()
    case.refresh_from_db()
    assert model_to_dict(case) == before


def test_an_edit_cannot_take_another_patients_mrn(cast, login):
    other = make_case(cast.site_a, name="Other Child", mrn="MRN-OTHER")
    response = login(cast.coordinator).post(
        reverse("cases:edit", args=[cast.case_a.pk]), _edit_data(cast.case_a, mrn="MRN-OTHER")
    )
    assert "This patient already has a case" in response.content.decode()
    cast.case_a.refresh_from_db()
    assert cast.case_a.patient.mrn != other.patient.mrn


def test_physicians_billing_and_managers_cannot_edit_the_case(cast, login):
    for user in (cast.physician, cast.billing, cast.manager):
        client = login(user)
        assert client.get(reverse("cases:edit", args=[cast.case_a.pk])).status_code == 403
        assert client.post(reverse("cases:edit", args=[cast.case_a.pk]), _edit_data(cast.case_a)).status_code == 403
