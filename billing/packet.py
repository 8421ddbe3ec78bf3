"""The PA packet: gather one snapshot of a case's facts, render it to PDF, keep every version.

1. `packet_snapshot(case, ...)` reads the case (a constant number of queries, however many
   results it has) into plain JSON values: the same facts the gate judges (cases/gate_facts.py).
2. `packet_render(snapshot, attachments)` turns a snapshot into PDF bytes with WeasyPrint, using
   the allow-list fetcher (billing/pdf_fetch.py), and appends the case's documents.
3. `packet_create(*, case, by, final)` does both and stores the file and its PAPacket row
   together, or neither.

What a packet holds is issue #4 item 3 (from the billing card's "Document monitoring schedule
in PA packet", payer table and top denials, corrected by docs/domain.md §2, §6-7, §11).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import SMA_SPECIALTIES
from billing import codes, letter
from billing.checklist import checklist_marks
from billing.claims.rules import admin_codes_for_duration
from billing.denials import ONEGENE_NAME, ONEGENE_PHONE, ONEGENE_WEB, denial_reason
from billing.models import MedicalNecessityLetter, PAPacket, PAStatus, SupportProgram
from billing.packet_documents import APPEND, LEAVE_OUT_REASONS, suggested_document_choices
from billing.packet_rules import identifier_problems
from billing.pdf_fetch import BASE_URL, PacketURLFetcher, document_url, static_url
from cases.analytes import ANALYTES, BASELINE_LAB_ANALYTES, LAB_ANALYTE_NAMES, LOWER_LIMITS, display_value
from cases.documents import DocumentRejected, image_dimensions, pages_problem, pixels_problem
from cases.dosing import kit_for_weight, prednisolone_mg_per_day, round_weight
from cases.eligibility import last_eligible_date
from cases.gate_facts import case_clinical_status, case_gate, gate_date, gate_queryset, motor_obs
from cases.label import CLINICAL_STATUS_MAX_AGE_DAYS
from cases.models import Case, ClinicalOverride, Document
from common.npi import npi_is_valid
from common.typeset import scientific
from common.wording import dates_in_words, day_text, moment_text
from monitoring.flags import format_multiple, uln_multiple
from monitoring.kinds import KIND_DETAILS
from monitoring.protocol import PROTOCOL_V1
from monitoring.schedule import planned_draws
from monitoring.steroids import COURSE_DAYS_TOTAL, TAPER_DAYS, course_start, review_date

log = logging.getLogger(__name__)

SNAPSHOT_SCHEMA = 2
# Documents appended to the packet (issue #4 item 3, issue 17 item 6): the newest current one of
# each kind, in this order; an older one of the same kind is listed as not appended, with why.
APPENDED_KINDS = (
    Document.Kind.GENETIC_REPORT,
    Document.Kind.TITER_REPORT,
    Document.Kind.LAB_REPORT,
    Document.Kind.LETTER,
    Document.Kind.OTHER,
)
# The overrides the packet prints beside the checklist: a sign-off against the gate.
PACKET_OVERRIDES = ClinicalOverride.objects.filter(kind=ClinicalOverride.Kind.SIGN_OFF, voided_at__isnull=True)
PDF_TYPES = frozenset({"application/pdf"})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})

# Page geometry shared with static/billing/packet.css (US Letter, points): an appended PDF page
# is scaled into the content area under the running header and the caption line.
PAGE_W, PAGE_H = 612.0, 792.0
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE = 72.0, 54.0, 54.0
CAPTION_H = 26.0


class PacketError(Exception):
    """The packet could not be made; the message is for the user (no patient data)."""


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def packet_case(pk: int) -> Case:
    """Fetch one case with everything the packet reads, in a constant number of queries."""
    documents = Document.objects.filter(kind__in=APPENDED_KINDS, voided_at__isnull=True).order_by("-uploaded_at", "-pk")
    return (
        gate_queryset(Case.objects.filter(pk=pk))
        .select_related("prior_authorization", "onegene_enrollment")
        .prefetch_related(
            Prefetch("documents", queryset=documents, to_attr="packet_documents"),
            "prior_authorization__events",
            "gate_overrides",
            Prefetch("clinical_overrides", queryset=PACKET_OVERRIDES, to_attr="packet_overrides"),
        )
        .get()
    )


def _descriptor(code: str) -> str:
    try:
        return codes.descriptor(code)
    except ValueError:
        return "(not in the GeneGate code table: check the code)"


def packet_snapshot(
    case: Case,
    *,
    by=None,
    today: date | None = None,
    final: bool = False,
    document_choices: dict[int, str] | None = None,
) -> dict:
    """Return the JSON-safe facts a packet prints, gathered from ``case`` (from packet_case()).

    Steps:
    1. Judge the gate for the planned infusion date (cases.gate_facts.case_gate), the same
       facts the case page shows; add the packet's own blocker: no planned infusion date.
    2. Newest weight on or before that date → kit (cases.dosing.kit_for_weight) and the
       prednisolone mg dose (cases.dosing.prednisolone_mg_per_day).
    3. Codes: J3399 × 1; CPT from the planned minutes (claim_rules.admin_codes_for_duration:
       96366 only past 90 minutes); ICD-10 with official descriptors (billing/codes.py).
    4. Baseline labs, newest per analyte, with ×ULN (monitoring.flags.uln_multiple).
    5. Monitoring plan: monitoring.schedule.planned_draws from the infusion day (once infused)
       or the planned date, PROTOCOL_V1: the day the gate, weight and kit were judged for.
    6. The documents to append, as the user chose them (``document_choices``), else the
       suggestion: the newest current document of each kind.
    """
    today = today or timezone.localdate()
    patient, site, payer = case.patient, case.site, case.payer
    pa = _related_or_none(case, "prior_authorization")
    on = gate_date(case, today)
    report = case_gate(case, on)
    planned = case.planned_infusion_date

    blocking = [{"title": i.title, "detail": i.detail, "fix": i.fix} for i in report.blocking_items]
    if planned is None:
        blocking.insert(
            0,
            {
                "title": "Planned infusion date",
                "detail": "No planned infusion date: the gate, steroid start and monitoring dates need one.",
                "fix": "Set the planned infusion date on the case.",
            },
        )

    blocking += [p.as_dict() for p in case_identifier_problems(case)]

    weights = sorted(
        (w for w in case.weights.all() if w.measured_on <= on and w.voided_at is None),
        key=lambda w: (w.measured_on, w.kg),
    )
    weight = weights[-1] if weights else None
    kit = kit_for_weight(weight.kg) if weight else None

    minutes = pa.planned_infusion_minutes if pa else 60
    admin_codes = admin_codes_for_duration(minutes)
    admin = [
        {"code": c, "descriptor": _descriptor(c), "units": admin_codes.count(c)} for c in dict.fromkeys(admin_codes)
    ]
    diagnoses = [c for c in (case.primary_diagnosis, case.secondary_diagnosis) if c]

    titers = [
        {"result": t.result_text, "drawn_on": _iso(t.drawn_on), "lab": t.lab, "method": t.method}
        for t in case.titers.all()
        if t.voided_at is None
    ]
    labs = _baseline_labs(case, on)
    infusion_day = case.infused_on or planned or on  # the same day the gate was judged for
    draws = planned_draws(infusion_day, PROTOCOL_V1)
    monitoring = []
    for draw in draws:
        if monitoring and monitoring[-1]["due_on"] == _iso(draw.due_on):
            monitoring[-1]["checks"].append(KIND_DETAILS[draw.kind])
            continue
        monitoring.append(
            {
                "day": draw.day,
                "due_on": _iso(draw.due_on),
                "window": f"{_iso(draw.window_opens)} to {_iso(draw.window_closes)}",
                "checks": [KIND_DETAILS[draw.kind]],
            }
        )

    documents, not_appended = _documents_snapshot(case, document_choices)

    enrollment = _related_or_none(case, "onegene_enrollment")
    programs = list(SupportProgram.objects.all())
    onegene = next((p for p in programs if p.slug == "onegene"), None)
    steroid_start = course_start(infusion_day)
    mg = prednisolone_mg_per_day(weight.kg) if weight else None
    snapshot = {
        "schema": SNAPSHOT_SCHEMA,
        "case_id": case.pk,
        "final": final,
        "generated_on": _iso(today),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "generated_at_local": moment_text(timezone.now()),
        "generated_by": _user_name(by),
        "gate_on": _iso(on),
        "patient": {
            "name": patient.legal_name,
            "date_of_birth": _iso(patient.date_of_birth),
            "sex": patient.get_sex_display(),
            "mrn": patient.mrn,
            "gestational_age": f"{patient.gestational_age_weeks}w{patient.gestational_age_days}d",
            "birth_weight_kg": _num(patient.birth_weight_kg),
            "guardian": patient.guardian_name,
            "age_on_infusion": _age_words(patient.date_of_birth, on),
            "last_labeled_day": _iso(last_eligible_date(patient.date_of_birth)),
        },
        "coverage": {
            "payer": payer.name if payer else "",
            "plan_name": case.plan_name,
            "member_id": case.member_id,
        },
        "payer": _payer_snapshot(payer),
        "physician": {
            "name": case.ordering_physician_name,
            "npi": case.ordering_physician_npi,
            "npi_valid": bool(case.ordering_physician_npi) and npi_is_valid(case.ordering_physician_npi),
            "npi_is_facility": bool(case.ordering_physician_npi) and case.ordering_physician_npi == site.npi,
            "specialty": case.get_ordering_physician_specialty_display() if case.ordering_physician_specialty else "",
            "sma_specialist": case.ordering_physician_specialty in SMA_SPECIALTIES,
        },
        "site": {
            "name": site.name,
            "address": site.address,
            "npi": site.npi,
            "tin": site.tin,
            "phone": site.phone,
            "fax": site.fax,
            "pos": case.site_of_care_pos,
            "pos_name": codes.POS_CODES[case.site_of_care_pos].descriptor
            if case.site_of_care_pos in codes.POS_CODES
            else "",
            "certified": site.certified_center,
        },
        "pa": _pa_snapshot(pa),
        "request": {},  # filled below, once titers, labs and documents are known
        "service": {
            "planned_infusion_date": _iso(planned),
            "infused_on": _iso(case.infused_on),
            "planned_minutes": minutes,
            "hcpcs": {"code": "J3399", "descriptor": codes.HCPCS_CODES["J3399"].descriptor, "units": 1},
            "admin": admin,
            "icd10": [{"code": c, "descriptor": _descriptor(c)} for c in diagnoses],
            "kit": _kit_snapshot(kit),
        },
        "clinical": _clinical_snapshot(case),
        "genetics": {
            "genotype": case.get_smn1_genotype_display() if case.smn1_genotype else "",
            "method": case.genetic_method,
            "report_date": _iso(case.genetic_report_date),
            "smn2_copies": case.smn2_copies,
        },
        "gate": {
            "ready": report.is_ready and planned is not None,
            "summary": report.summary if planned is not None else "Planned infusion date missing",
            "items": [_gate_item(i) for i in report.label_items],
            # The payer's own criteria (billing.Payer), each citing the payer's policy id: printed
            # as their own group so the reviewer sees which of their criteria are met.
            "payer_items": [_gate_item(i) for i in report.payer_items],
            "payer_summary": report.payer_summary,
            # Judged on the infusion day, not for the PA (label §5): said here so the payer sees it.
            "day_of_infusion": [_clinical_status_line(case, on)],
            "blocking": blocking,
        },
        "titers": titers,
        "weight": {
            "kg": _num(weight.kg) if weight else None,
            "rounded_kg": _num(round_weight(weight.kg)) if weight else None,
            "measured_on": _iso(weight.measured_on) if weight else None,
        },
        "labs": labs,
        "steroid": {
            "mg_per_day": _num(mg) if mg is not None else None,
            "start": _iso(steroid_start),
            "review_on": _iso(review_date(infusion_day)),
            "course_days": COURSE_DAYS_TOTAL,
            "taper_days": TAPER_DAYS,
            "planned_start": _iso(case.steroid_plan_start),
            "plan_text": (
                f"prednisolone {_num(mg) + ' mg/day (1 mg/kg/day)' if mg is not None else '1 mg/kg/day'} "
                f"from {_iso(steroid_start)}, the day before the infusion, for {COURSE_DAYS_TOTAL} days in total; "
                f"tapered over {TAPER_DAYS} days once liver tests are unremarkable, never stopped abruptly "
                "(FDA label §2.1)"
            ),
        },
        "monitoring": {
            "infusion_date": _iso(infusion_day),
            "protocol": PROTOCOL_V1.version,
            "visits": monitoring,
            "plan_text": (
                "liver function (exam, ALT, AST, total bilirubin, PT), platelet count and troponin-I weekly in month 1"
                f"{' from ' + monitoring[0]['due_on'] if monitoring else ''}; liver function and platelets every other "
                "week and troponin-I monthly in months 2 and 3"
                f"{' through ' + monitoring[-1]['due_on'] if monitoring else ''}, continuing until unremarkable or "
                "back to baseline (FDA label boxed warning, §5.1, §5)"
            ),
        },
        "documents": documents,
        "not_appended": not_appended,
        "onegene": {
            "name": onegene.name if onegene else ONEGENE_NAME,
            "phone": onegene.phone if onegene else ONEGENE_PHONE,
            "web": onegene.web if onegene else ONEGENE_WEB,
            "enrolled_on": _iso(enrollment.enrolled_on) if enrollment else None,
            "reference": enrollment.reference if enrollment else "",
        },
    }
    snapshot["overrides"] = _overrides_snapshot(case)
    snapshot["request"] = _request_snapshot(case, pa, snapshot)
    snapshot["lmn"] = _lmn_snapshot(case, snapshot)
    if snapshot["lmn"]["problem"]:
        snapshot["gate"]["blocking"].append(snapshot["lmn"]["problem"])
    snapshot["payer"]["checklist"] = checklist_marks(payer.documentation_checklist if payer else [], snapshot)
    return snapshot


def _documents_snapshot(case: Case, choices: dict[int, str] | None = None) -> tuple[list[dict], list[dict]]:
    """The documents to append (in APPENDED_KINDS order, newest first within a kind) and the ones
    left out, each with the reason a reader is told (issue 17 item 6). ``choices`` maps document
    id to APPEND or a LEAVE_OUT_REASONS key, as the user chose on generation; a document it does
    not name (uploaded since the form was shown) gets the suggested choice."""
    current = case.packet_documents  # newest first (packet_case)
    chosen = {**suggested_document_choices(current), **(choices or {})}
    appended, left_out = [], []
    for doc in current:
        row = {
            "id": doc.pk,
            "kind": doc.kind,
            "kind_label": doc.get_kind_display(),
            "uploaded_on": _iso(timezone.localdate(doc.uploaded_at)),
            "uploaded_text": day_text(timezone.localdate(doc.uploaded_at)),
            "content_type": doc.content_type,
            "sha256": doc.sha256,
        }
        choice = chosen.get(doc.pk, APPEND)
        if choice == APPEND:
            appended.append(row)
            continue
        row["reason"] = LEAVE_OUT_REASONS.get(choice, LEAVE_OUT_REASONS["not_relevant"])
        newer = next((d for d in appended if d["kind"] == doc.kind), None)
        if choice == "superseded" and newer:
            row["reason"] = (
                f"superseded by the newer {_lower_first(newer['kind_label'])} uploaded {newer['uploaded_text']}"
            )
        left_out.append(row)
    appended.sort(key=lambda d: APPENDED_KINDS.index(d["kind"]))  # stable: newest first within a kind
    return appended, left_out


def _overrides_snapshot(case: Case) -> list[dict]:
    """The physicians' overrides a payer reads with the checklist (issue 15 item 2): each gate item
    overridden, and a sign-off against the gate (cases.overrides), oldest first. Monitoring's
    overrides (a taper, a review without a plan) are after the service and stay on the case."""

    def at(moment) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")

    rows = [
        {
            "at_sort": o.at.isoformat(),
            "what": f"Gate item overridden: {o.gate_title} (the gate said: {o.detail_at_override})",
            "reason_label": "",
            "reason": o.reason,
            "by": o.by_name,
            "at": at(o.at),
        }
        for o in case.gate_overrides.all()
    ]
    rows += [
        {
            "at_sort": o.at.isoformat(),
            "what": f"{o.get_kind_display()}: {o.subject}",
            "reason_label": o.reason_label,
            "reason": o.explanation,
            "by": o.by_name,
            "at": at(o.at),
        }
        for o in case.packet_overrides
    ]
    rows.sort(key=lambda row: row["at_sort"])
    return [{k: v for k, v in row.items() if k != "at_sort"} for row in rows]


def _age_words(born: date, on: date) -> str:
    months = (on.year - born.year) * 12 + on.month - born.month - (1 if on.day < born.day else 0)
    if months < 1:
        return f"{(on - born).days} days old"
    return f"{months} month{'s' if months != 1 else ''} old"


def _clinical_snapshot(case: Case) -> dict:
    if case.sma_type == "pre":
        # "Presymptomatic" is the clinical status, said once (status_text); the diagnosis says only
        # that the type is not yet known, so the two never read "presymptomatic; presymptomatic".
        sma_label = "SMA, type not yet determined"
        sma_words = "spinal muscular atrophy (type not yet determined)"
    else:
        type_words = case.get_sma_type_display().replace("Type", "type")
        sma_label, sma_words = f"SMA {type_words}", f"spinal muscular atrophy {type_words}"
    if case.symptomatic:
        status = "symptomatic"
    elif case.nbs_identified:
        status = "presymptomatic, identified by newborn screening" + (
            f" on {_iso(case.nbs_date)}" if case.nbs_date else ""
        )
    else:
        status = "presymptomatic"
    hours, days = case.respiratory_support_hours, case.respiratory_support_days
    respiratory = ("tracheostomy" if case.tracheostomy else "no tracheostomy") + (
        f", respiratory support {hours} h/day for {days} days" if hours else ", no respiratory support"
    )
    return {
        "sma_type": case.get_sma_type_display(),
        "sma_label": sma_label,
        "sma_words": sma_words,
        "status_text": status,
        "symptomatic": case.symptomatic,
        "onset_sentence": "Symptoms were present at evaluation.",
        # every current baseline assessment, newest first ("CHOP INTEND 32 of 64 on 29 Nov 2026")
        "motor_text": dates_in_words("; ".join(obs.text for obs in motor_obs(case))) or "not recorded",
        "respiratory_text": respiratory,
        "nbs_identified": case.nbs_identified,
        "nbs_date": _iso(case.nbs_date),
        "respiratory_support_hours": hours,
        "respiratory_support_days": days,
        "tracheostomy": case.tracheostomy,
        "prior_j3399": case.prior_j3399,
        "therapies": [
            {"drug": t.get_drug_display(), "started_on": _iso(t.started_on), "stopped_on": _iso(t.stopped_on)}
            for t in case.smn_therapies.all()
        ],
    }


def _lower_first(text: str) -> str:
    """ "Genetic report" → "genetic report"; "AAV9 titer report" stays (an acronym)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _payer_words(slug: str) -> str:
    """A denial reason as the payer would word it (the staff label's list number dropped)."""
    try:
        label = denial_reason(slug).label
    except ValueError:
        return slug
    return label.split(" ", 1)[1] if label.startswith("#") else label


