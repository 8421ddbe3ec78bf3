"""Choosing the documents a packet appends (issue 17 item 6): the case page lists every current
document with the suggestion (newest of each kind appended, older ones left out as superseded),
the user changes it, and the packet lists what it appended with page numbers and what it left out
with the reason chosen. Stale or junk choices are refused with a message and start no job."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.models import PacketJob, PAPacket
from cases.models import Document
from common.wording import day_text
from tests.billing.helpers import add_document, pdf_bytes


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def _text(packet) -> str:
    return re.sub(r"\s+", " ", "".join(page.extract_text() for page in PdfReader(packet.file.open("rb")).pages))


def _choices(page: str) -> dict[str, str]:
    """name of each document select → the option selected."""
    found = {}
    for name, body in re.findall(r'<select[^>]*name="(doc-\d+)"[^>]*>(.*?)</select>', page, re.S):
        found[name] = re.search(r'<option value="([a-z_]+)" selected>', body)[1]
    return found


@pytest.fixture
def lab_reports(ready_case, cast):
    """Two lab reports on the ready case (which has a genetic and a titer report): the older one
    is suggested as superseded."""
    older = add_document(
        ready_case, "lab_report", pdf_bytes("OLD LAB REPORT", pages=1), "application/pdf", "old-lab.pdf"
    )
    Document.objects.filter(pk=older.pk).update(uploaded_at=timezone.now() - timezone.timedelta(days=20))
    newer = add_document(
        ready_case, "lab_report", pdf_bytes("NEW LAB REPORT", pages=3), "application/pdf", "new-lab.pdf"
    )
    return older, newer


@pytest.fixture
def post(client, eager_celery, django_capture_on_commit_callbacks):
    def send(case, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("billing:packet_generate", args=[case.pk]), data)

    return send


def test_the_case_page_lists_every_document_with_the_suggestion(client, cast, ready_case, lab_reports):
    older, newer = lab_reports
    client.force_login(cast.billing)
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "Documents to append" in page and "new-lab.pdf" in page and "old-lab.pdf" in page
    choices = _choices(page)
    current = Document.objects.filter(case=ready_case, voided_at__isnull=True)
    assert set(choices) == {f"doc-{d.pk}" for d in current}
    assert choices[f"doc-{newer.pk}"] == "append" and choices[f"doc-{older.pk}"] == "superseded"
    assert "Leave out: not relevant to this request" in page


def test_a_physician_sees_no_generate_form(client, cast, ready_case):
    client.force_login(cast.physician)
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "Documents to append" not in page


def test_the_packet_appends_what_the_user_chose_and_lists_the_rest_with_the_reason(
    client, cast, ready_case, lab_reports, post
):
    older, newer = lab_reports
    client.force_login(cast.billing)
    data = {"final": "0"}
    for doc in Document.objects.filter(case=ready_case):
        data[f"doc-{doc.pk}"] = "append"
    data[f"doc-{newer.pk}"] = "already_sent"  # the user keeps the older report, not the newer one
    response = post(ready_case, data)
    assert response.status_code == 302
    packet = PAPacket.objects.get(case=ready_case)
    assert PacketJob.objects.get(case=ready_case).document_choices[str(newer.pk)] == "already_sent"
    appended = {d["id"] for d in packet.snapshot["documents"]}
    assert older.pk in appended and newer.pk not in appended
    left = {d["id"]: d["reason"] for d in packet.snapshot["not_appended"]}
    assert left == {newer.pk: "already sent to the payer"}
    text = _text(packet)
    uploaded = day_text(timezone.localdate())
    assert f"Lab report, uploaded {uploaded}: already sent to the payer" in text
    # The index lists each appended document with the pages it lands on.
    assert re.search(r"Lab report \d{1,2} \w{3} \d{4} page \d+ \(1 page\)", text)
    assert re.search(r"Genetic report \d{1,2} \w{3} \d{4} pages \d+–\d+ \(2 pages\)", text)
    assert "OLD LAB REPORT" in text and "NEW LAB REPORT" not in text


def test_without_choices_posted_the_suggestion_is_used(client, cast, ready_case, lab_reports, post):
    older, newer = lab_reports
    client.force_login(cast.billing)
    post(ready_case, {"final": "0"})
    packet = PAPacket.objects.get(case=ready_case)
    assert newer.pk in {d["id"] for d in packet.snapshot["documents"]}
    [left] = packet.snapshot["not_appended"]
    assert left["id"] == older.pk
    assert left["reason"] == f"superseded by the newer lab report uploaded {day_text(timezone.localdate())}"


def test_leaving_out_the_genetic_report_unticks_the_payers_checklist_line(client, cast, ready_case, post):
    ready_case.payer.documentation_checklist = [{"text": "Genetic report confirming SMN1", "evidence": "genetics"}]
    ready_case.payer.save()
    genetic = Document.objects.get(case=ready_case, kind="genetic_report")
    client.force_login(cast.billing)
    data = {"final": "0", **{f"doc-{d.pk}": "append" for d in Document.objects.filter(case=ready_case)}}
    data[f"doc-{genetic.pk}"] = "not_relevant"
    post(ready_case, data)
    [line] = PAPacket.objects.get(case=ready_case).snapshot["payer"]["checklist"]
    assert line["met"] is False


@pytest.mark.parametrize("problem", ["junk_choice", "other_case_document", "voided_since", "uploaded_since"])
def test_stale_or_junk_choices_are_refused_with_a_message_and_start_no_job(
    client, cast, ready_case, lab_reports, post, problem
):
    older, newer = lab_reports
    client.force_login(cast.billing)
    data = {"final": "0", **{f"doc-{d.pk}": "append" for d in Document.objects.filter(case=ready_case)}}
    expected = "Choose a draft or a final packet, and for each document whether to append it."
    if problem == "junk_choice":
        data[f"doc-{older.pk}"] = "<script>"
    elif problem == "other_case_document":
        data["doc-999999"] = "append"
        expected = "voided or removed since the page was opened"
    elif problem == "voided_since":
        Document.objects.filter(pk=older.pk).update(voided_at=timezone.now(), void_reason="wrong child")
        expected = "voided or removed since the page was opened"
    else:
        add_document(ready_case, "other", pdf_bytes("PAYER FORM"), "application/pdf", "payer-form.pdf")
        expected = "A document was uploaded since the page was opened"
    response = post(ready_case, data)
    assert response.status_code == 302
    assert any(expected in m for m in _messages(response)), _messages(response)
    assert not PacketJob.objects.exists() and not PAPacket.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert expected.split(",")[0].replace("'", "&#x27;") in page
