"""Prescriber and facility identifiers (issue 17 item 2): specialty, an individual NPI that is not
the facility's, the facility's TIN, phone and fax, validated at entry and printed on the packet."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from accounts.models import PrescriberProfile, Site
from billing.claims.rules import provider_findings
from billing.packet import PacketError, packet_create
from billing.packet_rules import identifier_problems
from cases.forms import CaseForm
from common.identifiers import validate_tin, validate_us_phone
from tests.billing.conftest import pdf_text

GOOD = dict(physician_name="Dr. A", physician_npi="1234567893", facility_npi="1245319599")
SITE = dict(site_tin="04-1234567", site_phone="(617) 555-0100", site_fax="(617) 555-0101")


def test_tin_and_phone_are_checked_and_written_one_way():
    assert validate_tin("041234567") == validate_tin(" 04-1234567 ") == "04-1234567"
    assert validate_us_phone("+1 617.555.0100") == validate_us_phone("6175550100") == "(617) 555-0100"
    for bad, message in (("04-123456", "8 digits"), ("00-1234567", "00"), ("04-12345x7", "digits only")):
        with pytest.raises(ValueError, match=message):
            validate_tin(bad)
    for bad, message in (("555-0100", "7 digits"), ("(117) 555-0100", "2-9"), ("(617) 155-0100", "2-9")):
        with pytest.raises(ValueError, match=message):
            validate_us_phone(bad)


def test_identifier_problems_name_the_facility_npi_in_the_physicians_place():
    assert identifier_problems(**GOOD, **SITE) == []
    same = identifier_problems(**{**GOOD, "physician_npi": "1245319599"}, **SITE)
    assert [p.title for p in same] == ["Ordering physician NPI"]
    assert "facility's NPI" in same[0].detail and "Type 1" in same[0].fix
    invalid = identifier_problems(**{**GOOD, "physician_npi": "1234567890"}, **SITE)
    assert "check digit" in invalid[0].detail
    missing = identifier_problems(**GOOD, site_tin="", site_phone="", site_fax="(617) 555-0101")
    assert missing[0].detail == "The treatment site's tax id (TIN), office phone are not recorded."


def test_the_claim_scrubber_flags_the_facility_npi_as_the_ordering_physicians():
    assert provider_findings("1234567893", "1245319599") == []
    (finding,) = provider_findings("1245319599", "1245319599")
    assert finding.code == "ordering_npi_is_facility" and finding.severity == "error"
    assert provider_findings("", "1245319599")[0].code == "ordering_npi_missing"


@pytest.mark.django_db
def test_the_case_form_refuses_a_facility_npi_for_the_physician(cast):
    form = CaseForm(data={"ordering_physician_npi": cast.site_a.npi})
    form.is_valid()
    assert "facility NPI (Type 2)" in form.errors["ordering_physician_npi"][0]
    form = CaseForm(data={"ordering_physician_npi": "1234567893"})
    form.is_valid()
    assert "ordering_physician_npi" not in form.errors


@pytest.mark.django_db
def test_site_and_profile_validate_their_identifiers(cast):
    site = Site(**{f.name: getattr(cast.site_a, f.name) for f in Site._meta.fields if f.name != "id"})
    site.name, site.short_code, site.tin, site.phone = "New", "NEW", "041234567", "617 555 0100"
    site.full_clean()
    assert (site.tin, site.phone) == ("04-1234567", "(617) 555-0100")
    site.fax = "555-01"
    with pytest.raises(ValidationError, match="not a US phone number"):
        site.full_clean()
    profile = PrescriberProfile(user=cast.physician, npi=cast.site_a.npi, specialty="neurology")
    with pytest.raises(ValidationError, match="facility NPI"):
        profile.full_clean()


@pytest.mark.django_db
def test_a_final_packet_refuses_the_facility_npi_and_the_draft_says_why(ready_case, cast, tmp_path):
    ready_case.ordering_physician_npi = ready_case.site.npi
    ready_case.save()
    with pytest.raises(PacketError, match="Ordering physician NPI"):
        packet_create(case=ready_case, by=cast.billing, final=True)
    draft = packet_create(case=ready_case, by=cast.billing, final=False)
    text = re.sub(r"\s+", " ", pdf_text(draft.file.read(), tmp_path))
    assert "is the facility's NPI (an organization, Type 2), not the physician's" in text


@pytest.mark.django_db
def test_the_packet_prints_specialty_tin_phone_and_fax(ready_case, cast, tmp_path):
    ready_case.ordering_physician_specialty = "neuromuscular"
    ready_case.save()
    text = re.sub(
        r"\s+", " ", pdf_text(packet_create(case=ready_case, by=cast.billing, final=False).file.read(), tmp_path)
    )
    for expected in ("Neuromuscular medicine", "TIN 04-1234567", "Phone (617) 555-0100", "Fax (617) 555-0101"):
        assert expected in text, expected