def _request_snapshot(case: Case, pa, s: dict) -> dict:
    """Which letter the PA history calls for (billing/letter.py): initial, appeal or retro."""
    events = list(pa.events.all()) if pa is not None else []
    denials = [e for e in events if e.to_status == PAStatus.DENIED]
    approved_before = any(
        e.to_status == PAStatus.APPROVED and (case.infused_on is None or e.on <= case.infused_on) for e in events
    )
    if pa is not None and pa.status in (PAStatus.DENIED, PAStatus.APPEALED) and denials:
        denial = denials[-1]
        after = denial.on.isoformat()
        new = [f"anti-AAV9 titer {t['result']} drawn {t['drawn_on']}" for t in s["titers"] if t["drawn_on"] > after]
        if s["weight"]["measured_on"] and s["weight"]["measured_on"] > after:
            new.append(f"weight {s['weight']['kg']} kg on {s['weight']['measured_on']}")
        lab_days = sorted({lab["drawn_on"] for lab in s["labs"] if lab["drawn_on"] > after})
        if lab_days:
            new.append(f"baseline laboratory results drawn {', '.join(lab_days)}")
        new += [
            f"{_lower_first(d['kind_label'])} uploaded {d['uploaded_on']}"
            for d in s["documents"]
            if d["uploaded_on"] > after
        ]
        reason = _payer_words(denial.denial_reason) if denial.denial_reason else "no reason stated"
        return {
            "kind": letter.APPEAL,
            "summary": f"reconsideration of the denial dated {after}",
            "denied_on": after,
            "denial_reason": denial.note.removeprefix("Denial letter:").strip() or reason,
            "new_since": new,
        }
    if case.infused_on and not approved_before:
        return {
            "kind": letter.RETRO,
            "summary": f"post-service request for the infusion given on {_iso(case.infused_on)}",
        }
    return {"kind": letter.INITIAL, "summary": f"initial request for an infusion on {s['gate_on']}"}


