"""The Da Vinci PAS request Bundle, built from the PA packet's snapshot (billing.packet.packet_snapshot).

Pure functions over plain values: the snapshot (what the packet prints), ``RequestFacts`` (the
identifiers and codes the printed packet words differently) and the attachments' bytes. The
workflow (billing/pas/workflow.py) gathers them and stores the result; whatever is built here is
checked by billing/pas/conformance.py before it may leave.

What goes in (PAS 2.0.1, billing/pas/profiles.py):
1. Claim (PAS Claim): use = preauthorization; the J3399 item (HCPCS, 1 unit, the kit's NDC through
   the requestedService MedicationRequest), the administration items (CPT 96365, 96366 only past 90
   minutes), the ICD-10-CM diagnoses, the requested service date, the certification type (initial,
   or reconsideration after a denial), the requesting facility (provider), the prescriber (care
   team, NPI), the insurer, the coverage, and supporting information.
2. Supporting information: the signed letter of medical necessity and the chosen reports as
   DocumentReference attachments; the anti-AAV9 titer, the weight and the baseline labs as
   Observations (LOINC and UCUM where a code exists).
3. Patient (beneficiary), subscriber, Coverage, insurer and requestor Organizations,
   Practitioner and PractitionerRole, MedicationRequest.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from billing.pas import profiles as P
from cases.analytes import LAB_ANALYTE_NAMES
from monitoring.inbox.codes import LOINC as LOINC_CODES
from monitoring.inbox.codes import UCUM_UNITS

# Body weight (LOINC 29463-7, UCUM kg): the US Core body-weight code.
WEIGHT_LOINC = ("29463-7", "Body weight")
# The anti-AAV9 total binding antibody titer has no LOINC code GeneGate could verify: it goes with
# its name as text, the lab's method and the result as the lab reports it (e.g. "1:25").
TITER_TEXT = "Anti-AAV9 total binding antibody titer"
MESSAGE_MAX = 264  # X12 MSG01 is at most 264 characters: a free-form message longer than that is cut
_NAMESPACE = uuid.UUID("5d0c1b0e-6f4e-4e57-9a51-3c1f0a9d2b77")  # GeneGate's PAS resource ids


class BundleError(ValueError):
    """The request cannot be built from these facts; the message is for the user."""


@dataclass(frozen=True)
class Document:
    """An attachment: the signed letter or a report, with its bytes."""

    role: str  # "lmn", "genetic_report", "titer_report": names the resource, not shown
    title: str
    content_type: str
    data: bytes
    created_on: str  # ISO date
    by_prescriber: bool = False


@dataclass(frozen=True)
class RequestFacts:
    """What the request needs beyond the packet snapshot."""

    sid_base: str  # GeneGate's identifier namespace, e.g. https://genegate.example.org/fhir/sid
    site_id: int
    payer_id: int | None
    payer_x12_id: str = ""
    sex: str = "U"  # F, M or U
    group_number: str = ""
    subscriber_name: str = ""
    subscriber_relationship: str = ""  # X12 1069 code
    billing_address: dict | None = None  # line, city, state, postal_code
    charges: dict = field(default_factory=dict)  # code → (revenue code, amount text)
    expedited: bool = False
    payer_reference: str = ""  # the payer's reference of a denied request (reconsideration)


# --- Small builders --------------------------------------------------------------------------------
def _id(request_id: str, role: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{request_id}/{role}"))


def _ref(resource_id: str) -> dict:
    return {"reference": f"urn:uuid:{resource_id}"}


def _coding(system: str, code: str, display: str = "") -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _concept(system: str, code: str, display: str = "") -> dict:
    return {"coding": [_coding(system, code, display)]}


def _number(text) -> int | float:
    """A JSON number from a decimal string ("0.60" → 0.6): exact for the few places labs carry."""
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        raise BundleError(f"{text!r} is not a number.") from None
    return int(value) if value == value.to_integral_value() else float(value)


def _digits(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def human_name(full: str) -> dict:
    """A HumanName from "Dr. Priya Raman": prefix Dr., given Priya, family Raman."""
    parts = (full or "").replace(",", " ").split()
    prefix = []
    while parts and parts[0].rstrip(".").lower() in ("dr", "prof", "mr", "mrs", "ms"):
        prefix.append(parts.pop(0))
    suffix = []
    while len(parts) > 1 and parts[-1].rstrip(".").upper() in ("MD", "DO", "PHD", "JR", "SR", "II", "III"):
        suffix.insert(0, parts.pop())
    name: dict = {"text": " ".join(full.split())} if full else {}
    if parts:
        name["family"] = parts[-1]
        if parts[:-1]:
            name["given"] = parts[:-1]
    if prefix:
        name["prefix"] = prefix
    if suffix:
        name["suffix"] = suffix
    return name


def _sid(facts: RequestFacts, path: str) -> str:
    return f"{facts.sid_base.rstrip('/')}/{path}"


def request_identifier(facts: RequestFacts, request_id: str) -> dict:
    """The request's identifier (Bundle.identifier, Claim.identifier: X12 TRN, the trace number)."""
    return {"system": _sid(facts, "pas-request"), "value": request_id}


