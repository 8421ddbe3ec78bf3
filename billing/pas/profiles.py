"""The Da Vinci PAS vocabulary GeneGate uses, named once, each with its source.

Version: HL7 Da Vinci Prior Authorization Support (PAS) implementation guide **2.0.1** (FHIR R4
4.0.1, US Core 3.1.1/6.1.0), the version the ONC-recognised Inferno test kit checks as "v2.0.1".
Sources read (public):
- HL7/davinci-pas, ``input/fsh/Claim.fsh`` (PASClaimBase, PASClaim, PASClaimInquiry),
  ``Bundle.fsh`` (PASRequestBundle, PASInquiryRequestBundle, PASResponseBundle,
  PASInquiryResponseBundle), ``ClaimResponse.fsh``, ``Coverage.fsh``, ``Patient.fsh``,
  ``Practitioner.fsh``, ``ClaimOperation.fsh`` (Claim/$submit, Claim/$inquire),
  ``Terminology.fsh`` (PASTempCodes and the X12 value sets of the 2.0.x series).
- inferno-framework/davinci-pas-test-kit, ``lib/davinci_pas_test_kit/generated/v2.0.1/*/metadata.yml``
  (profile URL, profile version 2.0.1, must-support and mandatory elements per profile) and its
  v2.0.1 response examples (``config/presets/pas_client_v201_run_against_pas_server.json``).

X12 code values (review actions, certification types, entity codes) are X12's; PAS binds to them
and the codes used here appear in those public PAS sources. Code lists GeneGate could not read in
full are marked [U] where used.
"""

from __future__ import annotations

PAS_VERSION = "2.0.1"
FHIR_VERSION = "4.0.1"

_SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"

# --- Profiles (canonical URLs; meta.profile carries them with |2.0.1) ---------------------------
REQUEST_BUNDLE = _SD + "profile-pas-request-bundle"
INQUIRY_REQUEST_BUNDLE = _SD + "profile-pas-inquiry-request-bundle"
RESPONSE_BUNDLE = _SD + "profile-pas-response-bundle"
INQUIRY_RESPONSE_BUNDLE = _SD + "profile-pas-inquiry-response-bundle"
CLAIM = _SD + "profile-claim"
CLAIM_INQUIRY = _SD + "profile-claim-inquiry"
CLAIM_RESPONSE = _SD + "profile-claimresponse"
CLAIM_INQUIRY_RESPONSE = _SD + "profile-claiminquiryresponse"
BENEFICIARY = _SD + "profile-beneficiary"
SUBSCRIBER = _SD + "profile-subscriber"
COVERAGE = _SD + "profile-coverage"
INSURER = _SD + "profile-insurer"
REQUESTOR = _SD + "profile-requestor"
PRACTITIONER = _SD + "profile-practitioner"
PRACTITIONER_ROLE = _SD + "profile-practitionerrole"
MEDICATION_REQUEST = _SD + "profile-medicationrequest"


def versioned(url: str) -> str:
    """``url|2.0.1``: a profile pinned to the version GeneGate conforms to."""
    return f"{url}|{PAS_VERSION}"


# --- Extensions ----------------------------------------------------------------------------------
EXT_CARE_TEAM_SCOPE = _SD + "extension-careTeamClaimScope"  # 1..1 on every careTeam (PASClaimBase)
EXT_CERTIFICATION_TYPE = _SD + "extension-certificationType"  # item, X12 UM02 (1322)
EXT_REQUEST_TYPE = _SD + "extension-serviceItemRequestType"  # item, X12 UM01 (1525)
EXT_ITEM_TRACE_NUMBER = _SD + "extension-itemTraceNumber"  # item, 2000F TRN
EXT_ADMIN_REFERENCE = _SD + "extension-administrationReferenceNumber"  # the disallowed outcome's number
EXT_REQUESTED_SERVICE = _SD + "extension-requestedService"  # item → MedicationRequest
EXT_REVIEW_ACTION = _SD + "extension-reviewAction"  # ClaimResponse.item.adjudication
EXT_REVIEW_ACTION_CODE = _SD + "extension-reviewActionCode"  # sub-extension of reviewAction
EXT_PREAUTH_PERIOD = _SD + "extension-itemPreAuthPeriod"
EXT_PREAUTH_ISSUE_DATE = _SD + "extension-itemPreAuthIssueDate"
EXT_AUTH_NUMBER = _SD + "extension-authorizationNumber"