def _lmn_snapshot(case: Case, s: dict) -> dict:
    """The letter the packet prints first, and whether a final packet may use it.

    1. The case's facts as the letter states them (billing.letter.letter_facts).
    2. The newest version: signed and its facts unchanged → the signed letter; signed but the
       facts changed → a new signature is needed (the changes are named); unsigned (drafted or
       edited after a signature) → not final; none → GeneGate's draft.
    """
    facts = letter.letter_facts(s)
    digest = letter.facts_digest(letter.letter_basis(s))
    latest = MedicalNecessityLetter.objects.filter(case=case).order_by("-version").first()
    out = {
        "facts": facts,
        "shown_facts": facts,  # what the packet prints: the version's own facts once it matches
        "facts_sha256": digest,
        "kind": s["request"]["kind"],
        "version": None,
        "signed": None,
        "changes": [],
        "problem": None,
    }

    def problem(detail: str, fix: str) -> dict:
        return {"title": "Letter of medical necessity", "detail": detail, "fix": fix}

    if latest is not None and latest.facts_sha256 == digest and latest.kind == out["kind"]:
        out.update(
            version=latest.version,
            body=letter.paragraphs(latest.body),
            fingerprint=latest.fingerprint,
            shown_facts=latest.facts,
        )
        if latest.is_signed:
            out["signed"] = {
                "name": latest.signer_name,
                "credentials": latest.signer_credentials,
                "specialty": latest.signer_specialty,
                "npi": latest.signer_npi,
                "at": moment_text(latest.signed_at),  # "3 Dec 2026, 14:05 EST", the one style
                "on": _iso(timezone.localdate(latest.signed_at)),
            }
            return out
        earlier = " (edited after an earlier version was signed)" if latest.version > 1 else ""
        out["problem"] = problem(
            f"Version {latest.version}{earlier} is not signed by the prescriber.",
            "The ordering physician reviews and signs the letter (Letter of medical necessity page).",
        )
        return out
    out["body"] = letter.paragraphs(letter.draft_letter(s))
    if latest is None:
        out["problem"] = problem(
            "No letter of medical necessity has been signed.",
            "The ordering physician reviews GeneGate's draft and signs it.",
        )
    else:
        out["changes"] = letter.changed_facts(latest.facts, facts)
        if latest.kind != out["kind"]:
            out["changes"].insert(
                0,
                f"Letter type: {latest.get_kind_display()} → {dict(MedicalNecessityLetter.Kind.choices)[out['kind']]}",
            )
        out["problem"] = problem(
            f"The case changed since version {latest.version} was {'signed' if latest.is_signed else 'drafted'}: "
            + "; ".join(out["changes"][:4])
            + ("; …" if len(out["changes"]) > 4 else ""),
            "The ordering physician reviews the updated letter and signs it again.",
        )
    return out