def _gender(code: str) -> str:
    return {"F": "female", "M": "male"}.get(code, "unknown")


# --- Request --------------------------------------------------------------------------------------
def certification_for(snapshot: dict) -> str:
    """X12 1322 certification type for the request the PA history calls for (billing.packet's
    request kind): initial, or reconsideration after a denial. A post-service request is not a
    prior authorization: BundleError."""
    kind = snapshot["request"]["kind"]
    if kind == "initial":
        return P.CERT_INITIAL
    if kind == "appeal":
        return P.CERT_RECONSIDERATION
    raise BundleError(
        "The infusion was already given without an approval: that is a post-service (retrospective) request, "
        "which goes with the claim, not as a Da Vinci PAS prior authorization."
    )


def request_bundle(
    s: dict, facts: RequestFacts, *, request_id: str, created: datetime, documents: list[Document]
) -> dict:
    """Return the PAS request Bundle (a JSON-ready dict) for packet snapshot ``s``.

    Steps:
    1. Certification type from the PA history (certification_for): I, or N after a denial.
    2. The parties: beneficiary Patient (MRN, member ID), subscriber, Coverage (member ID, group,
       relationship), insurer and requestor Organizations, the prescriber's Practitioner (NPI) and
       PractitionerRole, the MedicationRequest carrying the kit NDC.
    3. Supporting information: the requested service date (patientEvent), each document as a
       DocumentReference, the titer, weight and labs as Observations, and for a reconsideration a
       free-form message quoting the denial.
    4. Items: J3399 × 1 (HCPCS; requestedService → the MedicationRequest), then the administration
       CPT codes, each on the requested date at the case's place of service.
    5. The Claim first, then every resource it references, each with a urn:uuid fullUrl.
    """
    certification = certification_for(s)
    kit = s["service"]["kit"]
    if kit is None:
        raise BundleError("No kit for the current weight: record a weight between 2.6 and 21.0 kg.")
    service_on = s["service"]["planned_infusion_date"]
    if not service_on:
        raise BundleError("No planned infusion date: set it on the case.")
    rid = {role: _id(request_id, role) for role in ("claim", "patient", "subscriber", "coverage", "insurer",
                                                     "requestor", "practitioner", "role", "medication")}  # fmt: skip
    timestamp = created.isoformat(timespec="seconds")
    entries: list[dict] = []

    # 2. Parties ----------------------------------------------------------------------------------
    member_id = s["coverage"]["member_id"]
    member_system = _sid(facts, f"payer-{facts.payer_id or 0}/member-id")
    patient = {
        "resourceType": "Patient",
        "id": rid["patient"],
        "meta": {"profile": [P.versioned(P.BENEFICIARY)]},
        "identifier": [
            {
                "type": _concept(P.IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": _sid(facts, f"site-{facts.site_id}/mrn"),
                "value": s["patient"]["mrn"],
            }
        ],
        "name": [human_name(s["patient"]["name"])],
        "gender": _gender(facts.sex),
        "birthDate": s["patient"]["date_of_birth"],
    }
    if member_id:
        patient["identifier"].append(
            {"type": _concept(P.IDENTIFIER_TYPE, "MB", "Member number"), "system": member_system, "value": member_id}
        )
    self_subscriber = facts.subscriber_relationship == "18" or not facts.subscriber_name
    subscriber_ref = _ref(rid["patient"]) if self_subscriber and facts.subscriber_relationship == "18" else None
    subscriber = None
    if not self_subscriber:
        subscriber = {
            "resourceType": "Patient",
            "id": rid["subscriber"],
            "meta": {"profile": [P.versioned(P.SUBSCRIBER)]},
            "identifier": [
                {
                    "type": _concept(P.IDENTIFIER_TYPE, "MB", "Member number"),
                    "system": member_system,
                    "value": member_id or "unknown",
                }
            ],  # fmt: skip
            "name": [human_name(facts.subscriber_name)],
            "gender": "unknown",
        }
        subscriber_ref = _ref(rid["subscriber"])

    insurer = {
        "resourceType": "Organization",
        "id": rid["insurer"],
        "meta": {"profile": [P.versioned(P.INSURER)]},
        "active": True,
        "type": [_concept(P.X12_ENTITY, P.ENTITY_PAYER, "Payer")],
        "name": s["coverage"]["payer"] or "Payer not recorded",
    }
    if facts.payer_x12_id:
        insurer["identifier"] = [
            {"type": {"text": "Payer ID (X12)"}, "system": _sid(facts, "x12-payer-id"), "value": facts.payer_x12_id}
        ]

    site = s["site"]
    requestor = {
        "resourceType": "Organization",
        "id": rid["requestor"],
        "meta": {"profile": [P.versioned(P.REQUESTOR)]},
        "identifier": [{"system": P.NPI, "value": site["npi"]}],
        "active": True,
        "type": [_concept(P.X12_ENTITY, P.ENTITY_FACILITY, "Facility")],
        "name": site["name"],
    }
    if _digits(site.get("tin", "")):
        requestor["identifier"].append({"system": P.TIN, "value": _digits(site["tin"])})
    telecom = [
        {"system": k, "value": site[v], "use": "work"} for k, v in (("phone", "phone"), ("fax", "fax")) if site.get(v)
    ]
    if telecom:
        requestor["telecom"] = telecom
    requestor["address"] = [_address(facts.billing_address, site.get("address", ""))]

    physician = s["physician"]
    practitioner = {
        "resourceType": "Practitioner",
        "id": rid["practitioner"],
        "meta": {"profile": [P.versioned(P.PRACTITIONER)]},
        "identifier": [{"system": P.NPI, "value": physician["npi"]}],
        "name": [human_name(physician["name"])],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": rid["role"],
        "meta": {"profile": [P.versioned(P.PRACTITIONER_ROLE)]},
        "practitioner": _ref(rid["practitioner"]),
        "organization": _ref(rid["requestor"]),
    }
    if physician.get("specialty"):
        role["specialty"] = [{"text": physician["specialty"]}]

    coverage = {
        "resourceType": "Coverage",
        "id": rid["coverage"],
        "meta": {"profile": [P.versioned(P.COVERAGE)]},
        "status": "active",
        "beneficiary": _ref(rid["patient"]),
        "payor": [_ref(rid["insurer"])],
    }
    if member_id:
        coverage["identifier"] = [{"type": _concept(P.IDENTIFIER_TYPE, "MB", "Member number"), "system": member_system,
                                   "value": member_id}]  # fmt: skip
        coverage["subscriberId"] = member_id
    if subscriber_ref:
        coverage["subscriber"] = subscriber_ref
    if facts.subscriber_relationship:
        coverage["relationship"] = _concept(P.X12_RELATIONSHIP, facts.subscriber_relationship)
    if facts.group_number:
        coverage["class"] = [
            {
                "type": _concept(P.COVERAGE_CLASS, "group", "Group"),
                "value": facts.group_number,
                **({"name": s["coverage"]["plan_name"]} if s["coverage"]["plan_name"] else {}),
            }
        ]

    medication = {
        "resourceType": "MedicationRequest",
        "id": rid["medication"],
        "meta": {"profile": [P.versioned(P.MEDICATION_REQUEST)]},
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [_coding(P.NDC, kit["ndc_11"], f"Zolgensma kit, weight band {kit['band']}")],
            "text": f"Zolgensma (onasemnogene abeparvovec-xioi) kit NDC {kit['ndc']}, weight band {kit['band']}",
        },
        "subject": _ref(rid["patient"]),
        "authoredOn": (s["lmn"].get("signed") or {}).get("on") or timestamp[:10],
        "requester": _ref(rid["practitioner"]),
        "dosageInstruction": [
            {
                "text": f"1.1 × 10^14 vector genomes/kg once, intravenous infusion over 60 minutes: "
                f"{kit['total_vg']} vg, {kit['dose_volume_ml']} mL ({kit['total_vials']} vials). FDA label §2.1.",
            }
        ],
        "dispenseRequest": {"quantity": {"value": 1, "unit": "kit"}},
    }

    # 3. Supporting information -----------------------------------------------------------------------
    supporting: list[dict] = [
        {
            "sequence": 1,
            "category": _concept(P.PAS_TEMP_CODES, "patientEvent", "Patient Event"),
            "timingDate": service_on,
        }
    ]
    attached: list[dict] = []

    def add_info(resource: dict) -> None:
        supporting.append(
            {
                "sequence": len(supporting) + 1,
                "category": _concept(P.PAS_TEMP_CODES, "additionalInformation", "Additional Information"),
                "valueReference": _ref(resource["id"]),
            }
        )
        attached.append(resource)

    for doc in documents:
        add_info(_document_reference(doc, request_id, rid))
    for n, titer in enumerate(s["titers"]):
        add_info(_titer_observation(titer, request_id, n, rid["patient"]))
    if s["weight"]["kg"]:
        add_info(_weight_observation(s["weight"], request_id, rid["patient"]))
    for lab in s["labs"]:
        add_info(_lab_observation(lab, request_id, rid["patient"]))
    if certification == P.CERT_RECONSIDERATION:
        r = s["request"]
        text = f"Reconsideration of the denial dated {r['denied_on']}: {r['denial_reason']}."
        if r.get("new_since"):
            text += " New since: " + "; ".join(r["new_since"]) + "."
        supporting.append(
            {
                "sequence": len(supporting) + 1,
                "category": _concept(P.PAS_TEMP_CODES, "freeFormMessage", "Free Form Message"),
                "valueString": text[:MESSAGE_MAX],
            }
        )

    # 4. Items --------------------------------------------------------------------------------------
    pos = site.get("pos") or ""
    diagnoses = [
        {
            "sequence": n,
            "diagnosisCodeableConcept": _concept(P.ICD10CM, d["code"], d["descriptor"]),
            "type": [_concept(P.PAS_TEMP_CODES, "principal", "Principal")] if n == 1 else [],
        }
        for n, d in enumerate(s["service"]["icd10"], start=1)
    ]
    for d in diagnoses:
        if not d["type"]:
            del d["type"]
    information = [i["sequence"] for i in supporting]

    def item(sequence: int, system: str, code: str, display: str, units: int, extra_ext: list[dict]) -> dict:
        out = {
            "extension": [
                {
                    "url": P.EXT_ITEM_TRACE_NUMBER,
                    "valueIdentifier": {"system": _sid(facts, "pas-item"), "value": f"{request_id}-{sequence}"},
                },
                {
                    "url": P.EXT_REQUEST_TYPE,
                    "valueCodeableConcept": _concept(
                        P.X12_REQUEST_TYPE, P.REQUEST_TYPE_HEALTH_SERVICES, "Health Services Review"
                    ),
                },
                {
                    "url": P.EXT_CERTIFICATION_TYPE,
                    "valueCodeableConcept": _concept(
                        P.X12_CERTIFICATION_TYPE, certification, P.CERTIFICATION_LABELS[certification]
                    ),
                },
                *extra_ext,
            ],  # fmt: skip
            "sequence": sequence,
            "careTeamSequence": [1],
            "diagnosisSequence": [d["sequence"] for d in diagnoses],
            "informationSequence": information,
            "category": _concept(P.X12_SERVICE_TYPE, P.SERVICE_TYPE_MEDICAL_CARE, "Medical Care"),
            "productOrService": _concept(system, code, display),
            "servicedDate": service_on,
            "quantity": {"value": units},
        }
        if pos:
            out["locationCodeableConcept"] = _concept(P.POS, pos, site.get("pos_name", ""))
        charge = facts.charges.get(code)
        if charge and pos in P.INSTITUTIONAL_POS:
            revenue, amount = charge
            out["revenue"] = _concept(P.NUBC_REVENUE, revenue)
            out["unitPrice"] = {"value": _number(amount), "currency": "USD"}
        return out

    drug_ext = [{"url": P.EXT_REQUESTED_SERVICE, "valueReference": _ref(rid["medication"])}]
    if certification == P.CERT_RECONSIDERATION and facts.payer_reference:
        drug_ext.append({"url": P.EXT_ADMIN_REFERENCE, "valueString": facts.payer_reference})
    hcpcs = s["service"]["hcpcs"]
    items = [item(1, P.HCPCS, hcpcs["code"], hcpcs["descriptor"], hcpcs["units"], drug_ext)]
    for admin in s["service"]["admin"]:
        items.append(item(len(items) + 1, P.CPT, admin["code"], admin["descriptor"], admin["units"], []))

    claim = {
        "resourceType": "Claim",
        "id": rid["claim"],
        "meta": {"profile": [P.versioned(P.CLAIM)]},
        "identifier": [request_identifier(facts, request_id)],
        "status": "active",
        "type": _concept(
            P.CLAIM_TYPE,
            *(("institutional", "Institutional") if pos in P.INSTITUTIONAL_POS else ("professional", "Professional")),
        ),  # fmt: skip
        "use": "preauthorization",
        "patient": _ref(rid["patient"]),
        "created": timestamp,
        "insurer": _ref(rid["insurer"]),
        "provider": _ref(rid["requestor"]),
        "priority": _concept(P.PROCESS_PRIORITY, *(("stat", "Immediate") if facts.expedited else ("normal", "Normal"))),
        "careTeam": [
            {
                "extension": [{"url": P.EXT_CARE_TEAM_SCOPE, "valueBoolean": True}],
                "sequence": 1,
                "provider": _ref(rid["role"]),
                "role": _concept(P.X12_ENTITY, P.ENTITY_ORDERING_PHYSICIAN, "Ordering Physician"),
            }
        ],
        "supportingInfo": supporting,
        "diagnosis": diagnoses,
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref(rid["coverage"])}],
        "item": items,
    }

    # 5. Assemble: the Claim first --------------------------------------------------------------------
    resources = [claim, patient, *([subscriber] if subscriber else []), coverage, insurer, requestor, practitioner,
                 role, medication, *attached]  # fmt: skip
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {
        "resourceType": "Bundle",
        "id": _id(request_id, "bundle"),
        "meta": {"profile": [P.versioned(P.REQUEST_BUNDLE)]},
        "identifier": request_identifier(facts, request_id),
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    }


