"""The claim as an X12 837 file: 837I (005010X223A2) for a hospital's institutional claim, 837P
(005010X222A1) for a professional claim. Both are rendered from the stored claim version's
ClaimSummary (billing.claims.store, billing.claims.lines) and nothing else, so the file carries
exactly the lines, NDC, units, POS and PA number the claim page shows.

Refusals (`X12Refused`, a message for the user) instead of a malformed file: a claim with
scrubber errors; no payer ID, member ID, billing NPI or physician NPI; no site billing settings;
an inpatient claim (GeneGate does not know the stay's admission and discharge dates).

Patient data: only what the claim needs: the subscriber's name, member ID, date of birth and
sex and home address, the diagnoses and the dates of service. The MRN, the guardian and
GeneGate's notes are never written; the patient control number is GeneGate's case number. The
patient is the subscriber (SBR02 18, no 2000C loop), so the address goes in loop 2010BA as N3/N4,
which both guides require when the subscriber is the patient; without it the export is refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing.claims.lines import ClaimSummary
from billing.claims.rules import INSTITUTIONAL
from billing.codes import format_ndc_quantity
from common.npi import npi_is_valid

VERSIONS = {INSTITUTIONAL: "005010X223A2", "professional": "005010X222A1"}
SEGMENT, ELEMENT, COMPONENT, REPETITION = "~", "*", ":", "^"
# X12 basic character set plus lower case; anything else (and the delimiters) is dropped.
_UNSAFE = re.compile(r"[^A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")
_SEX = {"F": "F", "M": "M"}
PATIENT_STATUS_OUTPATIENT = "01"  # NUBC patient status: discharged to home or self care [U: outpatient use]


ADDRESS_MISSING = (
    "The patient's home address (street, city, state and ZIP code) is not recorded; the 837 needs it "
    "as the subscriber's address. Enter it on the case's Edit page (Patient → Home address); the claim then gets a new version with it."
)


class X12Refused(ValueError):
    """The claim cannot be written as an 837; the message says what to fix."""


@dataclass(frozen=True)
class Envelope:
    """Interchange numbers; ``now`` and ``control`` are arguments so a test gets the same file."""

    now: datetime
    control: int  # 1..999999999
    production: bool = False


def _text(value: object, limit: int) -> str:
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
    return _UNSAFE.sub("", text).strip()[:limit].strip()


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")).normalize(), "f")


def _units(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _name_parts(full: str) -> tuple[str, str]:
    """("Raman", "Priya") from "Dr. Priya Raman": last word is the last name; titles dropped."""
    words = [w for w in full.replace(",", " ").split() if w.rstrip(".").lower() not in {"dr", "md", "do", "rn"}]
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


def _refusals(summary: ClaimSummary) -> list[str]:
    problems: list[str] = []
    if summary.errors:
        problems.append(
            f"The scrubber reports {len(summary.errors)} error{'s' if len(summary.errors) != 1 else ''}; "
            "fix them before exporting."
        )
    if summary.is_institutional and summary.is_inpatient:
        problems.append(
            "An inpatient claim needs the stay's admission and discharge dates, which GeneGate does not record; "
            "the hospital's billing system submits the inpatient 837I."
        )
    if not summary.provider.has_settings:
        problems.append("The site has no billing settings (tax ID, billing address, contact).")
    payer = summary.payer
    if payer is None:
        problems.append("The case has no payer.")
    elif not payer.payer_id:
        problems.append(f"{payer.name} has no payer ID for electronic claims; add it to the payer's policy.")
    if payer is not None and not payer.member_id:
        problems.append("The case has no member ID.")
    if not summary.patient.has_address:
        problems.append(ADDRESS_MISSING)
    if not npi_is_valid(summary.provider.npi or ""):
        problems.append("The site's NPI is missing or fails the NPI check digit.")
    if not npi_is_valid(summary.physician.npi or ""):
        problems.append("The physician's NPI is missing or fails the NPI check digit.")
    if not summary.lines:
        problems.append("The claim has no lines.")
    return problems


def refusal(summary: ClaimSummary) -> str:
    """Why the claim cannot be exported as an 837 ("" when it can): the claim page says it."""
    return " ".join(_refusals(summary))


def claim_837(summary: ClaimSummary, envelope: Envelope, *, version: int | None = None) -> str:
    """Return the claim as one 837 interchange (one claim), or raise X12Refused.

    ``summary`` is a stored claim version's (billing.models.Claim.summary); ``version`` its number,
    carried in the BHT reference so the file names the version it came from.

    1. Refuse what would make a malformed or unpayable file (`_refusals`).
    2. Envelope ISA/GS/ST and BHT; submitter (1000A), receiver (1000B).
    3. Billing provider (2000A/2010AA: NPI, address, tax ID), subscriber = patient (2000B/2010BA),
       payer (2010BB).
    4. Claim (2300): total, facility code and frequency (837I: type of bill; 837P: POS), statement
       dates and CL1 (837I), prior authorization, diagnoses; attending (837I) or rendering (837P)
       physician.
    5. Lines (2400): 837I SV2 with revenue code, 837P SV1 with POS pointer; HCPCS/CPT with
       modifiers, charge, units, date; the drug's NDC in 2410 LIN/CTP.
    """
    problems = _refusals(summary)
    if problems:
        raise X12Refused(" ".join(problems))
    billing, payer, patient, physician = summary.provider, summary.payer, summary.patient, summary.physician
    case_id = summary.case_id
    institutional = summary.is_institutional
    version_text = VERSIONS[summary.claim_type]
    now, control = envelope.now, envelope.control
    if not 1 <= control <= 999_999_999:
        raise X12Refused("The interchange control number must be 1 to 999999999.")
    sender = _text(billing.submitter_id or billing.tin, 15)
    receiver = _text(payer.payer_id, 15)
    segments: list[list[str]] = []

    def seg(*elements: object) -> None:
        segments.append([str(e) for e in elements])

    # 2. Envelope and header.
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        receiver.ljust(15),
        f"{now:%y%m%d}",
        f"{now:%H%M}",
        REPETITION,
        "00501",
        f"{control:09d}",
        "0",
        "P" if envelope.production else "T",
        COMPONENT,
    ]
    seg("GS", "HC", sender, receiver, f"{now:%Y%m%d}", f"{now:%H%M}", control, "X", version_text)
    st_index = len(segments)
    seg("ST", "837", "0001", version_text)
    reference = f"GG{case_id}-V{version}-{control}" if version else f"GG{case_id}-{control}"
    seg("BHT", "0019", "00", reference, f"{now:%Y%m%d}", f"{now:%H%M}", "CH")
    site_name = _text(billing.name, 60)
    seg("NM1", "41", "2", site_name, "", "", "", "", "46", sender)
    seg("PER", "IC", _text(billing.contact_name, 60), "TE", billing.contact_phone)
    seg("NM1", "40", "2", _text(payer.name, 60), "", "", "", "", "46", receiver)

    # 3. Billing provider, subscriber, payer.
    seg("HL", "1", "", "20", "1")
    if billing.taxonomy:
        seg("PRV", "BI", "PXC", billing.taxonomy)
    seg("NM1", "85", "2", site_name, "", "", "", "", "XX", billing.npi)
    seg("N3", _text(billing.street, 55))
    seg("N4", _text(billing.city, 30), billing.state, billing.zip_code)
    seg("REF", "EI", billing.tin)
    seg("HL", "2", "1", "22", "0")
    seg("SBR", "P", "18", "", "", "", "", "", "", payer.filing_indicator)
    last, first = _name_parts(patient.name)
    seg("NM1", "IL", "1", _text(last, 60), _text(first, 35), "", "", "", "MI", _text(payer.member_id, 80))
    seg("N3", _text(patient.address_line1, 55), _text(patient.address_line2, 55))
    seg("N4", _text(patient.city, 30), patient.state, patient.zip_code)
    seg("DMG", "D8", f"{patient.date_of_birth:%Y%m%d}", _SEX.get(patient.sex, "U"))
    seg("NM1", "PR", "2", _text(payer.name, 60), "", "", "", "", "PI", receiver)

    # 4. Claim.
    total = summary.total_charge or Decimal(0)
    dos = summary.infusion.infused_on
    claim_id = f"GG{case_id}"
    if institutional:
        tob = summary.type_of_bill or ""
        seg("CLM", claim_id, _money(total), "", "", f"{tob[1:3]}{COMPONENT}A{COMPONENT}{tob[3:]}", "", "A", "Y", "Y")
        seg("DTP", "434", "RD8", f"{dos:%Y%m%d}-{dos:%Y%m%d}")
        seg("CL1", "", "", PATIENT_STATUS_OUTPATIENT)
    else:
        seg(
            "CLM",
            claim_id,
            _money(total),
            "",
            "",
            f"{summary.place_of_service}{COMPONENT}B{COMPONENT}1",
            "Y",
            "A",
            "Y",
            "Y",
        )
    if summary.pa.auth_number:
        seg("REF", "G1", _text(summary.pa.auth_number, 50))
    codes = [c.replace(".", "") for c, _d in summary.diagnoses]
    principal, others = "ABK", "ABF"  # ICD-10-CM principal / other diagnosis qualifiers
    if institutional:
        seg("HI", f"{principal}{COMPONENT}{codes[0]}")
        if codes[1:]:
            seg("HI", *[f"{others}{COMPONENT}{c}" for c in codes[1:12]])
    else:
        seg("HI", f"{principal}{COMPONENT}{codes[0]}", *[f"{others}{COMPONENT}{c}" for c in codes[1:12]])
    doc_last, doc_first = _name_parts(physician.name)
    role = "71" if institutional else "82"  # 2310A attending (837I) / 2310B rendering (837P)
    seg("NM1", role, "1", _text(doc_last, 60), _text(doc_first, 35), "", "", "", "XX", physician.npi)

    # 5. Lines.
    for ln in summary.lines:
        seg("LX", ln.line_no)
        procedure = COMPONENT.join(["HC", ln.code, *ln.modifiers])
        charge = _money(ln.charge or Decimal(0))
        if institutional:
            seg("SV2", ln.revenue_code, procedure, charge, "UN", _units(ln.units))
        else:
            pointers = COMPONENT.join(str("ABCD".index(p) + 1) for p in ln.diagnosis_pointers)
            seg("SV1", procedure, charge, "UN", _units(ln.units), "", "", pointers)
        seg("DTP", "472", "D8", f"{ln.date_of_service:%Y%m%d}")
        if ln.ndc_11:
            seg("LIN", "", "N4", ln.ndc_11)
            seg("CTP", "", "", "", format_ndc_quantity(ln.ndc_quantity), ln.ndc_unit)

    count = len(segments) - st_index + 1  # ST through SE
    seg("SE", count, "0001")
    seg("GE", "1", control)
    seg("IEA", "1", f"{control:09d}")
    lines = [ELEMENT.join(isa)] + [ELEMENT.join(_trim(s)) for s in segments]
    return SEGMENT.join(lines) + SEGMENT + "\n"


def _trim(elements: list[str]) -> list[str]:
    """Drop trailing empty elements (X12: a segment ends at its last used element)."""
    out = list(elements)
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return out
