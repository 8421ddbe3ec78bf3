"""Generating and downloading packets through the views; OneGene enrollment; demo PAs; bench."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from pypdf import PdfReader

from billing.models import (
    MedicalNecessityLetter,
    OneGeneEnrollment,
    PacketJob,
    PAPacket,
    PriorAuthorization,
    SupportProgram,
)
from billing.packet_jobs import job_run
from cases.models import BaselineLab, Stage
from demo import billing as demo
from demo import billing_cases as demo_cases
from demo.bench.packet import bench_packet, format_result
from demo.context import DemoContext
from tests.billing.helpers import add_document, huge_png, make_ready_case, many_page_pdf, prescriber
from tests.personas import make_user


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.fixture
def generate(client, eager_celery, django_capture_on_commit_callbacks):
    """POST the generate button as the worker would carry it out: the job is handed over when
    the request commits and the (eager) task renders it."""

    def post(case, final: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("billing:packet_generate", args=[case.pk]), {"final": final})

    return post


def test_billing_generates_a_final_packet_and_downloads_it_with_an_audit_entry(client, cast, ready_case, generate):
    client.force_login(cast.billing)
    response = generate(ready_case, "1")
    assert response.status_code == 302
    packet = PAPacket.objects.get(case=ready_case)
    assert packet.final and any("Generating a final packet" in m for m in _messages(response))
    assert PacketJob.objects.get(case=ready_case).state == PacketJob.State.DONE
    client.force_login(cast.manager)  # readers may download
    download = client.get(reverse("billing:packet_download", args=[packet.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    disposition = download["Content-Disposition"]
    assert f"pa-packet-case-{ready_case.pk}-v1-final.pdf" in disposition and "Ava" not in disposition
    assert download["Cache-Control"] == "no-store, private"
    access = LogEntry.objects.get_for_object(packet).filter(action=LogEntry.Action.ACCESS)
    assert access.filter(actor=cast.manager).exists()


def test_a_refused_final_packet_says_what_blocks_and_keeps_nothing(client, cast, ready_case, generate):
    BaselineLab.objects.filter(case=ready_case, analyte="creatinine").delete()
    client.force_login(cast.billing)
    generate(ready_case, "1")
    assert not PAPacket.objects.exists()
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "A final packet is refused until these pass" in page
    assert "was not generated." in page and "Still blocking: Baseline labs" in page


def test_a_junk_packet_kind_is_refused(client, cast, ready_case):
    client.force_login(cast.billing)
    response = client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "maybe"})
    assert any("Choose a draft or a final packet" in m for m in _messages(response))
    assert not PAPacket.objects.exists()


def test_another_sites_user_cannot_download_a_packet(client, cast, ready_case, generate):
    client.force_login(cast.billing)
    generate(ready_case, "0")
    packet = PAPacket.objects.get()
    client.force_login(cast.outsider)
    response = client.get(reverse("billing:packet_download", args=[packet.pk]))
    assert response.status_code == 404 and b"Ava Ready" not in response.content


@pytest.fixture
def programs(db):
    demo.seed(DemoContext(today=date(2026, 6, 1)))
    return SupportProgram.objects.all()


def test_a_coordinator_records_the_onegene_enrollment_shown_on_the_case(client, cast, ready_case, programs, today):
    client.force_login(cast.coordinator)
    url = reverse("billing:onegene", args=[ready_case.pk])
    response = client.post(url, {"enrolled_on": str(today), "reference": "OG-123",
                                 "services_requested": ["Benefits investigation", "AAV9 testing logistics"]})  # fmt: skip
    assert response.status_code == 302
    enrollment = OneGeneEnrollment.objects.get(case=ready_case)
    assert enrollment.services_requested == ["Benefits investigation", "AAV9 testing logistics"]
    assert enrollment.recorded_by == cast.coordinator
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "OG-123" in page and "1-855-441-4363" in page and "Cure SMA" in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"enrolled_on": "2999-01-01"}, "enrolled_on"),
        ({"enrolled_on": "yesterday"}, "enrolled_on"),
        ({"enrolled_on": "2026-01-01", "services_requested": ["Free car"]}, "services_requested"),
        ({"enrolled_on": "2026-01-01", "reference": "x" * 61}, "reference"),
    ],
)
def test_bad_enrollment_data_is_refused_next_to_the_field(client, cast, ready_case, programs, data, field):
    client.force_login(cast.coordinator)
    response = client.post(reverse("billing:onegene", args=[ready_case.pk]), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not OneGeneEnrollment.objects.exists()


def test_a_physician_cannot_record_the_enrollment(client, cast, ready_case, programs):
    client.force_login(cast.physician)
    assert client.get(reverse("billing:onegene", args=[ready_case.pk])).status_code == 403


def test_demo_prior_authorizations_tell_the_cast_story_and_rerun_changes_nothing(cast, today, programs):
    make_user("billing2", "billing", cast.site_b)
    cases = {
        "ready": make_ready_case(cast.site_a, today=today, mrn="D1", stage=Stage.GATING),
        "pa_submitted": make_ready_case(cast.site_a, today=today, mrn="D2", stage=Stage.GATING),
        "pa_denied": make_ready_case(cast.site_a, today=today, mrn="D3", stage=Stage.GATING, documents=False),
        "titer_stale": make_ready_case(cast.site_a, today=today, mrn="D4", documents=False),
        "monitoring_normal": make_ready_case(
            cast.site_a, today=today, mrn="D5", stage=Stage.MONITORING, documents=False
        ),  # fmt: skip
    }
    users = {"billing": cast.billing, "physician": prescriber(cast.physician)}
    ctx = DemoContext(today=today, users=users, extra={"cases": cases})
    demo_cases.seed(ctx)
    status = dict(PriorAuthorization.objects.values_list("case__patient__mrn", "status"))
    assert status == {"D1": "approved", "D2": "pended", "D3": "appealed", "D4": "draft", "D5": "approved"}
    # The prescriber signed the letter before each submission, and an appeal letter after the denial.
    letters = MedicalNecessityLetter.objects.filter(signed_at__isnull=False)
    signed = sorted(letters.values_list("case__patient__mrn", "version", "kind"))
    assert signed == [("D1", 1, "initial"), ("D2", 1, "initial"), ("D3", 1, "initial"), ("D3", 2, "appeal"),
                      ("D5", 1, "initial")]  # fmt: skip
    assert PAPacket.objects.get(case=cases["ready"]).final
    assert not PAPacket.objects.get(case=cases["titer_stale"]).final
    cases["ready"].refresh_from_db()
    cases["pa_denied"].refresh_from_db()
    cases["monitoring_normal"].refresh_from_db()
    assert cases["ready"].stage == Stage.PA_APPROVED
    assert cases["pa_denied"].stage == Stage.PA_SUBMITTED
    assert cases["monitoring_normal"].stage == Stage.MONITORING
    denied = PriorAuthorization.objects.get(case=cases["pa_denied"])
    assert denied.events.filter(to_status="denied", denial_reason="titer").exists()
    counts = (PriorAuthorization.objects.count(), PAPacket.objects.count(), LogEntry.objects.count())
    demo_cases.seed(ctx)
    assert (PriorAuthorization.objects.count(), PAPacket.objects.count(), LogEntry.objects.count()) == counts


def test_demo_cases_step_skips_when_there_are_no_cases(db):
    demo_cases.seed(DemoContext(today=date(2026, 6, 1)))
    assert not PriorAuthorization.objects.exists()


def test_the_bench_renders_a_ten_page_packet_and_reports_figures(db):
    result = bench_packet(runs=1)
    assert result["pages"] >= 10 and result["median_s"] > 0 and result["peak_rss_mb"] > 0
    assert "median" in format_result(result)
    from cases.models import Case

    assert not Case.objects.exists()  # rolled back


# --- Packet work is bounded (issue 13 item 3) ---------------------------------------------------
@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (many_page_pdf(3000), "application/pdf", "This PDF has 3,000 pages; the limit is 100"),
        (huge_png(12000, 12000), "image/png", "12,000 × 12,000 pixels; the limit is 25 megapixels"),
    ],
    ids=["3000-page-pdf", "144-megapixel-png"],
)
def test_a_document_stored_before_the_limits_stops_the_packet_with_a_message_not_a_500(
    client, cast, ready_case, content, content_type, message, generate
):
    # Stored directly, as an upload from before the limits would have been.
    add_document(ready_case, "titer_report", content, content_type, user=cast.coordinator)
    client.force_login(cast.billing)
    response = generate(ready_case, "0")
    assert response.status_code == 302
    # The packet is made without it, and says which document was left out and why.
    packet = PAPacket.objects.get(case=ready_case)
    left_out = [d for d in packet.snapshot["not_appended"] if not d["reason"].startswith("superseded")]
    assert len(left_out) == 1 and message.split("; ")[1] in left_out[0]["reason"]
    assert left_out[0]["id"] not in {d["id"] for d in packet.snapshot["documents"]}
    text = "".join(page.extract_text() for page in PdfReader(packet.file.open("rb")).pages)
    assert "Uploaded but not appended" in text and "the limit is" in text


# --- Packets are made by the worker (issue 13 item 3, issue 17 item 8) --------------------------
def test_a_second_click_while_a_packet_is_being_generated_starts_no_second_job(client, cast, ready_case):
    """Without a worker running, the first job waits; the second click is refused with a message
    and the buttons are disabled while the first is under way."""
    client.force_login(cast.billing)
    client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    response = client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    assert any("already being generated" in m for m in _messages(response))
    assert PacketJob.objects.filter(case=ready_case).count() == 1
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert 'data-packet-job="queued"' in page and "Waiting for the worker" in page
    assert page.count('disabled aria-disabled="true">Generate') == 2


def test_the_progress_fragment_reloads_the_page_when_the_job_ends(client, cast, ready_case):
    client.force_login(cast.billing)
    client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    job = PacketJob.objects.get(case=ready_case)
    url = reverse("billing:packet_job", args=[job.pk])
    running = client.get(url, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in running and 'hx-trigger="every 2s"' in running.content.decode()
    job_run(job.pk)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true" and "Packet version 1 is ready" in done.content.decode()
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404


def test_a_job_over_the_time_limit_ends_with_a_message_and_frees_the_case(client, cast, ready_case, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from billing import packet_jobs, tasks

    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(packet_jobs, "packet_create", too_slow)
    client.force_login(cast.billing)
    client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    job = PacketJob.objects.get(case=ready_case)
    tasks.generate_packet.apply((job.pk,))
    job.refresh_from_db()
    assert job.state == PacketJob.State.FAILED and "took longer than 120 seconds" in job.message
    assert tasks.generate_packet.soft_time_limit == 120 and tasks.generate_packet.time_limit == 150
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "was not generated." in page and "took longer than 120 seconds" in page
    assert not PAPacket.objects.exists()
    client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    assert PacketJob.objects.filter(case=ready_case).count() == 2  # the case may ask again


def test_a_job_whose_worker_died_is_ended_when_looked_at(client, cast, ready_case):
    client.force_login(cast.billing)
    client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    job = PacketJob.objects.get(case=ready_case)
    PacketJob.objects.filter(pk=job.pk).update(requested_at=job.requested_at - timedelta(hours=1))
    body = client.get(reverse("billing:packet_job", args=[job.pk])).content.decode()
    assert "The worker stopped before the packet was finished" in body


def test_the_broker_down_ends_the_job_with_a_message(
    client, cast, ready_case, django_capture_on_commit_callbacks, monkeypatch
):
    from billing import tasks

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError()

    monkeypatch.setattr(tasks.generate_packet, "apply_async", refuse)
    client.force_login(cast.billing)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"})
    job = PacketJob.objects.get(case=ready_case)
    assert job.state == PacketJob.State.FAILED and "could not be reached" in job.message
