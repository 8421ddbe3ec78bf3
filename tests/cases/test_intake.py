"""Intake: one form opens a patient and their case; bad input is refused next to its field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Document, Patient, SmnTherapy, Stage, StageEvent
from tests.cases.helpers import image_bytes, intake_data, pdf_bytes, upload
from tests.personas import MARKER_MRN, MARKER_NAME

URL = reverse("cases:new")


def _post(client, data, files=None):
    return client.post(URL, {**data, **(files or {})})


def test_a_coordinator_opens_a_case_with_its_genetic_report_and_therapies(cast, login):
    client = login(cast.coordinator)
    today = timezone.localdate()
    data = intake_data(
        cast.site_a,
        **{
            "therapies-0-drug": "risdiplam",
            "therapies-0-started_on": (today - timedelta(days=40)).isoformat(),
            "therapies-0-stopped_on": (today - timedelta(days=5)).isoformat(),
        },
    )
    response = _post(client, data, {"genetic_report": upload("Nora Intake genetics.pdf", pdf_bytes())})
    case = Case.objects.get(patient__mrn="MRN-NEW-1")
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.stage == Stage.INTAKE and case.coordinator == cast.coordinator and case.site == cast.site_a
    assert StageEvent.objects.filter(case=case, stage=Stage.INTAKE).count() == 1
    assert SmnTherapy.objects.get(case=case).drug == "risdiplam"
    document = Document.objects.get(case=case)
    assert document.kind == "genetic_report" and document.content_type == "application/pdf"
    assert "Nora" not in document.file.name and len(document.sha256) == 64


def test_the_intake_form_offers_official_descriptors_and_never_g12_2x(cast, login):
    body = login(cast.coordinator).get(URL).content.decode()
    assert "Infantile spinal muscular atrophy, type I [Werdnig-Hoffman]" in body
    assert "Other inherited spinal muscular atrophy" in body
    assert "Family history of epilepsy and other diseases of the nervous system" in body
    assert "G12.25" not in body


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"ordering_physician_npi": "1234567890"}, "ordering_physician_npi", "check digit should be 3"),
        ({"ordering_physician_npi": "12345"}, "ordering_physician_npi", "has 5 digits"),
        ({"primary_diagnosis": "G12.25"}, "primary_diagnosis", "motor neuron disease codes"),
        ({"primary_diagnosis": "Z13.228"}, "primary_diagnosis", "Select a valid choice"),
        ({"gestational_age_weeks": "12"}, "gestational_age_weeks", "greater than or equal to 22"),
        ({"respiratory_support_hours": "25"}, "respiratory_support_hours", "less than or equal to 24"),
        ({"nbs_identified": "on", "nbs_date": "2000-01-01"}, "nbs_date", "before the child"),
        ({"planned_infusion_date": "2000-01-01"}, "planned_infusion_date", "before the child"),
        ({"legal_name": ""}, "legal_name", "This field is required"),
        # Age at symptom onset (a payer criterion): symptomatic only, not older than the child (100 days).
        ({"symptomatic": "", "symptom_onset_months": "2"}, "symptom_onset_months", "'Symptomatic' is not ticked"),
        ({"symptom_onset_months": "5"}, "symptom_onset_months", "the child is 3 months old today"),
        ({"symptom_onset_months": "25"}, "symptom_onset_months", "Symptoms cannot begin at 25 months"),
        ({"symptom_onset_months": "-1"}, "symptom_onset_months", "greater than or equal to 0"),
    ],
)
def test_bad_intake_input_is_refused_next_to_its_field_and_nothing_is_saved(cast, login, overrides, field, message):
    response = _post(login(cast.coordinator), intake_data(cast.site_a, **overrides))
    assert response.status_code == 400
    form = (
        response.context["patient_form"]
        if field in response.context["patient_form"].fields
        else response.context["case_form"]
    )
    assert message in " ".join(form.errors[field])
    assert f'id="error_1_id_{field}"' in response.content.decode() or f"id_{field}" in response.content.decode()
    assert not Patient.objects.filter(mrn="MRN-NEW-1").exists()


def test_a_therapy_stopped_before_it_started_is_refused(cast, login):
    today = timezone.localdate()
    data = intake_data(
        cast.site_a,
        **{
            "therapies-0-drug": "nusinersen",
            "therapies-0-started_on": (today - timedelta(days=10)).isoformat(),
            "therapies-0-stopped_on": (today - timedelta(days=20)).isoformat(),
        },
    )
    response = _post(login(cast.coordinator), data)
    assert response.status_code == 400
    assert "before the start date" in str(response.context["therapies"].errors)
    assert not Patient.objects.filter(mrn="MRN-NEW-1").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"MZ\x90\x00 this is an executable renamed to pdf", "not a PDF, PNG or JPEG"),
        ("report.pdf", b"%PDF-1.7\n garbage without pages", "damaged or incomplete"),
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged or incomplete"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_a_genetic_report_that_is_not_a_pdf_or_image_by_content_is_refused(cast, login, name, content, message):
    response = _post(login(cast.coordinator), intake_data(cast.site_a), {"genetic_report": upload(name, content)})
    assert response.status_code == 400
    assert message in " ".join(response.context["case_form"].errors["genetic_report"])
    assert not Patient.objects.filter(mrn="MRN-NEW-1").exists() and not Document.objects.exists()


def test_an_oversized_genetic_report_is_refused(cast, login, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    big = image_bytes("PNG") + b"\x00" * 2048
    response = _post(
        login(cast.coordinator), intake_data(cast.site_a), {"genetic_report": upload("big.png", big, "image/png")}
    )
    assert response.status_code == 400
    assert "the limit is" in " ".join(response.context["case_form"].errors["genetic_report"])
    assert not Document.objects.exists()


def test_a_second_case_with_the_same_mrn_at_the_site_is_refused(cast, login):
    response = _post(login(cast.coordinator), intake_data(cast.site_a, mrn=MARKER_MRN, legal_name="Someone Else"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This patient already has a case" in body and "once per lifetime" in body
    assert reverse("cases:detail", args=[cast.case_a.pk]) in body
    assert Case.objects.count() == 1


def test_a_second_case_with_the_same_name_and_birth_date_is_refused_whatever_the_spacing(cast, login):
    patient = cast.case_a.patient
    data = intake_data(
        cast.site_a,
        mrn="OTHER-MRN",
        legal_name="  " + MARKER_NAME.upper().replace(" ", "   "),
        date_of_birth=patient.date_of_birth.isoformat(),
    )
    response = _post(login(cast.coordinator), data)
    assert response.status_code == 400
    assert "legal name and date of birth already exists" in response.content.decode()
    assert Case.objects.count() == 1


def test_the_same_name_and_birth_date_at_another_site_is_not_revealed(cast, login):
    """The outsider's intake is not refused because of site A's patient: nothing leaks."""
    patient = cast.case_a.patient
    data = intake_data(cast.site_b, mrn="B-1", legal_name=MARKER_NAME, date_of_birth=patient.date_of_birth.isoformat())
    response = _post(login(cast.outsider), data)
    assert response.status_code == 302
    assert Case.objects.count() == 2


@pytest.mark.parametrize("role", ["billing", "manager", "physician"])
def test_only_coordinators_and_admins_open_cases(cast, login, role):
    client = login(getattr(cast, role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, intake_data(cast.site_a)).status_code == 403
    assert Case.objects.count() == 1


def test_a_coordinator_cannot_open_a_case_at_a_site_they_do_not_belong_to(cast, login):
    response = _post(login(cast.coordinator), intake_data(cast.site_b))
    assert response.status_code == 400
    assert "site" in response.context["patient_form"].errors
    assert Case.objects.count() == 1