def case_identifier_problems(case: Case) -> list:
    """The case's prescriber and facility identifier problems (billing.packet_rules)."""
    site = case.site
    return identifier_problems(
        physician_name=case.ordering_physician_name,
        physician_npi=case.ordering_physician_npi,
        facility_npi=site.npi,
        site_tin=site.tin,
        site_phone=site.phone,
        site_fax=site.fax,
    )


def _gate_item(i) -> dict:
    return {"id": i.id, "title": i.title, "status": i.status, "detail": i.detail, "fix": i.fix, "source": i.source}


def _clinical_status_line(case: Case, on: date) -> dict:
    """The infection and stability check as a checklist line: confirmed on the infusion day."""
    item = case_clinical_status(case, on)
    days = CLINICAL_STATUS_MAX_AGE_DAYS
    rule = (
        f"Confirmed by the physician within {days} day{'s' if days != 1 else ''} before the infusion; "
        "the infusion record cannot be signed otherwise, and an infection postpones the infusion."
    )
    status = item.status if item.status in ("pass", "fail") else "on the day"
    detail = f"{item.detail}. {rule}" if item.status in ("pass", "fail") else rule
    return {"title": item.title, "status": status, "detail": detail, "fix": "", "source": item.source}


def _related_or_none(case: Case, name: str):
    try:
        return getattr(case, name)
    except ObjectDoesNotExist:
        return None


