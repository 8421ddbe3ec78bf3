"""The patient's home address on the 837: N3/N4 in loop 2010BA (the patient is the subscriber),
from the stored claim's patient facts; no address, no file (and the claim page says why)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.claims.lines import claim_summary
from billing.claims.store import current_claim
from billing.claims.x12 import ADDRESS_MISSING, Envelope, X12Refused, claim_837, refusal
from cases.infusion.models import InfusionRecord
from cases.models import Patient
from tests.infusion.factories import make_record, payer, ready_case
from tests.infusion.test_claim_documents_agree import demo  # noqa: F401, F811  (fixture: the seeded demo)
from tests.infusion.test_claim_shapes import NOW, segments, validate


def _signed(cast, pos="22", *, address=None, **payer_fields):
    case = ready_case(cast.site_a, name="Addressed Child", mrn="MRN-ADDR", address=address)
    case.site_of_care_pos = pos
    case.payer = payer("Address Health", **payer_fields)
    case.save()
    make_record(case, cast.coordinator, signed_by=cast.physician)
    return case


def _subscriber_loop(segs: list[list[str]]) -> list[list[str]]:
    start = next(i for i, s in enumerate(segs) if s[0] == "NM1" and s[1] == "IL")
    end = next(i for i, s in enumerate(segs) if s[0] == "NM1" and s[1] == "PR")
    return segs[start:end]


@pytest.mark.parametrize(("pos", "payer_fields"), [("22", {}), ("11", {"allowed_pos": ["11"]})])
def test_the_subscriber_address_is_n3_n4_in_loop_2010ba_and_passes_pyx12(cast, pos, payer_fields):
    case = _signed(cast, pos, **payer_fields)
    text = claim_837(claim_summary(case, InfusionRecord.objects.get(case=case)), Envelope(now=NOW, control=3))
    assert validate(text) == []
    loop = _subscriber_loop(segments(text))
    assert [s[0] for s in loop] == ["NM1", "N3", "N4", "DMG"]
    assert loop[1] == ["N3", "12 Elm Street", "Apt 3"] and loop[2] == ["N4", "Northfield", "MA", "01360"]


def test_a_zip_plus_4_and_a_single_street_line(cast):
    address = dict(address_line1="9 Oak Rd", city="Chicago", state="IL", zip_code="606142200")
    case = _signed(cast, address=address)
    text = claim_837(claim_summary(case, InfusionRecord.objects.get(case=case)), Envelope(now=NOW, control=4))
    assert validate(text) == []
    loop = _subscriber_loop(segments(text))
    assert loop[1] == ["N3", "9 Oak Rd"] and loop[2] == ["N4", "Chicago", "IL", "606142200"]


def test_the_address_is_part_of_the_stored_claim_not_read_live(cast):
    case = _signed(cast)
    stored = current_claim(case)
    assert stored.summary.patient.city == "Northfield"
    Patient.objects.filter(pk=case.patient_id).update(city="Greenfield", zip_code="01301")
    case.refresh_from_db()
    assert stored.summary.patient.city == "Northfield"  # the old version keeps what it was built with
    newer = current_claim(case)
    assert newer.version == stored.version + 1 and newer.summary.patient.city == "Greenfield"


def test_a_missing_address_stops_the_export_and_the_claim_page_says_where_to_enter_it(cast, client):
    case = _signed(cast, address={})
    with pytest.raises(X12Refused, match="home address"):
        claim_837(claim_summary(case, InfusionRecord.objects.get(case=case)), Envelope(now=NOW, control=1))
    client.force_login(cast.billing)
    response = client.get(reverse("billing:claim_x12", args=[case.pk]), follow=True)
    body = response.content.decode()
    assert response.redirect_chain and "file was not made" in body
    assert "Edit page (Patient → Home address)" in body
    page = client.get(reverse("billing:claim", args=[case.pk])).content.decode()
    assert 'id="x12-unavailable"' in page and "Home address" in page
    assert reverse("billing:claim_x12", args=[case.pk]) not in page  # no link, a disabled button
    assert "disabled" in page[page.index("Download X12") - 200 : page.index("Download X12")]


def test_a_complete_claim_page_links_the_x12_file(cast, client):
    case = _signed(cast)
    client.force_login(cast.billing)
    page = client.get(reverse("billing:claim", args=[case.pk])).content.decode()
    assert reverse("billing:claim_x12", args=[case.pk]) in page and 'id="x12-unavailable"' not in page


def test_the_message_names_what_to_enter_and_where():
    assert "street, city, state and ZIP code" in ADDRESS_MISSING and "Edit page" in ADDRESS_MISSING


def test_every_demo_claim_carries_the_patients_address_and_passes_pyx12(demo):  # noqa: F811
    exported = 0
    for key, record in demo.items():
        case = record.case
        summary = current_claim(case).summary
        patient = case.patient
        assert summary.patient.has_address and summary.patient.zip_code == patient.zip_code, key
        assert ADDRESS_MISSING not in refusal(summary), key
        if refusal(summary):
            continue
        text = claim_837(summary, Envelope(now=NOW, control=9))
        assert validate(text) == [], key
        loop = _subscriber_loop(segments(text))
        assert loop[1][:2] == ["N3", patient.address_line1], key
        assert loop[2] == ["N4", patient.city, patient.state, patient.zip_code], key
        exported += 1
    assert exported >= 1
