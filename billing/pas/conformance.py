"""Does a Bundle conform to the Da Vinci PAS 2.0.1 profiles? Checked before anything leaves, on
what a payer answers, and by the test payer (demo/pas_payer.py) on what it receives.

Two layers:
1. ``parse_problems``: the Bundle parses as FHIR R4 with ``fhir.resources`` (its R4B models: R4B
   left Claim, ClaimResponse, Coverage, Patient, Organization, Practitioner(Role), Observation and
   DocumentReference as R4 has them; monitoring/inbox/fhir.py uses the same models). Types,
   cardinalities and required elements of the base resources.
2. The PAS profiles' own rules, written from the 2.0.1 sources listed in billing/pas/profiles.py:
   required elements and cardinalities (1..1, 1..*, 0..0), fixed values (use = preauthorization,
   status = active, type = collection, insurance.focal = true, careTeamClaimScope), required
   bindings by code system, the supporting-information slices, and that every reference resolves
   inside the Bundle with the Claim (or ClaimResponse) as its first entry.

Each problem names the element path and the rule, never a value from the Bundle (patient data).
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from billing.pas import profiles as P
from billing.pas.bundle import references
from common.npi import npi_is_valid


@dataclass(frozen=True)
class Problem:
    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


class _Check:
    """Collects problems while walking one resource (``where`` prefixes every path)."""

    def __init__(self, where: str, out: list[Problem]):
        self.where, self.out = where, out

    def fail(self, path: str, rule: str) -> None:
        self.out.append(Problem(f"{self.where}.{path}" if path else self.where, rule))

    def one(self, node: dict, name: str, rule: str = "required (1..1)") -> object:
        value = node.get(name)
        if value in (None, "", [], {}):
            self.fail(name, rule)
            return None
        if isinstance(value, list):
            self.fail(name, "at most one (..1)")
        return value

    def many(self, node: dict, name: str, *, at_least: int = 1, at_most: int | None = None) -> list:
        value = node.get(name) or []
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return []
        if len(value) < at_least:
            self.fail(name, f"at least {at_least} required ({at_least}..{'*' if at_most is None else at_most})")
        if at_most is not None and len(value) > at_most:
            self.fail(name, f"at most {at_most} allowed ({at_least}..{at_most})")
        return value

    def fixed(self, node: dict, name: str, value) -> None:
        if node.get(name) != value:
            self.fail(name, f"fixed value {value!r} required")

    def absent(self, node: dict, name: str) -> None:
        if node.get(name) not in (None, [], {}):
            self.fail(name, "not allowed (0..0)")

    def coded(self, node: dict | None, name: str, systems: frozenset | set | str, *, required: bool = True) -> str:
        """The code of ``node[name]`` (CodeableConcept) in one of ``systems``; a problem otherwise."""
        concept = (node or {}).get(name)
        wanted = {systems} if isinstance(systems, str) else set(systems)
        if not concept:
            if required:
                self.fail(name, "required (1..1)")
            return ""
        codings = concept.get("coding") or []
        for coding in codings:
            if coding.get("system") in wanted and coding.get("code"):
                return coding["code"]
        self.fail(name, "a code from the bound value set required (" + ", ".join(sorted(wanted)) + ")")
        return ""

    def reference(self, node: dict | None, name: str, urls: set[str], *, types: tuple[str, ...] = (),
                  index: dict | None = None, required: bool = True) -> dict | None:  # fmt: skip
        """The resource ``node[name]`` points to, inside the Bundle; a problem otherwise."""
        ref = (node or {}).get(name)
        if not ref:
            if required:
                self.fail(name, "required reference (1..1)")
            return None
        target = ref.get("reference") if isinstance(ref, dict) else None
        if not target or target not in urls:
            self.fail(name, "must reference a resource inside the Bundle (entry.fullUrl)")
            return None
        resource = (index or {}).get(target)
        if resource is not None and types and resource.get("resourceType") not in types:
            self.fail(name, f"must reference a {' or '.join(types)}")
        return resource

    def identifier(self, node: dict | None, path: str) -> None:
        if not isinstance(node, dict) or not node.get("system") or not node.get("value"):
            self.fail(path, "identifier with system and value required")


def parse_problems(bundle: dict) -> list[Problem]:
    """Base FHIR R4 problems of ``bundle`` (element path and message, no values)."""
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_input=False, include_url=False)[:10]:
            path = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__") or "Bundle"
            out.append(Problem(path, " ".join(str(err.get("msg", "")).split())[:200]))
        return out
    except (ValueError, TypeError) as exc:
        return [Problem("Bundle", f"not a FHIR R4 Bundle ({type(exc).__name__})")]
    return []


def _entries(bundle: dict, profile: str, out: list[Problem], *, identifier: bool, first: str, first_max: int | None,
             first_min: int = 1) -> tuple[dict, list[dict]]:  # fmt: skip
    """Check the Bundle-level rules every PAS Bundle shares; return (fullUrl → resource, the
    ``first``-type resources)."""
    c = _Check("Bundle", out)
    if bundle.get("resourceType") != "Bundle":
        c.fail("resourceType", "must be Bundle")
        return {}, []
    c.fixed(bundle, "type", "collection")
    c.one(bundle, "timestamp")
    if identifier:
        c.identifier(bundle.get("identifier"), "identifier")
    entries = c.many(bundle, "entry")
    index: dict = {}
    for n, entry in enumerate(entries):
        e = _Check(f"Bundle.entry[{n}]", out)
        url, resource = e.one(entry, "fullUrl"), e.one(entry, "resource")
        for forbidden in ("search", "request", "response"):
            e.absent(entry, forbidden)
        if isinstance(url, str) and isinstance(resource, dict):
            if url in index:
                e.fail("fullUrl", "must be unique in the Bundle")
            index[url] = resource
    typed = [
        e["resource"]
        for e in entries
        if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == first
    ]
    if len(typed) < first_min or (first_max is not None and len(typed) > first_max):
        bounds = f"{first_min}..{'*' if first_max is None else first_max}"
        c.fail("entry", f"{bounds} {first} entries required ({profile.rsplit('/', 1)[-1]})")
    if typed and entries and (entries[0].get("resource") or {}).get("resourceType") != first:
        c.fail("entry[0]", f"the {first} must be the first entry")
    for url, resource in index.items():
        for target in references(resource):
            if target not in index:
                out.append(
                    Problem(
                        f"{resource.get('resourceType', '?')} ({url[:9]}…)", "references a resource not in the Bundle"
                    )
                )
    return index, typed


def request_problems(bundle: dict) -> list[Problem]:
    """Every way ``bundle`` breaks the PAS Request Bundle and PAS Claim profiles (2.0.1), and the
    base FHIR R4 resources; empty when it conforms."""
    out = parse_problems(bundle)
    index, claims = _entries(bundle, P.REQUEST_BUNDLE, out, identifier=True, first="Claim", first_max=1)
    if claims:
        _claim(claims[0], index, out, inquiry=False)
    return out


def inquiry_problems(bundle: dict) -> list[Problem]:
    """The same for a PAS Inquiry Request Bundle and its PAS Claim Inquiry."""
    out = parse_problems(bundle)
    index, claims = _entries(bundle, P.INQUIRY_REQUEST_BUNDLE, out, identifier=True, first="Claim", first_max=1)
    if claims:
        _claim(claims[0], index, out, inquiry=True)
    return out


def _claim(claim: dict, index: dict, out: list[Problem], *, inquiry: bool) -> None:
    """PASClaimBase + PASClaim (or PASClaimInquiry) and base R4 Claim."""
    urls = set(index)
    c = _Check("Claim", out)
    ids = c.many(claim, "identifier", at_least=1, at_most=1 if inquiry else 2)
    for n, ident in enumerate(ids):
        c.identifier(ident, f"identifier[{n}]")
    c.fixed(claim, "status", "active")
    c.fixed(claim, "use", "preauthorization")
    c.coded(claim, "type", P.CLAIM_TYPE)
    c.one(claim, "created")
    c.one(claim, "priority")
    patient = c.reference(claim, "patient", urls, types=("Patient",), index=index)
    insurer = c.reference(claim, "insurer", urls, types=("Organization",), index=index)
    provider = c.reference(claim, "provider", urls, types=("Organization", "PractitionerRole"), index=index)
    if patient:
        _patient(patient, "Patient (beneficiary)", out)
    if insurer:
        _organization(insurer, "Organization (insurer)", out, entity=True)
    if provider and provider.get("resourceType") == "Organization":
        _organization(provider, "Organization (requestor)", out, entity=False)

    care = {}
    for n, member in enumerate(c.many(claim, "careTeam", at_least=0)):
        m = _Check(f"Claim.careTeam[{n}]", out)
        scope = [e for e in member.get("extension", []) if e.get("url") == P.EXT_CARE_TEAM_SCOPE]
        if len(scope) != 1 or not isinstance(scope[0].get("valueBoolean"), bool):
            m.fail("extension:careTeamClaimScope", "exactly one, with valueBoolean (1..1, PASClaimBase)")
        seq = m.one(member, "sequence")
        care[seq] = member
        target = m.reference(member, "provider", urls, types=("Organization", "PractitionerRole"), index=index)
        if target and target.get("resourceType") == "PractitionerRole":
            _practitioner_role(target, index, out)
        if member.get("role"):
            m.coded(member, "role", P.X12_ENTITY)

    info = {}
    for n, si in enumerate(c.many(claim, "supportingInfo", at_least=0)):
        s = _Check(f"Claim.supportingInfo[{n}]", out)
        info[s.one(si, "sequence")] = si
        category = s.coded(si, "category", P.PAS_TEMP_CODES)
        timing = [k for k in si if k.startswith("timing")]
        values = [k for k in si if k.startswith("value")]
        if category == "patientEvent" or category in ("admissionDates", "dischargeDates"):
            if len(timing) != 1:
                s.fail("timing[x]", "1..1 for this category")
            if values:
                s.fail("value[x]", "not allowed (0..0) for this category")
        elif category == "additionalInformation":
            if timing:
                s.fail("timing[x]", "not allowed (0..0) for additionalInformation")
            if values != ["valueReference"]:
                s.fail("value[x]", "a valueReference required (1..1) for additionalInformation")
            else:
                target = s.reference(si, "valueReference", urls, index=index)
                if target:
                    _supporting_resource(target, out)
        elif category == "freeFormMessage":
            if timing:
                s.fail("timing[x]", "not allowed (0..0) for freeFormMessage")
            if values != ["valueString"]:
                s.fail("value[x]", "a valueString required (1..1) for freeFormMessage")

    diagnoses = {}
    for n, dx in enumerate(c.many(claim, "diagnosis", at_least=0)):
        d = _Check(f"Claim.diagnosis[{n}]", out)
        diagnoses[d.one(dx, "sequence")] = dx
        d.coded(dx, "diagnosisCodeableConcept", P.DIAGNOSIS_SYSTEMS)
        types = dx.get("type") or []
        if len(types) > 1:
            d.fail("type", "at most one (0..1, PASClaimBase)")
        for t in types:
            codes = {cd.get("code") for cd in t.get("coding", []) if cd.get("system") == P.PAS_TEMP_CODES}
            if not codes & P.DIAGNOSIS_TYPES:
                d.fail("type", "a code from X12278DiagnosisType required")

    for n, ins in enumerate(c.many(claim, "insurance")):
        i = _Check(f"Claim.insurance[{n}]", out)
        i.one(ins, "sequence")
        i.fixed(ins, "focal", True)
        coverage = i.reference(ins, "coverage", urls, types=("Coverage",), index=index)
        if coverage:
            _coverage(coverage, urls, index, out)

    for n, item in enumerate(c.many(claim, "item")):
        it = _Check(f"Claim.item[{n}]", out)
        it.one(item, "sequence")
        if not inquiry:
            it.one(item, "category", "required (1..1, PASClaim)")
        if item.get("category"):
            it.coded(item, "category", P.X12_SERVICE_TYPE)
        it.coded(item, "productOrService", P.REQUESTED_SERVICE_SYSTEMS)
        for modifier in item.get("modifier") or []:
            it.coded({"modifier": modifier}, "modifier", P.MODIFIER_SYSTEMS)
        if item.get("locationCodeableConcept"):
            it.coded(item, "locationCodeableConcept", P.LOCATION_SYSTEMS)
        if item.get("revenue"):
            it.coded(item, "revenue", P.NUBC_REVENUE)
        quantity = item.get("quantity")
        if quantity is not None and not (isinstance(quantity.get("value"), int | float) and quantity["value"] > 0):
            it.fail("quantity.value", "a positive number required")
        for name, known in (
            ("careTeamSequence", care),
            ("diagnosisSequence", diagnoses),
            ("informationSequence", info),
        ):
            for seq in item.get(name) or []:
                if seq not in known:
                    it.fail(name, "points to a sequence the Claim does not have")
        for ext in item.get("extension") or []:
            url = ext.get("url")
            if url == P.EXT_CERTIFICATION_TYPE:
                it.coded(ext, "valueCodeableConcept", P.X12_CERTIFICATION_TYPE)
            elif url == P.EXT_REQUEST_TYPE:
                it.coded(ext, "valueCodeableConcept", P.X12_REQUEST_TYPE)
            elif url == P.EXT_ITEM_TRACE_NUMBER:
                it.identifier(ext.get("valueIdentifier"), "extension:itemTraceNumber.valueIdentifier")
            elif url == P.EXT_REQUESTED_SERVICE:
                target = it.reference(ext, "valueReference", urls, index=index)
                if target and target.get("resourceType") == "MedicationRequest":
                    _medication_request(target, urls, out)


def _patient(patient: dict, where: str, out: list[Problem]) -> None:
    """PAS Beneficiary / Subscriber (on US Core Patient): identifier, name, gender required."""
    c = _Check(where, out)
    for n, ident in enumerate(c.many(patient, "identifier")):
        c.identifier(ident, f"identifier[{n}]")
    c.many(patient, "name")
    if patient.get("gender") not in ("male", "female", "other", "unknown"):
        c.fail("gender", "required (1..1), from AdministrativeGender")


def _organization(org: dict, where: str, out: list[Problem], *, entity: bool) -> None:
    """PAS Insurer / Requestor (on US Core Organization): active = true, name; identifier.system."""
    c = _Check(where, out)
    c.fixed(org, "active", True)
    c.one(org, "name")
    for n, ident in enumerate(org.get("identifier") or []):
        if not ident.get("system"):
            c.fail(f"identifier[{n}].system", "required when an identifier is sent")
        if ident.get("system") == P.NPI and not npi_is_valid(str(ident.get("value", ""))):
            c.fail(f"identifier[{n}]", "NPI fails its check digit")
    if entity and org.get("type"):
        codes = {cd.get("code") for t in org["type"] for cd in t.get("coding", []) if cd.get("system") == P.X12_ENTITY}
        if not codes:
            c.fail("type", "a code from X12 entity identifier codes (98) required")


def _practitioner_role(role: dict, index: dict, out: list[Problem]) -> None:
    c = _Check("PractitionerRole", out)
    practitioner = c.reference(role, "practitioner", set(index), types=("Practitioner",), index=index)
    c.reference(role, "organization", set(index), types=("Organization",), index=index, required=False)
    if practitioner:
        p = _Check("Practitioner", out)
        idents = p.many(practitioner, "identifier")
        for n, ident in enumerate(idents):
            p.identifier(ident, f"identifier[{n}]")
        npis = [i for i in idents if isinstance(i, dict) and i.get("system") == P.NPI]
        if not npis:
            p.fail("identifier:NPI", "the prescriber's NPI required")
        elif not npi_is_valid(str(npis[0].get("value", ""))):
            p.fail("identifier:NPI", "NPI fails its check digit")
        names = p.many(practitioner, "name")
        if names and not names[0].get("family"):
            p.fail("name.family", "required (US Core Practitioner)")


def _coverage(coverage: dict, urls: set[str], index: dict, out: list[Problem]) -> None:
    """PAS Coverage: status active, beneficiary, payor; relationship from X12 1069; class type+value."""
    c = _Check("Coverage", out)
    c.fixed(coverage, "status", "active")
    c.reference(coverage, "beneficiary", urls, types=("Patient",), index=index)
    for payor in c.many(coverage, "payor"):
        c.reference({"payor": payor}, "payor", urls, types=("Organization",), index=index)
    subscriber = c.reference(coverage, "subscriber", urls, types=("Patient",), index=index, required=False)
    if subscriber is not None and subscriber is not index.get((coverage.get("beneficiary") or {}).get("reference")):
        _patient(subscriber, "Patient (subscriber)", out)
    if coverage.get("relationship"):
        c.coded(coverage, "relationship", P.X12_RELATIONSHIP)
    for n, cls in enumerate(coverage.get("class") or []):
        k = _Check(f"Coverage.class[{n}]", out)
        k.one(cls, "type")
        k.one(cls, "value")


def _medication_request(request: dict, urls: set[str], out: list[Problem]) -> None:
    """PAS MedicationRequest: status, intent = order, medication, subject, authoredOn, requester."""
    c = _Check("MedicationRequest", out)
    c.one(request, "status")
    c.fixed(request, "intent", "order")
    if not (request.get("medicationCodeableConcept") or request.get("medicationReference")):
        c.fail("medication[x]", "required (1..1)")
    c.reference(request, "subject", urls)
    c.one(request, "authoredOn")
    c.reference(request, "requester", urls)


def _supporting_resource(resource: dict, out: list[Problem]) -> None:
    kind = resource.get("resourceType")
    c = _Check(kind or "Resource", out)
    if kind == "Observation":
        c.one(resource, "status")
        c.one(resource, "code")
    elif kind == "DocumentReference":
        c.one(resource, "status")
        for n, content in enumerate(c.many(resource, "content")):
            attachment = content.get("attachment") or {}
            if not attachment.get("contentType") or not (attachment.get("data") or attachment.get("url")):
                c.fail(f"content[{n}].attachment", "contentType and data (or url) required")


# --- Answers -------------------------------------------------------------------------------------
def response_problems(bundle: dict, *, inquiry: bool = False) -> list[Problem]:
    """Every way ``bundle`` breaks the PAS Response Bundle (or Inquiry Response Bundle) and PAS
    Claim Response (2.0.1): a submit answer holds exactly one ClaimResponse, first; an inquiry
    answer holds any number."""
    out = parse_problems(bundle)
    profile = P.INQUIRY_RESPONSE_BUNDLE if inquiry else P.RESPONSE_BUNDLE
    index, responses = _entries(
        bundle, profile, out, identifier=False, first="ClaimResponse", first_max=None if inquiry else 1,
        first_min=0 if inquiry else 1,
    )  # fmt: skip
    for n, response in enumerate(responses):
        c = _Check(f"ClaimResponse[{n}]", out)
        c.fixed(response, "status", "active")
        c.fixed(response, "use", "preauthorization")
        c.one(response, "type")
        c.one(response, "created")
        c.reference(response, "patient", set(index), index=index)
        c.reference(response, "insurer", set(index), index=index)
        if response.get("outcome") not in ("queued", "complete", "error", "partial"):
            c.fail("outcome", "required (1..1), from RemittanceOutcome")
        for k, item in enumerate(response.get("item") or []):
            i = _Check(f"ClaimResponse[{n}].item[{k}]", out)
            i.one(item, "itemSequence")
            for a, adjudication in enumerate(i.many(item, "adjudication")):
                if not adjudication.get("category"):
                    i.fail(f"adjudication[{a}].category", "required (1..1)")
        for k, error in enumerate(response.get("error") or []):
            if not error.get("code"):
                c.fail(f"error[{k}].code", "required (1..1)")
    return out