def _payer_snapshot(payer) -> dict:
    if payer is None:
        return {}
    return {
        "name": payer.name,
        "policy": payer.policy_source,
        "pa_required": payer.pa_required,
        "oba": payer.get_outcomes_based_agreement_display(),
        "has_oba": payer.has_oba,
        "oba_terms": payer.oba_terms,
        "key_documentation": payer.key_documentation,
        "checklist": [],  # judged once the snapshot is complete (billing.checklist.checklist_marks)
        "age_wording": payer.age_wording,
        "allowed_pos": list(payer.allowed_pos or []),
        "titer_ceiling": f"1:{payer.titer_ceiling_denominator}",
        "titer_days": payer.titer_max_age_days,
        "weight_days": payer.weight_max_age_days,
        "labs_days": payer.labs_max_age_days,
    }


def _pa_snapshot(pa) -> dict | None:
    if pa is None:
        return None
    return {
        "status": pa.get_status_display(),
        "reference_number": pa.reference_number,
        "auth_number": pa.auth_number,
        "submitted_on": _iso(pa.submitted_on),
    }


def _kit_snapshot(kit) -> dict | None:
    if kit is None:
        return None
    return {
        "band": kit.band_label,
        "ndc": kit.kit_ndc,
        "ndc_11": codes.ndc_to_11(kit.kit_ndc),
        "dose_volume_ml": _num(kit.dose_volume_ml),
        "total_vg": scientific(float(kit.total_vg), 4),
        "vials_5_5": kit.vials_5_5,
        "vials_8_3": kit.vials_8_3,
        "total_vials": kit.total_vials,
        "verified": kit.verified,
    }