# --- Code systems --------------------------------------------------------------------------------
PAS_TEMP_CODES = "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes"
X12_ENTITY = "https://codesystem.x12.org/005010/98"  # NM101 entity identifier codes
X12_SERVICE_TYPE = "https://codesystem.x12.org/005010/1365"  # UM03 / EB03 service type
X12_CERTIFICATION_TYPE = "https://codesystem.x12.org/005010/1322"
X12_REQUEST_TYPE = "https://codesystem.x12.org/005010/1525"
X12_RELATIONSHIP = "https://codesystem.x12.org/005010/1069"  # INS02
X12_REVIEW_ACTION = "https://codesystem.x12.org/005010/306"  # HCR01
X12_REVIEW_REASON = "https://codesystem.x12.org/external/886"  # HCR03
X12_REJECT_REASON = "https://codesystem.x12.org/005010/901"  # AAA03
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NUBC_REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
NPI = "http://hl7.org/fhir/sid/us-npi"
TIN = "http://terminology.hl7.org/NamingSystem/USEIN"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"

# Value sets PAS 2.0.1 binds with required strength, by the code systems they draw from.
REQUESTED_SERVICE_SYSTEMS = frozenset(
    {
        X12_SERVICE_TYPE,
        CPT,
        HCPCS,
        "http://terminology.hl7.org/CodeSystem/icd9cm",
        "http://www.cms.gov/Medicare/Coding/ICD10",
        NDC,
    }
)  # X12278RequestedServiceType
MODIFIER_SYSTEMS = frozenset({CPT, HCPCS})  # X12278RequestedServiceModifierType
DIAGNOSIS_SYSTEMS = frozenset(
    {
        ICD10CM,
        "http://terminology.hl7.org/CodeSystem/icd9cm",
        "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software",
        "http://uri.hddaccess.com/cs/apdrg",
        "http://uri.hddaccess.com/cs/aprdrg",
    }
)  # X12278DiagnosisCodes
DIAGNOSIS_TYPES = frozenset({"admitting", "principal", "patientreasonforvisit"})  # X12278DiagnosisType
LOCATION_SYSTEMS = frozenset({"https://www.nubc.org/CodeSystem/TypeOfBill", POS})  # X12278LocationType
SUPPORTING_INFO_TYPES = frozenset(
    {
        "patientEvent",
        "admissionDates",
        "dischargeDates",
        "additionalInformation",
        "freeFormMessage",
        "institutionalEncounter",
    }
)  # PASSupportingInfoType (PASTempCodes)

# --- X12 codes GeneGate sends ----------------------------------------------------------------------
CERT_INITIAL = "I"  # "Initial" (PAS examples: 1322#I)
CERT_RECONSIDERATION = "N"  # "Reconsideration" [U: X12 1322 list not read in full]
CERTIFICATION_LABELS = {CERT_INITIAL: "Initial", CERT_RECONSIDERATION: "Reconsideration"}
REQUEST_TYPE_HEALTH_SERVICES = "HS"  # "Health Services Review" (PAS examples: 1525#HS)
SERVICE_TYPE_MEDICAL_CARE = "1"  # "Medical Care" [U: which service type a payer expects for J3399]
ENTITY_PAYER = "PR"  # insurer (PAS examples: 98#PR)
ENTITY_FACILITY = "FA"  # the requesting facility [U]
ENTITY_ORDERING_PHYSICIAN = "DK"  # careTeam role of the prescriber [U]
# Place-of-service codes billed on the institutional claim (docs/domain.md §13a).
INSTITUTIONAL_POS = frozenset({"19", "21", "22"})

# --- X12 306 review actions a ClaimResponse carries (HCR01) -------------------------------------
# A1 and A3 and A4 as in the PAS 2.0.1 examples Inferno sends; the rest [U: X12 306 not read in full].
APPROVED_ACTIONS = {"A1": "Certified in total", "A2": "Certified, partial", "A6": "Modified"}
DENIED_ACTIONS = {"A3": "Not certified"}
PENDED_ACTIONS = {"A4": "Pended", "CT": "Contact payer"}
NO_ACTION = {"NA": "No action required", "C": "Cancelled"}

# Identifier systems of values GeneGate itself assigns (request ids, MRNs, member ids as recorded):
# namespaces under the installation's own URL (settings.SITE_URL).
SID_PATH = "/fhir/sid"
