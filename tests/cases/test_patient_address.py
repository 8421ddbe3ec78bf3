"""The patient's home address at intake and on the case edit: optional, but whole and valid."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Patient
from tests.cases.helpers import intake_data
from tests.cases.test_case_edit import _edit_data

URL = reverse("cases:new")
ADDRESS = dict(address_line1="12  Elm Street", address_line2="", city="Northfield", state="ma", zip_code="01360-1100")


def test_intake_records_the_address_normalised(cast, login):
    response = login(cast.coordinator).post(URL, intake_data(cast.site_a, **ADDRESS))
    assert response.status_code == 302
    patient = Patient.objects.get(mrn="MRN-NEW-1")
    assert (patient.address_line1, patient.city, patient.state, patient.zip_code) == (
        "12 Elm Street",
        "Northfield",
        "MA",
        "013601100",
    )


def test_intake_without_an_address_is_allowed(cast, login):
    response = login(cast.coordinator).post(URL, intake_data(cast.site_a))
    assert response.status_code == 302
    assert not Patient.objects.get(mrn="MRN-NEW-1").has_address


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"state": "XX"}, "state", "is not a US state code"),
        ({"state": "Mass"}, "state", "is not a US state code"),
        ({"zip_code": "1234"}, "zip_code", "Enter a US ZIP code"),
        ({"zip_code": "01360-11"}, "zip_code", "Enter a US ZIP code"),
        ({"zip_code": "ABCDE"}, "zip_code", "Enter a US ZIP code"),
        ({"city": ""}, "city", "City is needed too"),
        ({"address_line1": ""}, "address_line1", "Street address is needed too"),
    ],
)
def test_a_bad_or_partial_address_is_refused_next_to_its_field(cast, login, overrides, field, message):
    response = login(cast.coordinator).post(URL, intake_data(cast.site_a, **{**ADDRESS, **overrides}))
    assert response.status_code == 400
    form = response.context["patient_form"]
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode().replace("&#x27;", "'").replace("&ldquo;", "“")
    assert not Patient.objects.filter(mrn="MRN-NEW-1").exists()


def test_the_case_edit_adds_and_checks_the_address(cast, login):
    case = cast.case_a
    client = login(cast.coordinator)
    url = reverse("cases:edit", args=[case.pk])
    bad = client.post(url, _edit_data(case, **{**ADDRESS, "state": "ZZ"}))
    assert bad.status_code in (200, 400) and "is not a US state code" in " ".join(
        bad.context["patient_form"].errors["state"]
    )
    ok = client.post(url, _edit_data(case, **{**ADDRESS, "zip_code": "01360"}))
    assert ok.status_code == 302
    case.patient.refresh_from_db()
    assert case.patient.state == "MA" and case.patient.zip_code == "01360"