def _address(billing: dict | None, text: str) -> dict:
    if billing:
        out = {"line": [billing["line"]], "city": billing["city"], "state": billing["state"],
               "postalCode": billing["postal_code"], "country": "US"}  # fmt: skip
        return out
    return {"text": " ".join((text or "").split()) or "not recorded", "country": "US"}


def _document_reference(doc: Document, request_id: str, rid: dict) -> dict:
    data = doc.data
    out = {
        "resourceType": "DocumentReference",
        "id": _id(request_id, f"doc-{doc.role}"),
        "status": "current",
        "type": {"text": doc.title},
        "subject": _ref(rid["patient"]),
        "date": f"{doc.created_on}T00:00:00Z" if len(doc.created_on) == 10 else doc.created_on,
        "description": doc.title,
        "content": [
            {
                "attachment": {
                    "contentType": doc.content_type,
                    "data": base64.b64encode(data).decode("ascii"),
                    "size": len(data),
                    # FHIR R4 Attachment.hash: base64 of the SHA-1 of the data.
                    "hash": base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode("ascii"),
                    "title": doc.title,
                    "creation": doc.created_on,
                }
            }
        ],
    }
    if doc.by_prescriber:
        out["author"] = [_ref(rid["practitioner"])]
    return out


def _observation(request_id: str, role: str, patient_id: str, category: str, effective: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": _id(request_id, role),
        "status": "final",
        "category": [_concept(P.OBSERVATION_CATEGORY, category, category.replace("-", " ").title())],
        "subject": _ref(patient_id),
        "effectiveDateTime": effective,
    }