def _shown(value: Decimal, analyte: str) -> str:
    return display_value(analyte, value)


def _baseline_labs(case: Case, on: date) -> list[dict]:
    """Newest result per analyte on or before ``on``, in the canonical unit (one unit per analyte
    across the packet), judged against the limit that matters: the ULN for liver tests, PT,
    creatinine and troponin; the lower limit for platelets and hemoglobin (cases.analytes)."""
    newest = {}
    for lab in sorted((x for x in case.baseline_labs.all() if x.voided_at is None), key=lambda x: (x.drawn_on, x.pk)):
        if lab.drawn_on <= on:
            newest[lab.analyte] = lab
    order = list(BASELINE_LAB_ANALYTES) + ["inr"]
    rows = []
    for analyte in sorted(newest, key=lambda a: order.index(a) if a in order else len(order)):
        lab = newest[analyte]
        info = ANALYTES.get(analyte)
        value, unit = lab.value_canonical, lab.canonical_unit
        row = {
            "analyte": LAB_ANALYTE_NAMES.get(analyte, analyte),
            "value": _shown(value, analyte),
            "unit": unit,
            "drawn_on": _iso(lab.drawn_on),
            "limit": None,
            "limit_label": "ULN",
            "judged": "limit not reported",
            "limit_source": "",
        }
        if info is not None and info.limit == "lower":
            limit, source = LOWER_LIMITS[analyte]
            row.update(
                limit=f"{_shown(limit, analyte)} {unit}",
                limit_label="lower limit",
                judged="at or above the lower limit" if value >= limit else "below the lower limit",
                limit_source=source,
            )
        elif lab.uln_canonical:
            multiple = uln_multiple(value, lab.uln_canonical)
            row.update(
                limit=f"{_shown(lab.uln_canonical, analyte)} {unit}",
                judged=format_multiple(multiple).replace("×ULN", " × ULN"),
            )
        rows.append(row)
    return rows


# --- Rendering ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
    """One appended document: its bytes and type, as read from storage."""

    document_id: int
    kind_label: str
    uploaded_on: str  # ISO, for machine-readable copies (the PAS Bundle)
    content_type: str
    data: bytes
    pages: int
    uploaded_text: str = ""  # as a reader reads it: 3 Dec 2026


@dataclass(frozen=True)
class RenderedPacket:
    pdf: bytes
    page_count: int


def load_attachments(snapshot: dict) -> list[Attachment]:
    """Read the snapshot's documents from storage (one query). A document that cannot be appended
    (removed, missing, unreadable, encrypted, over the page or pixel limits) moves from
    ``snapshot["documents"]`` to ``snapshot["not_appended"]`` with the reason the reader is told,
    and the packet is made without it (issue 13 item 3): never a 500, never an unbounded render."""
    appended, out = [], []
    wanted = {d["id"]: d for d in snapshot["documents"]}
    found = {d.pk: d for d in Document.objects.filter(pk__in=wanted, case_id=snapshot["case_id"])}
    for doc_id, meta in wanted.items():
        try:
            out.append(_attachment(found.get(doc_id), meta))
        except PacketError as exc:
            snapshot.setdefault("not_appended", []).append({**meta, "reason": str(exc)})
            continue
        appended.append(meta)
    snapshot["documents"] = appended
    return out


