"""The Da Vinci PAS request Bundle: built from the packet's facts, conformant to PAS 2.0.1, and
refused when the final-packet rule or the profiles say no (billing/pas/bundle.py, conformance.py)."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime

import pytest

from billing.models import PAStatus
from billing.pa import pa_start, pa_transition
from billing.pas import profiles as P
from billing.pas.bundle import human_name, inquiry_bundle
from billing.pas.conformance import inquiry_problems, parse_problems, request_problems
from billing.pas.workflow import pas_build
from tests.billing.helpers import make_ready_case, sign_letter


def _resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_ref(bundle, ref):
    return next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == ref["reference"])


@pytest.fixture
def built(ready_case, cast):
    pa_start(case=ready_case, by=cast.billing)
    return pas_build(ready_case, request_id="req-0001")


def test_the_request_for_a_ready_case_conforms_to_pas_2_0_1(built):
    assert built.sendable, (built.blockers, built.error, [str(p) for p in built.problems])
    assert request_problems(built.bundle) == []
    assert parse_problems(built.bundle) == []
    assert built.bundle["meta"]["profile"] == [f"{P.REQUEST_BUNDLE}|2.0.1"]
    assert built.bundle["type"] == "collection"
    assert built.bundle["entry"][0]["resource"]["resourceType"] == "Claim"


def test_the_claim_asks_for_j3399_once_with_the_kit_ndc_and_the_administration(built):
    claim = built.bundle["entry"][0]["resource"]
    assert claim["use"] == "preauthorization" and claim["status"] == "active"
    drug, admin = claim["item"]
    assert drug["productOrService"]["coding"][0] == {
        "system": P.HCPCS,
        "code": "J3399",
        "display": drug["productOrService"]["coding"][0]["display"],
    }
    assert drug["quantity"] == {"value": 1}
    medication = _by_ref(
        built.bundle, next(e for e in drug["extension"] if e["url"] == P.EXT_REQUESTED_SERVICE)["valueReference"]
    )
    assert medication["medicationCodeableConcept"]["coding"][0]["system"] == P.NDC
    assert medication["medicationCodeableConcept"]["coding"][0]["code"] == built.snapshot["service"]["kit"]["ndc_11"]
    assert (
        admin["productOrService"]["coding"][0]["code"] == "96365"
        and admin["productOrService"]["coding"][0]["system"] == P.CPT
    )
    assert drug["servicedDate"] == built.snapshot["service"]["planned_infusion_date"]
    assert drug["locationCodeableConcept"]["coding"][0]["code"] == "21"
    cert = next(e for e in drug["extension"] if e["url"] == P.EXT_CERTIFICATION_TYPE)
    assert cert["valueCodeableConcept"]["coding"][0] == {
        "system": P.X12_CERTIFICATION_TYPE,
        "code": "I",
        "display": "Initial",
    }


def test_the_parties_carry_npis_member_id_and_the_insurer(built):
    claim = built.bundle["entry"][0]["resource"]
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in claim["diagnosis"]] == ["G12.0", "Z82.0"]
    assert claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["system"] == P.ICD10CM
    requestor = _by_ref(built.bundle, claim["provider"])
    assert {"system": P.NPI, "value": "1245319599"} in requestor["identifier"]
    role = _by_ref(built.bundle, claim["careTeam"][0]["provider"])
    practitioner = _by_ref(built.bundle, role["practitioner"])
    assert practitioner["identifier"] == [{"system": P.NPI, "value": "1234567893"}]
    assert practitioner["name"][0]["family"] == "Raman"
    assert _by_ref(built.bundle, claim["insurer"])["name"] == "Aetna"
    coverage = _by_ref(built.bundle, claim["insurance"][0]["coverage"])
    assert coverage["subscriberId"] == "MBR-445566"
    patient = _by_ref(built.bundle, claim["patient"])
    assert patient["gender"] == "female" and any(i["value"] == "MBR-445566" for i in patient["identifier"])


def test_supporting_information_holds_the_signed_letter_reports_and_coded_results(built):
    bundle = built.bundle
    docs = _resources(bundle, "DocumentReference")
    titles = [d["description"] for d in docs]
    assert titles[0].startswith("Letter of medical necessity, version 1, signed")
    assert base64.b64decode(docs[0]["content"][0]["attachment"]["data"]).startswith(b"%PDF")
    assert any("Genetic report" in t for t in titles) and any("titer report" in t for t in titles)
    observations = _resources(bundle, "Observation")
    codes = {c["code"]: o for o in observations for c in o["code"].get("coding", [])}
    assert codes["29463-7"]["valueQuantity"] == {"value": 5.2, "unit": "kg", "system": P.UCUM, "code": "kg"}
    assert codes["1742-6"]["valueQuantity"]["code"] == "U/L"  # ALT, LOINC + UCUM
    assert codes["777-3"]["valueQuantity"]["code"] == "10*9/L"  # platelets
    titer = next(o for o in observations if o["code"].get("text", "").startswith("Anti-AAV9"))
    assert titer["valueString"] == "1:25"
    claim = bundle["entry"][0]["resource"]
    categories = [s["category"]["coding"][0]["code"] for s in claim["supportingInfo"]]
    assert categories[0] == "patientEvent" and categories.count("additionalInformation") == len(docs) + len(
        observations
    )


def test_a_reconsideration_after_a_denial_is_certification_type_n_and_quotes_the_denial(ready_case, cast, today):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to=PAStatus.SUBMITTED, by=cast.billing, on=today, reference_number="REF-77")
    pa_transition(pa=pa, to=PAStatus.DENIED, by=cast.billing, on=today, denial_reason="titer", note="Titer too old.")
    sign_letter(ready_case, cast.physician)  # the appeal letter is a new kind: signed again
    built = pas_build(ready_case, request_id="req-0002")
    assert built.sendable, (built.blockers, built.error, [str(p) for p in built.problems])
    claim = built.bundle["entry"][0]["resource"]
    cert = next(e for e in claim["item"][0]["extension"] if e["url"] == P.EXT_CERTIFICATION_TYPE)
    assert cert["valueCodeableConcept"]["coding"][0]["code"] == "N"
    assert {"url": P.EXT_ADMIN_REFERENCE, "valueString": "REF-77"} in claim["item"][0]["extension"]
    message = next(s for s in claim["supportingInfo"] if s["category"]["coding"][0]["code"] == "freeFormMessage")
    assert "Titer too old" in message["valueString"] and len(message["valueString"]) <= 264


def test_an_unsigned_letter_blocks_the_request_like_a_final_packet(cast, payer, today):
    case = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-U")
    pa_start(case=case, by=cast.billing)
    built = pas_build(case, request_id="req-0003")
    assert not built.sendable
    assert "Letter of medical necessity" in built.blockers


def test_a_failing_gate_blocks_the_request(cast, payer, today):
    case = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-G", ordering_physician_npi="1234567890")
    built = pas_build(case, request_id="req-0004")
    assert any("NPI" in b for b in built.blockers)


def test_the_check_names_what_breaks_the_profiles(built):
    bad = copy.deepcopy(built.bundle)
    claim = bad["entry"][0]["resource"]
    claim["use"] = "claim"
    del claim["item"][0]["category"]
    claim["insurance"][0]["focal"] = False
    claim["careTeam"][0]["extension"] = []
    claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["system"] = "http://snomed.info/sct"
    bad["entry"].append(copy.deepcopy(bad["entry"][0]))  # a second Claim, and a duplicate fullUrl
    problems = [str(p) for p in request_problems(bad)]
    expected = [
        "Claim.use: fixed value 'preauthorization' required",
        "Claim.item[0].category: required (1..1, PASClaim)",
        "Claim.insurance[0].focal: fixed value True required",
        "Claim.careTeam[0].extension:careTeamClaimScope: exactly one, with valueBoolean (1..1, PASClaimBase)",
        "Bundle.entry[",  # duplicate fullUrl
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)
    assert any("Claim entries required" in p for p in problems)
    assert any(p.startswith("Claim.diagnosis[0].diagnosisCodeableConcept") for p in problems)


def test_a_reference_outside_the_bundle_and_a_claim_not_first_are_refused(built):
    bad = copy.deepcopy(built.bundle)
    bad["entry"] = [e for e in bad["entry"] if e["resource"]["resourceType"] != "Coverage"]
    bad["entry"].append(bad["entry"].pop(0))
    problems = [str(p) for p in request_problems(bad)]
    assert "Bundle.entry[0]: the Claim must be the first entry" in problems
    assert any("references a resource not in the Bundle" in p for p in problems)


def test_problems_never_quote_patient_values(built):
    bad = copy.deepcopy(built.bundle)
    patient = _resources(bad, "Patient")[0]
    patient["gender"] = "Ava Ready"
    text = json.dumps([str(p) for p in request_problems(bad)])
    assert "Ava Ready" not in text and "MRN-R1" not in text


def test_the_inquiry_repeats_the_request_identifier_and_conforms(built):
    inquiry = inquiry_bundle(built.bundle, inquiry_id="inq-1", identifier_system="http://x/sid/pas-inquiry",
                             created=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # fmt: skip
    assert inquiry_problems(inquiry) == []
    claim = inquiry["entry"][0]["resource"]
    assert claim["meta"]["profile"] == [f"{P.CLAIM_INQUIRY}|2.0.1"]
    assert claim["identifier"] == built.bundle["entry"][0]["resource"]["identifier"]
    assert "supportingInfo" not in claim and not _resources(inquiry, "DocumentReference")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Priya Raman", {"text": "Dr. Priya Raman", "family": "Raman", "given": ["Priya"], "prefix": ["Dr."]}),
        ("Ava Ready", {"text": "Ava Ready", "family": "Ready", "given": ["Ava"]}),
        ("Cher", {"text": "Cher", "family": "Cher"}),
        ("Jo Ann Smith MD", {"text": "Jo Ann Smith MD", "family": "Smith", "given": ["Jo", "Ann"], "suffix": ["MD"]}),
    ],
)
def test_names_split_into_fhir_human_names(text, expected):
    assert human_name(text) == expected
