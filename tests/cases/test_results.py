"""Results over time on the case page: weights, titers, lab panels, documents; htmx and access."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from cases.models import BaselineLab, Document, Stage, StageEvent, TiterResult, WeightMeasurement
from tests.cases.helpers import image_bytes, lab_data, pdf_bytes, upload
from tests.personas import MARKER_MRN, MARKER_NAME

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(name, case, *extra):
    return reverse(f"cases:{name}", args=[case.pk, *extra])


def test_a_weight_is_recorded_and_the_case_moves_from_intake_to_gating(cast, login):
    case = cast.case_a
    response = login(cast.coordinator).post(
        _url("weight_add", case), {"measured_on": timezone.localdate().isoformat(), "kg": "5.43"}
    )
    assert response.status_code == 302
    weight = WeightMeasurement.objects.get(case=case)
    assert weight.kg == Decimal("5.43") and weight.entered_by == cast.coordinator
    case.refresh_from_db()
    assert case.stage == Stage.GATING
    assert StageEvent.objects.filter(case=case, stage=Stage.GATING).exists()


def test_an_htmx_result_answers_with_its_section_and_the_facts_changed_event(cast, login):
    client = login(cast.physician)
    response = client.post(
        _url("weight_add", cast.case_a), {"measured_on": timezone.localdate().isoformat(), "kg": "6"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"case-facts-changed": {}}' or "case-facts-changed" in response["HX-Trigger"]
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="weights"') and "<html" not in body


@pytest.mark.parametrize(
    ("kg", "message"),
    [("0", "more than 0 kg"), ("250", "pounds or grams"), ("-3", "more than 0 kg"), ("abc", "Enter a number")],
)
def test_an_impossible_weight_is_refused_next_to_the_field(cast, login, kg, message):
    response = login(cast.coordinator).post(
        _url("weight_add", cast.case_a), {"measured_on": timezone.localdate().isoformat(), "kg": kg}, **HTMX
    )
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert message in response.content.decode()
    assert not WeightMeasurement.objects.exists()
    cast.case_a.refresh_from_db()
    assert cast.case_a.stage == Stage.INTAKE


def test_a_result_dated_before_birth_or_in_the_future_is_refused(cast, login):
    client = login(cast.coordinator)
    dob = cast.case_a.patient.date_of_birth
    before = client.post(
        _url("weight_add", cast.case_a), {"measured_on": (dob - timedelta(days=1)).isoformat(), "kg": "4"}
    )
    assert before.status_code == 400 and "before the child" in before.content.decode()
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = client.post(
        _url("titer_add", cast.case_a), {"drawn_on": future, "lab": "L", "method": "ELISA", "result_text": "1:25"}
    )
    assert later.status_code == 400 and "cannot be in the future" in later.content.decode()
    assert not WeightMeasurement.objects.exists() and not TiterResult.objects.exists()


@pytest.mark.parametrize(
    ("text", "key"), [("1:25", "25"), ("<1:25", "24.9"), ("1:50", "50"), ("1:100", "100"), (">=1:400", "400.05")]
)
def test_a_titer_is_stored_as_written_with_a_comparable_key(cast, login, text, key):
    login(cast.coordinator).post(
        _url("titer_add", cast.case_a),
        {"drawn_on": timezone.localdate().isoformat(), "lab": "Labcorp", "method": "ELISA", "result_text": text},
    )
    titer = TiterResult.objects.get()
    assert titer.result_text == text and titer.result_key == Decimal(key)


@pytest.mark.parametrize("text", ["abc", "1:", "2:50", "1:0"])
def test_a_titer_that_is_not_a_titer_is_refused(cast, login, text):
    response = login(cast.coordinator).post(
        _url("titer_add", cast.case_a),
        {"drawn_on": timezone.localdate().isoformat(), "lab": "L", "method": "ELISA", "result_text": text},
        **HTMX,
    )
    assert "is not a titer" in response.content.decode() or "positive whole number" in response.content.decode()
    assert not TiterResult.objects.exists()


def test_a_lab_panel_is_converted_to_canonical_units(cast, login):
    drawn = timezone.localdate() - timedelta(days=1)
    response = login(cast.coordinator).post(_url("labs_add", cast.case_a), lab_data(drawn))
    assert response.status_code == 302
    labs = {lab.analyte: lab for lab in BaselineLab.objects.all()}
    assert len(labs) == 8
    assert labs["tbili"].value_canonical == Decimal("0.500") and labs["tbili"].canonical_unit == "mg/dL"
    assert labs["tbili"].uln_canonical == Decimal("1.199") and labs["tbili"].unit == "µmol/L"
    assert labs["hemoglobin"].value_canonical == Decimal("11.500")
    assert labs["troponin_i"].value_canonical == Decimal("12.000") and labs["troponin_i"].canonical_unit == "ng/L"


def test_an_inr_satisfies_the_pt_row(cast, login):
    data = lab_data(timezone.localdate(), pt_value="1.1", pt_unit="INR", pt_uln="1.2")
    login(cast.coordinator).post(_url("labs_add", cast.case_a), data)
    assert BaselineLab.objects.get(analyte="inr").canonical_unit == "ratio"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"alt_uln": ""}, "alt_uln", "upper limit of normal"),
        ({"alt_uln": "0"}, "alt_uln", "must be above 0"),
        ({"ast_value": "-1"}, "ast_value", "greater than or equal to 0"),
        ({"creatinine_value": "abc"}, "creatinine_value", "Enter a number"),
        ({"hemoglobin_unit": "furlongs"}, "hemoglobin_unit", "Select a valid choice"),
        ({"drawn_on": "1999-01-01"}, "drawn_on", "before the child"),
    ],
)
def test_a_bad_lab_panel_saves_nothing_and_says_which_field(cast, login, overrides, field, message):
    response = login(cast.coordinator).post(_url("labs_add", cast.case_a), lab_data(timezone.localdate(), **overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["lab_form"].errors[field])
    assert not BaselineLab.objects.exists()


def test_an_empty_lab_panel_is_refused(cast, login):
    data = {"drawn_on": timezone.localdate().isoformat()}
    response = login(cast.coordinator).post(_url("labs_add", cast.case_a), data)
    assert response.status_code == 400 and "at least one result" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "mime", "stored"),
    [
        ("titer.pdf", pdf_bytes(), "application/pdf", "application/pdf"),
        ("scan.png", image_bytes("PNG"), "image/png", "image/png"),
        ("photo.jpg", image_bytes("JPEG"), "image/jpeg", "image/jpeg"),
        ("looks-like.txt", pdf_bytes(), "text/plain", "application/pdf"),
    ],
)
def test_documents_are_accepted_by_content_and_stored_without_the_filename(cast, login, name, content, mime, stored):
    response = login(cast.coordinator).post(
        _url("document_add", cast.case_a),
        {"kind": "titer_report", "file": upload(f"{MARKER_NAME} {name}", content, mime)},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.content_type == stored and document.size == len(content)
    assert MARKER_NAME.split()[0] not in document.file.name and document.sha256[:16] in document.file.name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.pdf", b"<html><script>alert(1)</script></html>", "not a PDF, PNG or JPEG"),
        ("broken.pdf", b"%PDF-1.4\n%%EOF", "damaged or incomplete"),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 30, "damaged or incomplete"),
    ],
)
def test_a_document_that_is_not_a_pdf_or_image_by_content_is_refused(cast, login, name, content, message):
    response = login(cast.coordinator).post(
        _url("document_add", cast.case_a), {"kind": "letter", "file": upload(name, content)}, **HTMX
    )
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_a_document_over_the_size_limit_is_refused(cast, login, settings):
    settings.DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
    big = pdf_bytes() + b"\n%" + b"x" * (20 * 1024 * 1024)
    response = login(cast.coordinator).post(
        _url("document_add", cast.case_a), {"kind": "letter", "file": upload("big.pdf", big)}
    )
    assert response.status_code == 400
    assert "the limit is 20 MB" in " ".join(response.context["document_form"].errors["file"])
    assert not Document.objects.exists()


def test_a_document_downloads_as_an_attachment_and_the_access_is_audited(cast, login):
    client = login(cast.coordinator)
    content = pdf_bytes()
    client.post(_url("document_add", cast.case_a), {"kind": "genetic_report", "file": upload("g.pdf", content)})
    document = Document.objects.get()
    response = client.get(_url("document", cast.case_a, document.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == content
    assert LogEntry.objects.filter(object_id=document.pk, action=LogEntry.Action.ACCESS).exists()


@pytest.mark.parametrize("role", ["billing", "manager"])
def test_billing_and_managers_read_but_do_not_enter_results(cast, login, role):
    client = login(getattr(cast, role))
    assert client.get(_url("detail", cast.case_a)).status_code == 200
    today = timezone.localdate().isoformat()
    assert client.post(_url("weight_add", cast.case_a), {"measured_on": today, "kg": "5"}).status_code == 403
    assert client.post(_url("start_gating", cast.case_a)).status_code == 403
    assert not WeightMeasurement.objects.exists()


def test_the_start_gating_button_moves_an_intake_case(cast, login):
    response = login(cast.coordinator).post(_url("start_gating", cast.case_a))
    assert response.status_code == 302
    cast.case_a.refresh_from_db()
    assert cast.case_a.stage == Stage.GATING


def test_every_case_url_is_a_404_for_another_sites_user_on_get_and_post(cast, login):
    case = cast.case_a
    login(cast.coordinator).post(_url("document_add", case), {"kind": "letter", "file": upload("l.pdf", pdf_bytes())})
    document = Document.objects.get()
    client = login(cast.outsider)
    gets = ["detail", "edit", "gate", "pipeline"]
    posts = ["edit", "start_gating", "weight_add", "titer_add", "labs_add", "document_add"]
    today = timezone.localdate().isoformat()
    for name in gets:
        response = client.get(_url(name, case))
        assert response.status_code == 404, name
        assert MARKER_NAME not in response.content.decode() and MARKER_MRN not in response.content.decode()
    for name in posts:
        response = client.post(_url(name, case), {"measured_on": today, "kg": "5", "version": "1"})
        assert response.status_code == 404, name
    assert client.get(_url("document", case, document.pk)).status_code == 404
    assert not WeightMeasurement.objects.exists()
    case.refresh_from_db()
    assert case.stage == Stage.INTAKE


def test_a_document_of_another_case_cannot_be_fetched_through_this_case(cast, login):
    from tests.personas import make_case

    other = make_case(cast.site_a, name="Other Child", mrn="MRN-2", dob=date(2026, 7, 1))
    client = login(cast.coordinator)
    client.post(_url("document_add", other), {"kind": "letter", "file": upload("l.pdf", pdf_bytes())})
    document = Document.objects.get()
    assert client.get(_url("document", cast.case_a, document.pk)).status_code == 404
    assert client.get(_url("document", other, document.pk)).status_code == 200


def test_the_lab_panel_form_loads_when_opened_and_not_with_every_page(cast, login):
    client = login(cast.coordinator)
    page = client.get(_url("detail", cast.case_a)).content.decode()
    assert 'id="lab_drawn_on"' not in page  # not rendered with the page
    assert 'hx-trigger="toggle once"' in page and "?add=labs#labs" in page  # loaded on open, or without JS
    loaded = client.get(_url("labs_add", cast.case_a), **HTMX)
    assert loaded.status_code == 200
    body = loaded.content.decode()
    assert "<html" not in body and 'id="lab_drawn_on"' in body and "csrfmiddlewaretoken" in body
    assert client.get(_url("labs_add", cast.case_a)).url.endswith("?add=labs#labs")  # no JS: the page with it
    inline = client.get(_url("detail", cast.case_a), {"add": "labs"}).content.decode()
    assert 'id="lab_drawn_on"' in inline and '<details class="mb-3" open' in inline


def test_the_lab_panel_form_is_refused_to_other_sites_and_to_billing(cast, login):
    other = login(cast.outsider).get(_url("labs_add", cast.case_a), **HTMX)
    assert other.status_code == 404 and MARKER_NAME not in other.content.decode()
    assert login(cast.billing).get(_url("labs_add", cast.case_a), **HTMX).status_code == 403
    assert login(cast.billing).get(_url("detail", cast.case_a), {"add": "labs"}).status_code == 200


def test_a_lab_panel_with_errors_shows_its_form_open_with_the_values_kept(cast, login):
    data = lab_data(timezone.localdate(), alt_value="not a number")
    response = login(cast.coordinator).post(_url("labs_add", cast.case_a), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert '<details class="mb-3" open' in body and 'id="lab_drawn_on"' in body and 'value="not a number"' in body


@pytest.mark.parametrize(
    ("section", "post", "shown"),
    [
        ("weight_add", lambda today: {"measured_on": today.isoformat(), "kg": "6.25"}, "6.25"),
        (
            "titer_add",
            lambda today: {"drawn_on": today.isoformat(), "result_text": "1:25", "lab": "Quest", "method": "ELISA"},
            '<td class="fw-semibold">1:25</td>',
        ),
        ("labs_add", lambda today: lab_data(today), "Drawn"),
    ],
)
def test_a_saved_result_shows_in_its_section_with_the_earlier_ones(cast, login, section, post, shown):
    """The page shows result tables from the rows fetched with the case; after a save the
    section must read them again, or the new row would be missing."""
    today = timezone.localdate()
    WeightMeasurement.objects.create(case=cast.case_a, measured_on=today - timedelta(days=3), kg=Decimal("5.10"))
    response = login(cast.coordinator).post(_url(section, cast.case_a), post(today), **HTMX)
    assert response.status_code == 200, response.content.decode()[:500]
    assert shown in response.content.decode()
    assert "HX-Trigger" in response  # saved, not refused
    if section == "weight_add":
        assert "5.10" in response.content.decode()  # the earlier weight too