def _attachment(doc, meta: dict) -> Attachment:
    """One document as an Attachment; PacketError saying why it cannot be appended."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if doc is None:
        raise PacketError("it was removed after the packet was asked for.")
    try:
        with doc.file.open("rb") as fh:
            data = fh.read()
    except OSError:
        raise PacketError("the stored file is missing; upload it again.") from None
    if meta["content_type"] in PDF_TYPES:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise PacketError("the PDF is password-protected; upload an open copy.")
            pages = len(reader.pages)
        except (PdfReadError, ValueError, KeyError, TypeError):
            raise PacketError("it is not a readable PDF; upload it again.") from None
        if pages == 0:
            raise PacketError("the PDF has no pages.")
        problem = pages_problem(pages)
    elif meta["content_type"] in IMAGE_TYPES:
        pages = 1
        problem = _image_problem(data)
    else:
        raise PacketError("only PDF, PNG and JPEG documents can be appended.")
    # The upload limits again (cases.documents): a document stored before them, or a limit
    # lowered since, must not make the render run unbounded (issue 13 item 3).
    if problem:
        raise PacketError(_lower_first(problem))
    uploaded_text = meta.get("uploaded_text") or meta["uploaded_on"]
    return Attachment(doc.pk, meta["kind_label"], meta["uploaded_on"], meta["content_type"], data, pages, uploaded_text)


def _image_problem(data: bytes) -> str | None:
    """Why an image is too large to render (cases.documents.pixels_problem), or None."""
    try:
        found = image_dimensions(io.BytesIO(data))
    except DocumentRejected as exc:
        return str(exc)
    if found is None:
        raise PacketError("it is not a readable image; upload it again.")
    return pixels_problem(found[1], found[2])


def packet_html(snapshot: dict, attachments: list[Attachment]) -> str:
    """Return the packet's HTML (Django template, autoescaped: user text prints as text)."""
    pdf_pages = []
    for index, att in enumerate(attachments, start=1):
        if att.content_type in PDF_TYPES:
            pdf_pages.extend(
                {"anchor": f"att-{att.document_id}-{n}", "att": att, "index": index, "n": n, "of": att.pages}
                for n in range(1, att.pages + 1)
            )
    labels = [f"the {_lower_first(a.kind_label)}" for a in attachments]
    context = {
        "s": snapshot,
        "draft": not snapshot["final"],
        "css_url": static_url("billing/packet.css"),
        "attachment_words": ", ".join(labels[:-1])
        + (" and " if len(labels) > 1 else "")
        + (labels[-1] if labels else ""),
        "attachments": [
            {
                "index": i,
                "att": a,
                "is_pdf": a.content_type in PDF_TYPES,
                "src": document_url(a.document_id),
                "pages": [p for p in pdf_pages if p["att"] is a],
                # the index prints the page numbers these anchors land on (CSS target-counter)
                "first_anchor": f"att-{a.document_id}-1",
                "last_anchor": f"att-{a.document_id}-{a.pages}",
            }
            for i, a in enumerate(attachments, start=1)
        ],
    }
    # Snapshots keep ISO dates (machine-readable, compared by the rules); the payer reads every
    # date in the one style, "3 Dec 2026" (common/wording.py).
    return dates_in_words(render_to_string("billing/packet/packet.html", context))


def packet_render(snapshot: dict, attachments: list[Attachment]) -> RenderedPacket:
    """Render the packet PDF: WeasyPrint for the packet, pypdf to place appended PDF pages.

    1. Render the HTML. Each page of an appended PDF gets a placeholder page that carries the
       running header and "page X of Y" (CSS counters count the appended pages too); images
       are embedded as pages directly.
    2. Find each placeholder by its anchor, and merge the document's page onto it, scaled to
       fit the area under the header and caption (never enlarged).
    Raises PacketError with a plain message when WeasyPrint or pypdf fails.
    """
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    fetcher = PacketURLFetcher({a.document_id: (a.data, a.content_type) for a in attachments})
    try:
        document = HTML(string=packet_html(snapshot, attachments), base_url=BASE_URL, url_fetcher=fetcher).render()
        placeholders = {}
        for number, page in enumerate(document.pages):
            for anchor in page.anchors:
                if anchor.startswith("att-"):
                    placeholders[anchor] = number
        pdf = document.write_pdf()
    except Exception as exc:  # WeasyPrint raises many types; the user needs one clear message
        log.exception("PA packet render failed for case %s", snapshot.get("case_id"))
        raise PacketError("The packet PDF could not be rendered; nothing was saved. Try again or report it.") from exc

    pdf_attachments = [a for a in attachments if a.content_type in PDF_TYPES]
    if not pdf_attachments:
        return RenderedPacket(pdf, len(document.pages))
    try:
        writer = PdfWriter(clone_from=io.BytesIO(pdf))
        for att in pdf_attachments:
            reader = PdfReader(io.BytesIO(att.data))
            for n, source in enumerate(reader.pages, start=1):
                target = writer.pages[placeholders[f"att-{att.document_id}-{n}"]]
                _place_page(writer, target, source, name=f"/GGDoc{att.document_id}p{n}")
        out = io.BytesIO()
        writer.write(out)
    except Exception as exc:
        log.exception("PA packet attachment merge failed for case %s", snapshot.get("case_id"))
        raise PacketError(
            "An appended document could not be merged into the packet; nothing was saved. "
            "Upload the document again as a plain PDF."
        ) from exc
    return RenderedPacket(out.getvalue(), len(document.pages))