def _titer_observation(titer: dict, request_id: str, n: int, patient_id: str) -> dict:
    out = _observation(request_id, f"titer-{n}", patient_id, "laboratory", titer["drawn_on"])
    out["code"] = {"text": f"{TITER_TEXT} ({titer['method']})" if titer.get("method") else TITER_TEXT}
    out["valueString"] = titer["result"]
    if titer.get("method"):
        out["method"] = {"text": titer["method"]}
    if titer.get("lab"):
        out["performer"] = [{"display": titer["lab"]}]
    return out


def _weight_observation(weight: dict, request_id: str, patient_id: str) -> dict:
    out = _observation(request_id, "weight", patient_id, "vital-signs", weight["measured_on"])
    out["code"] = {"coding": [_coding(P.LOINC, *WEIGHT_LOINC)], "text": "Body weight"}
    out["valueQuantity"] = {"value": _number(weight["kg"]), "unit": "kg", "system": P.UCUM, "code": "kg"}
    return out


_ANALYTE_FOR_NAME = {name: key for key, name in LAB_ANALYTE_NAMES.items()}


def lab_codes(analyte: str) -> tuple[str, str] | None:
    """(LOINC code, display) for an analyte key (monitoring.inbox.codes.LOINC, docs/domain.md §13d)."""
    for code, info in LOINC_CODES.items():
        if info.analyte == analyte:
            return code, info.display
    return None


