"""The letter of medical necessity (issue 17 item 1): drafted from the case's facts, edited and
signed by the ordering physician with their password, versioned, and required by a final packet
as long as the case still matches what was signed. Its variant follows the PA history."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.lmn import LetterError, letter_save, letter_state
from billing.models import MedicalNecessityLetter, PAEvent, PAPacket, PriorAuthorization
from billing.packet import PacketError, packet_case, packet_create, packet_snapshot
from cases.models import TiterResult, WeightMeasurement
from cases.titers import parse_titer
from common.wording import day_text
from tests.billing.conftest import pdf_pages
from tests.billing.helpers import make_ready_case, prescriber, sign_letter
from tests.personas import PASSWORD, make_user


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def unsigned_case(cast, payer, today):
    prescriber(cast.physician)
    return make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-L1")


def _post(client, case, **data):
    state = letter_state(case)
    data.setdefault("body", state.text)
    data.setdefault("based_on", state.latest.version if state.latest else 0)
    return client.post(reverse("billing:letter", args=[case.pk]), data)


def test_the_draft_states_the_cases_facts_and_why_now(unsigned_case, today):
    state = letter_state(unsigned_case)
    facts = dict(state.lmn["facts"])
    planned = day_text(unsigned_case.planned_infusion_date)
    assert facts["Request"] == f"initial request for an infusion on {planned}"
    assert facts["SMN2 copy number"] == "2"
    assert facts["Weight"].startswith(f"5.2 kg on {day_text(today - timedelta(days=3))}; kit 71894-125-04")
    assert facts["Anti-AAV9 antibody titer"].startswith("1:25 by ELISA")
    assert "platelets 310 × 10⁹/L (lower limit 150 × 10⁹/L" in facts["Baseline laboratory results"]
    assert facts["Prescriber"] == "Dr. Priya Raman, specialty not recorded, NPI 1234567893"
    text = state.text
    assert text.startswith("I am writing to request coverage of Zolgensma")
    assert "0 SMN1 copies (homozygous deletion); 2 copies of SMN2" in text
    assert "treatment without delay is recommended (Glascock et al." in text
    assert "prednisolone 5.2 mg/day (1 mg/kg/day)" in text and "FDA label §2.1" in text
    assert state.lmn["problem"]["detail"] == "No letter of medical necessity has been signed."


def test_the_physician_signs_with_the_password_and_the_packet_opens_with_the_signed_letter(
    client, cast, unsigned_case, tmp_path
):
    client.force_login(cast.physician)
    response = _post(client, unsigned_case, sign="", password="wrong")
    assert response.status_code == 200
    assert "not your password" in str(response.context["form"].errors["password"])
    assert not MedicalNecessityLetter.objects.exists()
    with pytest.raises(PacketError, match="Still blocking: Letter of medical necessity"):
        packet_create(case=unsigned_case, by=cast.billing, final=True)

    response = _post(client, unsigned_case, sign="", password=PASSWORD)
    assert response.status_code == 302
    version = MedicalNecessityLetter.objects.get(case=unsigned_case)
    assert (version.version, version.is_signed, version.signer_npi) == (1, True, "1234567893")
    assert version.signer_specialty == "Child neurology" and version.signer_credentials == "MD"
    packet = packet_create(case=unsigned_case, by=cast.billing, final=True)
    pages = pdf_pages(packet.file.read(), tmp_path)
    first = _flat(pages[0])
    assert "Letter of medical necessity" in first and "Dear Medical Director" in first
    assert "Child neurology · Individual NPI 1234567893" in first
    assert f"fingerprint {version.fingerprint[:16]}" in _flat(pages[0] + pages[1])


def test_an_edit_after_signing_is_a_new_version_that_needs_a_new_signature(client, cast, unsigned_case):
    first = sign_letter(unsigned_case, cast.physician)
    client.force_login(cast.physician)
    edited = letter_state(unsigned_case).text + "\n\nShe has lost head control since the last visit."
    response = _post(client, unsigned_case, body=edited, save="")
    assert response.status_code == 302
    latest = MedicalNecessityLetter.objects.filter(case=unsigned_case).order_by("-version").first()
    assert latest.version == 2 and not latest.is_signed
    first.refresh_from_db()
    assert first.is_signed  # the signed version stays on file, unchanged
    with pytest.raises(PacketError, match="Letter of medical necessity"):
        packet_create(case=unsigned_case, by=cast.billing, final=True)
    problem = packet_snapshot(packet_case(unsigned_case.pk))["lmn"]["problem"]["detail"]
    assert problem == "Version 2 (edited after an earlier version was signed) is not signed by the prescriber."
    # A signed version is never changed in place.
    first.body = "Something else"
    with pytest.raises(ValueError, match="fingerprint"):
        first.save()


def test_a_change_to_the_case_after_signing_asks_for_a_new_signature(cast, unsigned_case, today):
    sign_letter(unsigned_case, cast.physician)
    WeightMeasurement.objects.create(case=unsigned_case, measured_on=today - timedelta(days=1), kg=Decimal("5.6"))
    with pytest.raises(PacketError, match="Letter of medical necessity"):
        packet_create(case=unsigned_case, by=cast.billing, final=True)
    lmn = packet_snapshot(packet_case(unsigned_case.pk))["lmn"]
    assert lmn["problem"]["detail"].startswith("The case changed since version 1 was signed: Weight: 5.2 kg on")
    assert any(c.startswith("Weight:") and "→ 5.6 kg" in c for c in lmn["changes"])
    assert lmn["signed"] is None
    sign_letter(unsigned_case, cast.physician)
    assert packet_create(case=unsigned_case, by=cast.billing, final=True).final


def test_only_the_cases_ordering_physician_with_an_npi_on_file_signs(cast, unsigned_case):
    other = make_user("dr_other", "physician", cast.site_a)
    state = letter_state(unsigned_case)
    with pytest.raises(LetterError, match="individual NPI and specialty are not on file"):
        letter_save(case=unsigned_case, body=state.text, based_on=0, by=other, sign=True)
    prescriber(other, npi="1987654328")
    with pytest.raises(LetterError, match="names Dr. Priya Raman .NPI 1234567893. as the ordering physician"):
        letter_save(case=unsigned_case, body=state.text, based_on=0, by=other, sign=True)
    unsigned_case.ordering_physician_specialty = "neurology"
    unsigned_case.save()
    with pytest.raises(LetterError, match="specialty as Neurology; your profile says Child neurology"):
        letter_save(case=unsigned_case, body=state.text, based_on=0, by=cast.physician, sign=True)
    assert not MedicalNecessityLetter.objects.filter(signed_at__isnull=False).exists()


def test_a_save_over_a_newer_version_is_refused_and_keeps_the_text(client, cast, unsigned_case):
    letter_save(case=unsigned_case, body="First text.", based_on=0, by=cast.physician)
    client.force_login(cast.physician)
    response = _post(client, unsigned_case, body="My text.", based_on=0, save="")
    assert response.status_code == 200
    assert "Version 1 of the letter was saved after you opened it" in response.content.decode()
    assert "My text." in response.content.decode()
    assert MedicalNecessityLetter.objects.count() == 1


def test_billing_reads_the_letter_but_only_the_physician_edits_it(client, cast, unsigned_case):
    client.force_login(cast.billing)
    page = client.get(reverse("billing:letter", args=[unsigned_case.pk]))
    assert page.status_code == 200 and "I am writing to request coverage" in page.content.decode()
    assert "<textarea" not in page.content.decode()
    assert _post(client, unsigned_case, save="").status_code == 403
    client.force_login(cast.outsider)
    assert client.get(reverse("billing:letter", args=[unsigned_case.pk])).status_code == 404


def test_after_a_denial_the_letter_asks_for_reconsideration_and_says_what_is_new(cast, unsigned_case, today, tmp_path):
    sign_letter(unsigned_case, cast.physician)
    pa = PriorAuthorization.objects.create(case=unsigned_case, payer=unsigned_case.payer, status="denied")
    denied_on = today - timedelta(days=10)
    PAEvent.objects.create(
        prior_authorization=pa, from_status="submitted", to_status="denied", on=denied_on, denial_reason="titer",
        note="Denial letter: AAV9 titer not documented.",
    )  # fmt: skip
    TiterResult.objects.create(
        case=unsigned_case, drawn_on=today - timedelta(days=1), lab="Lab", result_text="<1:25",
        result_key=parse_titer("<1:25").key,
    )  # fmt: skip
    lmn = packet_snapshot(packet_case(unsigned_case.pk))["lmn"]
    assert "Letter type: Initial request → Reconsideration after a denial" in lmn["changes"]
    text = letter_state(unsigned_case).text
    assert text.startswith(f"I am writing to ask you to reconsider your denial, dated {day_text(denied_on)}")
    assert "“AAV9 titer not documented.”" in text
    assert f"New since the denial: anti-AAV9 titer <1:25 drawn {day_text(today - timedelta(days=1))}" in text
    sign_letter(unsigned_case, cast.physician)
    assert MedicalNecessityLetter.objects.get(case=unsigned_case, version=2).kind == "appeal"
    first = _flat(pdf_pages(packet_create(case=unsigned_case, by=cast.billing, final=True).file.read(), tmp_path)[0])
    assert "reconsider your denial" in first


def test_an_infusion_given_without_an_approval_gets_a_post_service_letter(cast, unsigned_case, tmp_path):
    unsigned_case.infused_on = unsigned_case.planned_infusion_date
    unsigned_case.save()
    state = letter_state(unsigned_case)
    infused = day_text(unsigned_case.infused_on)
    assert dict(state.lmn["facts"])["Request"] == f"post-service request for the infusion given on {infused}"
    assert "which Ava Ready (date of birth" in state.text and f"received on {infused}" in state.text
    assert "We request" not in state.text
    sign_letter(unsigned_case, cast.physician)
    pages = pdf_pages(packet_create(case=unsigned_case, by=cast.billing, final=True).file.read(), tmp_path)
    assert f"received on {infused}" in _flat(pages[0])
    assert PAPacket.objects.get(case=unsigned_case).snapshot["request"]["kind"] == "retro"


def test_the_signature_reads_in_the_case_history_as_a_signature(cast, unsigned_case):
    """Issue 18 item 3 on main's letter: signing is a "signatures" line, not a field dump."""
    from cases.audit import AuditHistory

    sign_letter(unsigned_case, cast.physician)
    signed = AuditHistory(unsigned_case, kind="signatures")[:10]
    assert [r.what for r in signed] == [f"Letter of medical necessity signed by {cast.physician.get_full_name()}"]
    added = [r for r in AuditHistory(unsigned_case, kind="changes")[:50] if r.what.startswith("Medical")]
    assert added and not any("Fingerprint" in c or "Body" in c for r in added for c in r.changes)