def _place_page(writer, target, source, *, name: str) -> None:
    """Draw ``source`` (a page of an appended PDF) on ``target`` as a form XObject, scaled to fit
    the content area under the header and caption, centred, never enlarged.

    A form XObject keeps the source's content stream as it is; pypdf's merge_page would parse
    and rewrite both pages' content (about 10 times slower). The target's own content is wrapped
    in q/Q so its transformations do not leak into ours.
    """
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
    )

    if source.get("/Rotate"):
        source.transfer_rotation_to_content()
    box = source.mediabox
    width, height = float(box.width), float(box.height)
    area_w = PAGE_W - 2 * MARGIN_SIDE
    area_h = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM - CAPTION_H
    scale = min(area_w / width, area_h / height, 1.0)
    left = MARGIN_SIDE + (area_w - width * scale) / 2 - float(box.left) * scale
    bottom = PAGE_H - MARGIN_TOP - CAPTION_H - height * scale - float(box.bottom) * scale

    form = DecodedStreamObject()
    contents = source.get_contents()
    form.set_data(contents.get_data() if contents is not None else b"")
    resources = source.get("/Resources")
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([FloatObject(v) for v in (box.left, box.bottom, box.right, box.top)]),
            NameObject("/Resources"): resources.get_object().clone(writer) if resources else DictionaryObject(),
        }
    )
    form_ref = writer._add_object(form)

    target_resources = target.setdefault(NameObject("/Resources"), DictionaryObject()).get_object()
    xobjects = target_resources.setdefault(NameObject("/XObject"), DictionaryObject()).get_object()
    xobjects[NameObject(name)] = form_ref

    def stream(data: bytes):
        obj = DecodedStreamObject()
        obj.set_data(data)
        return writer._add_object(obj)

    existing = target.get("/Contents")
    existing = existing.get_object() if existing is not None else ArrayObject()
    parts = list(existing) if isinstance(existing, ArrayObject) else [target.raw_get("/Contents")]
    frame_left = MARGIN_SIDE + (area_w - width * scale) / 2
    frame_bottom = PAGE_H - MARGIN_TOP - CAPTION_H - height * scale
    draw = (
        f"q {scale:.5f} 0 0 {scale:.5f} {left:.3f} {bottom:.3f} cm {name} Do Q "
        # a hairline frame shows where the appended page begins and ends
        f"q 0.6 0.65 0.7 RG 0.5 w {frame_left:.3f} {frame_bottom:.3f} {width * scale:.3f} {height * scale:.3f} re S Q"
    ).encode()
    target[NameObject("/Contents")] = ArrayObject([stream(b"q\n"), *parts, stream(b"\nQ\n"), stream(draw)])


# --- Keeping versions ---------------------------------------------------------------------------
def final_blockers(snapshot: dict) -> list[str]:
    """The titles of what keeps ``snapshot`` from going to a payer as a final request: a blocking
    gate, the planned infusion date, the prescriber's and facility's identifiers, and a letter of
    medical necessity not signed for the current facts. Empty: it may go. The one rule for a final
    packet and for an electronic request (billing/pas/workflow.py)."""
    return [b["title"] for b in snapshot["gate"]["blocking"]]


def packet_create(
    *, case: Case, by, final: bool, today: date | None = None, document_choices: dict[int, str] | None = None
) -> PAPacket:
    """Gather, render and store a new packet version for ``case``; return the PAPacket.

    1. Gather the snapshot (packet_case + packet_snapshot). A final packet is refused
       (PacketError naming what blocks) unless every blocking gate passes.
    2. Render (PacketError on failure: nothing written).
    3. In one transaction, lock the case row, take the next version number, write the file and
       the row. If anything fails after the file was written, delete the file again.
    """
    full = packet_case(case.pk)
    snapshot = packet_snapshot(full, by=by, today=today, final=final, document_choices=document_choices)
    if final and (titles := final_blockers(snapshot)):
        raise PacketError(f"A final packet needs every blocking gate to pass. Still blocking: {'; '.join(titles)}.")
    attachments = load_attachments(snapshot)
    if full.payer:  # a document that could not be appended no longer ticks the payer's checklist
        snapshot["payer"]["checklist"] = checklist_marks(full.payer.documentation_checklist, snapshot)
    rendered = packet_render(snapshot, attachments)
    digest = hashlib.sha256(rendered.pdf).hexdigest()
    stored_name = None
    try:
        with transaction.atomic():
            Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).get()
            latest = PAPacket.objects.filter(case=case).aggregate(v=Max("version"))["v"] or 0
            packet = PAPacket(
                case=case,
                version=latest + 1,
                final=final,
                sha256=digest,
                size=len(rendered.pdf),
                page_count=rendered.page_count,
                snapshot=snapshot,
                created_by=by,
            )
            packet.file.save("packet.pdf", ContentFile(rendered.pdf), save=False)
            stored_name = packet.file.name
            packet.save()
    except Exception:
        if stored_name:
            packet.file.storage.delete(stored_name)
        raise
    return packet