def ucum_code(unit: str, analyte: str = "") -> str | None:
    """The UCUM code for a canonical unit as cases.analytes spells it ("10^9/L" → "10*9/L")."""
    if analyte == "inr":
        return "{INR}"
    for code, spelled in UCUM_UNITS.items():
        if spelled == unit:
            return code
    return None


def _lab_observation(lab: dict, request_id: str, patient_id: str) -> dict:
    key = lab.get("key") or _ANALYTE_FOR_NAME.get(lab["analyte"], lab["analyte"])
    out = _observation(request_id, f"lab-{key}", patient_id, "laboratory", lab["drawn_on"])
    loinc = lab_codes(key)
    out["code"] = {"coding": [_coding(P.LOINC, *loinc)], "text": lab["analyte"]} if loinc else {"text": lab["analyte"]}
    quantity = {"value": _number(lab["value"]), "unit": lab["unit"]}
    ucum = ucum_code(lab["unit"], key)
    if ucum:
        quantity.update(system=P.UCUM, code=ucum)
    out["valueQuantity"] = quantity
    if lab.get("limit"):
        out["referenceRange"] = [{"text": f"{lab['limit_label']} {lab['limit']}"}]
    return out


# --- Inquiry --------------------------------------------------------------------------------------
_INQUIRY_ITEM_EXTENSIONS = (P.EXT_ITEM_TRACE_NUMBER, P.EXT_REQUEST_TYPE, P.EXT_CERTIFICATION_TYPE)


