"""Which site, patient and draw an incoming report belongs to. Never a guess: anything short of
one clear answer is a reason for the coordinator's review (monitoring.inbox.workflows).

- Site: the receiving facility (HL7 MSH-6) is a site's short code or NPI, or the token's site.
- Patient: the site's MRN plus the birth date, with the family name as a check.
- Draw: per analyte, the case's scheduled draw that lists it (INR goes with PT) whose window
  contains the collection date; a sample taken after the window attaches to that draw while it
  is still open and within its grace days. Two such draws go to review. None: the result is an
  unscheduled result on the case (an unscheduled draw of that kind and day, made on recording:
  monitoring.workflows.unscheduled_draw_for), flagged like any other; the coordinator can move
  it to a scheduled draw (monitoring.workflows.result_move). A sample collected before the
  infusion goes to review (a baseline, not a monitoring result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.db.models.functions import Upper

from accounts.models import Site
from cases.analytes import ANALYTES, LAB_ANALYTE_ALIASES, to_canonical
from cases.models import Case, Patient
from common.wording import day_text
from monitoring.inbox import codes
from monitoring.inbox.records import LabReport, ResultLine
from monitoring.models import OPEN_STATES, Draw, DrawState, ProtocolVersion, Result
from monitoring.protocol import PROTOCOL_V1
from monitoring.workflows import unscheduled_draw_for

# Which draw kind records each analyte (monitoring.protocol rows; INR rides with PT).
KIND_FOR_ANALYTE: dict[str, str] = {a: row.kind for row in PROTOCOL_V1.rows for a in row.analytes}
for _alias, _target in LAB_ANALYTE_ALIASES.items():
    if _target in KIND_FOR_ANALYTE:
        KIND_FOR_ANALYTE.setdefault(_alias, KIND_FOR_ANALYTE[_target])


def site_for_facility(code: str) -> Site | None:
    """The site whose short code or NPI is ``code`` (HL7 MSH-6), or None."""
    code = (code or "").strip()
    if not code:
        return None
    return Site.objects.filter(Q(short_code__iexact=code) | Q(npi=code)).first()


def sites_for_facilities(codes: list[str]) -> dict[str, Site | None]:
    """site_for_facility for many codes in one query (the results inbox's batch)."""
    wanted = {(c or "").strip() for c in codes} - {""}
    if not wanted:
        return dict.fromkeys(codes)
    upper = {c.upper() for c in wanted}
    found = list(
        Site.objects.annotate(code_upper=Upper("short_code")).filter(Q(code_upper__in=upper) | Q(npi__in=wanted))
    )
    out: dict[str, Site | None] = {}
    for code in codes:
        key = (code or "").strip()
        out[code] = next((s for s in found if key and (s.code_upper == key.upper() or s.npi == key)), None)
    return out


@dataclass
class Known:
    """Patients (by site and MRN), their case and the case's draws, loaded once for a batch of
    reports: match_patient and match_draws read these instead of querying per message."""

    patients: dict[tuple[int, str], Patient] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)  # by patient pk
    draws: dict[int, list[Draw]] = field(default_factory=dict)  # by case pk, the kinds asked for

    @classmethod
    def load(cls, keys: set[tuple[int, str]], kinds: set[str], extra_cases=()) -> Known:
        """At most four queries for any number of (site pk, MRN) keys; ``extra_cases`` are cases
        picked at review (their draws are loaded too)."""
        known = cls()
        mrns = {mrn for _, mrn in keys if mrn}
        if mrns:
            site_ids = {site_id for site_id, _ in keys}
            for patient in Patient.objects.filter(site_id__in=site_ids, mrn__in=mrns):  # Patient's ordering
                known.patients.setdefault((patient.site_id, patient.mrn), patient)
        patients = {p.pk: p for p in known.patients.values()}
        if patients:
            for case in Case.objects.filter(patient_id__in=list(patients)).select_related("site"):  # Case's ordering
                if case.patient_id not in known.cases:
                    case.patient = patients[case.patient_id]
                    known.cases[case.patient_id] = case
        by_pk = {c.pk: c for c in known.cases.values()} | {c.pk: c for c in extra_cases}
        if by_pk and kinds:
            protocols: dict[int, ProtocolVersion] = {}
            sites = {c.site_id: c.site for c in by_pk.values()}
            rows = Draw.objects.filter(case_id__in=list(by_pk), kind__in=sorted(kinds)).exclude(state=DrawState.MISSED)
            for draw in rows:
                case = by_pk[draw.case_id]
                draw.case = case
                if draw.site_id not in sites:
                    sites[draw.site_id] = Site.objects.get(pk=draw.site_id)
                draw.site = sites[draw.site_id]
                if draw.protocol_id not in protocols:
                    protocols[draw.protocol_id] = ProtocolVersion.objects.get(pk=draw.protocol_id)
                draw.protocol = protocols[draw.protocol_id]
                known.draws.setdefault(case.pk, []).append(draw)
        return known


