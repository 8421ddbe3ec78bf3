"""The results inbox pages: site scoping, who may do what, the review (pick the draw), process
again, and the HL7 file upload of many messages."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.inbox.models import InboxMessage
from monitoring.inbox.workflows import receive_hl7
from monitoring.models import Result
from tests.inbox.helpers import collected, infused_case, oru
from tests.monitoring.helpers import draw
from tests.personas import MARKER_MRN, MARKER_NAME


@pytest.fixture
def held(cast):
    """A message the coordinator must review: collected well outside any draw's window."""
    infused_case(cast.case_a)
    return receive_hl7(oru("H-1", when=collected(days_ago=20)).encode()).message


def test_the_inbox_lists_own_site_messages_by_status(cast, client, held):
    receive_hl7(oru("OTHER", facility="B", mrn="X").encode())  # a site B message
    client.force_login(cast.coordinator)
    page = client.get(reverse("monitoring:inbox"), {"status": "needs_review"})
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [m.pk for m in rows] == [held.pk]


def test_another_sites_user_gets_404_and_sees_no_patient_data(cast, client, held):
    client.force_login(cast.outsider)
    for name in ("monitoring:inbox_message",):
        response = client.get(reverse(name, args=[held.pk]))
        assert response.status_code == 404
        assert MARKER_NAME not in response.content.decode() and MARKER_MRN not in response.content.decode()
    response = client.post(reverse("monitoring:inbox_review", args=[held.pk]), {})
    assert response.status_code == 404
    assert held.pk not in [m.pk for m in client.get(reverse("monitoring:inbox")).context["page"].object_list]


def test_a_manager_reads_the_inbox_but_cannot_review_and_billing_cannot_read(cast, client, held):
    client.force_login(cast.billing)
    assert client.get(reverse("monitoring:inbox_message", args=[held.pk])).status_code == 403
    client.force_login(cast.manager)
    assert client.get(reverse("monitoring:inbox_message", args=[held.pk])).status_code == 200
    assert client.post(reverse("monitoring:inbox_review", args=[held.pk]), {}).status_code == 403
    assert client.post(reverse("monitoring:inbox_reprocess", args=[held.pk])).status_code == 403
    assert client.get(reverse("monitoring:inbox_upload")).status_code == 403


def test_the_coordinator_picks_the_draw_and_the_results_are_recorded_with_who(cast, client, held):
    assert held.status == "needs_review" and "no scheduled draw's window covers" in held.reason
    client.force_login(cast.coordinator)
    page = client.get(reverse("monitoring:inbox_message", args=[held.pk]))
    assert "Assign to a draw" in page.content.decode()
    liver = draw(cast.case_a, "liver", 7)
    response = client.post(reverse("monitoring:inbox_review", args=[held.pk]), {"draw_liver": liver.pk})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == "processed" and held.reviewed_by == cast.coordinator
    assert Result.objects.filter(draw=liver).count() == 4
    assert Result.objects.get(draw=liver, analyte="alt").entered_by == cast.coordinator
    assert LogEntry.objects.get_for_object(held).filter(actor=cast.coordinator).exists()


def test_the_review_refuses_another_patients_draw_when_the_patient_was_matched(cast, client, held):
    from tests.personas import make_case

    other = make_case(cast.site_a, name="Other Child", mrn="MRN-O")
    infused_case(other)
    client.force_login(cast.coordinator)
    response = client.post(
        reverse("monitoring:inbox_review", args=[held.pk]), {"draw_liver": draw(other, "liver", 7).pk}
    )
    assert response.status_code == 422  # not among the choices: the message names its patient
    assert not Result.objects.exists()


def test_an_unmatched_message_offers_the_sites_draws_near_the_date(cast, client):
    infused_case(cast.case_a)
    message = receive_hl7(oru("U-1", mrn="TYPO-9137").encode()).message
    client.force_login(cast.coordinator)
    form = client.get(reverse("monitoring:inbox_message", args=[message.pk])).context["form"]
    assert draw(cast.case_a, "liver", 7) in form.fields["draw_liver"].queryset
    response = client.post(
        reverse("monitoring:inbox_review", args=[message.pk]), {"draw_liver": draw(cast.case_a, "liver", 7).pk}
    )
    assert response.status_code == 302 and Result.objects.count() == 4


def test_process_again_after_the_patient_record_is_fixed(cast, client):
    infused_case(cast.case_a)
    message = receive_hl7(oru("R-1", mrn="MRN-NEW").encode()).message
    assert message.status == "needs_review"
    cast.case_a.patient.mrn = "MRN-NEW"
    cast.case_a.patient.save()
    client.force_login(cast.coordinator)
    client.post(reverse("monitoring:inbox_reprocess", args=[message.pk]))
    message.refresh_from_db()
    assert message.status == "processed" and Result.objects.count() == 4


def test_an_hl7_file_of_many_messages_is_uploaded(cast, client):
    infused_case(cast.case_a)
    client.force_login(cast.coordinator)
    text = oru("F-1") + "\n" + oru("F-2", mrn="NOBODY") + "\n" + oru("F-3", kind="ADT^A08")
    upload = SimpleUploadedFile("batch.hl7", text.encode(), content_type="text/plain")
    response = client.post(
        reverse("monitoring:inbox_upload"), {"source": "hl7", "site": cast.site_a.pk, "file": upload}, follow=True
    )
    assert response.status_code == 200
    assert "3 message(s) received" in response.content.decode()
    assert sorted(InboxMessage.objects.values_list("status", flat=True)) == ["failed", "needs_review", "processed"]
    assert all(m.received_by == cast.coordinator for m in InboxMessage.objects.all())


def test_an_upload_naming_another_site_in_msh6_is_refused(cast, client):
    client.force_login(cast.coordinator)
    upload = SimpleUploadedFile("one.hl7", oru("X-1", facility="B").encode(), content_type="text/plain")
    client.post(reverse("monitoring:inbox_upload"), {"source": "hl7", "site": cast.site_a.pk, "file": upload})
    message = InboxMessage.objects.get()
    assert message.status == "failed" and "another site" in message.reason and message.site == cast.site_a


def test_the_message_page_shows_results_notes_and_the_raw_text(cast, client):
    infused_case(cast.case_a)
    rows = [("1742-6", "ALT", "45", "U/L", "10-60", "H", "F"), ("2324-2", "GGT", "20", "U/L", "", "", "F")]
    message = receive_hl7(oru("P-1", results=rows).encode()).message
    client.force_login(cast.coordinator)
    body = client.get(reverse("monitoring:inbox_message", args=[message.pk])).content.decode()
    assert "GGT (2324-2): not a monitored analyte" in body and "MSH|" in body and ">H<" in body