def inquiry_bundle(request: dict, *, inquiry_id: str, identifier_system: str, created: datetime) -> dict:
    """Return the PAS Inquiry Request Bundle asking for the status of ``request`` (the stored PAS
    request Bundle): the same Claim identifier (the trace number the payer filed it under), patient,
    insurer, provider, coverage, care team, diagnoses and items, as a PAS Claim Inquiry; no
    supporting information (the payer has it)."""
    claim = next(e["resource"] for e in request["entry"] if e["resource"]["resourceType"] == "Claim")
    inquiry = {k: v for k, v in claim.items() if k not in ("supportingInfo", "meta", "id", "item", "created")}
    inquiry["id"] = str(uuid.uuid5(_NAMESPACE, f"{inquiry_id}/claim"))
    inquiry["meta"] = {"profile": [P.versioned(P.CLAIM_INQUIRY)]}
    inquiry["created"] = created.isoformat(timespec="seconds")
    inquiry["item"] = []
    for it in claim["item"]:
        copy = {k: v for k, v in it.items() if k not in ("extension", "informationSequence")}
        copy["extension"] = [e for e in it.get("extension", []) if e["url"] in _INQUIRY_ITEM_EXTENSIONS]
        inquiry["item"].append(copy)
    referenced = references(inquiry)
    kept = [
        e
        for e in request["entry"][1:]
        if e["fullUrl"] in referenced and e["resource"]["resourceType"] not in ("MedicationRequest",)
    ]
    # Resources the kept ones reference (the PractitionerRole's Practitioner, the Coverage's parties).
    for entry in list(kept):
        for url in references(entry["resource"]):
            if url not in {k["fullUrl"] for k in kept}:
                kept += [e for e in request["entry"] if e["fullUrl"] == url]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, f"{inquiry_id}/bundle")),
        "meta": {"profile": [P.versioned(P.INQUIRY_REQUEST_BUNDLE)]},
        "identifier": {"system": identifier_system, "value": inquiry_id},
        "type": "collection",
        "timestamp": created.isoformat(timespec="seconds"),
        "entry": [{"fullUrl": f"urn:uuid:{inquiry['id']}", "resource": inquiry}, *kept],
    }


def references(node) -> set[str]:
    """Every ``reference`` string inside ``node`` (a resource or part of one)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("reference")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