def match_patient(site: Site, report: LabReport, known: Known | None = None) -> tuple[Case | None, str]:
    """(the case, "") for the one patient with this MRN at ``site`` whose birth date and family
    name agree, else (None or the case, the reason for review). ``known``: preloaded (a batch)."""
    if not report.mrn:
        return None, "The message names no patient identifier (MRN)."
    if report.birth_date is None:
        return None, "The message gives no birth date, which GeneGate needs beside the MRN."
    if known is None:
        known = Known.load({(site.pk, report.mrn)}, set())
    patient = known.patients.get((site.pk, report.mrn))
    if patient is None:
        return None, f"No patient with this MRN at {site.short_code}."
    if patient.date_of_birth != report.birth_date:
        return None, "The birth date does not match the patient with this MRN."
    family = report.family_name.casefold().strip()
    if family and family not in patient.legal_name.casefold().replace("-", " ").split():
        return None, "The family name does not match the patient with this MRN and birth date."
    case = known.cases.get(patient.pk)
    if case is None:
        return None, "The patient has no case in GeneGate."
    return case, ""


@dataclass
class DrawMatch:
    """Result lines grouped by the draw they go to; reasons for review; notes for the record.

    ``by_draw`` is keyed by the draw's pk, or ("unscheduled", kind, day) for an unscheduled draw
    not stored yet (monitoring.inbox.workflows saves it when it records)."""

    by_draw: dict[int | tuple, tuple[Draw, list[ResultLine]]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _covering(draws: list[Draw], on: date) -> Draw | None | str:
    """The one draw whose window holds ``on`` (or, late, its grace days while open); "many"."""
    strict = [d for d in draws if d.window_opens <= on <= d.window_closes]
    if len(strict) > 1:
        return "many"
    if strict:
        return strict[0]
    late = [
        d
        for d in draws
        if d.state in OPEN_STATES and d.window_closes < on <= d.window_closes + timedelta(days=d.protocol.grace_days)
    ]
    if len(late) > 1:
        return "many"
    return late[0] if late else None


def match_draws(
    case: Case,
    lines: list[ResultLine],
    tz: ZoneInfo,
    *,
    chosen: dict[str, Draw] | None = None,
    draws: list[Draw] | None = None,
    results: list[Result] | None = None,
):
    """Assign each line to its draw (``chosen`` per draw kind overrides, from the review).

    A final (not corrected) value that differs from the one the draw already holds is a
    reason for review: a laboratory corrects a result by sending it as corrected.

    ``draws`` (the case's draws not missed, at least of the lines' kinds) and ``results`` (the
    case's results) are what a batch preloaded (Known, monitoring.workflows.RecordContext);
    else they are read here.
    """
    found = DrawMatch()
    if draws is None:
        draws = list(
            Draw.objects.filter(case=case)
            .exclude(state=DrawState.MISSED)
            .select_related("protocol", "site", "case__patient")
        )
    if results is None:
        results = list(Result.objects.filter(draw__case=case))
    every = draws
    draws = [d for d in every if not d.unscheduled]
    unscheduled = {(d.kind, d.day): d for d in every if d.unscheduled}
    existing = {(r.draw_id, r.analyte): r for r in results}
    for line in lines:
        kind = KIND_FOR_ANALYTE.get(line.analyte)
        label = ANALYTES[line.analyte].label
        on = line.collected_at.astimezone(tz).date()
        if chosen and kind in chosen:
            draw = chosen[kind]
        else:
            if kind is None:
                found.notes.append(f"{label}: no draw of the monitoring protocol records it; not recorded")
                continue
            of_kind = [d for d in draws if d.kind == kind]
            if not of_kind:
                found.reasons.append(f"{label}: the case has no scheduled draw for it (not infused yet?).")
                continue
            draw = _covering(of_kind, on)
            if draw == "many":
                found.reasons.append(f"{label}: more than one scheduled draw covers {day_text(on)}.")
                continue
            if draw is None:
                try:
                    draw = unscheduled_draw_for(case=case, like=of_kind[0], on=on)
                except ValueError as exc:
                    found.reasons.append(f"{label}: no scheduled draw's window covers {day_text(on)}; {exc}.")
                    continue
                draw = unscheduled.setdefault((draw.kind, draw.day), draw)
        old = existing.get((draw.pk, line.analyte))
        if old is not None and not chosen and line.status != codes.CORRECTED:
            new_value = to_canonical(line.analyte, line.value, line.unit)[0]
            if abs(new_value - old.value_canonical) > 0.001:
                found.reasons.append(
                    f"{label}: the draw already holds a different value and this one is not marked corrected."
                )
                continue
        key = draw.pk if draw.pk is not None else ("unscheduled", draw.kind, draw.day)
        found.by_draw.setdefault(key, (draw, []))[1].append(line)
    return found
