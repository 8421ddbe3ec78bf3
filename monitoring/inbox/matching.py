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

from accounts.models import Site
from cases.analytes import ANALYTES, LAB_ANALYTE_ALIASES, to_canonical
from cases.models import Case, Patient
from common.wording import day_text
from monitoring.inbox import codes
from monitoring.inbox.records import LabReport, ResultLine
from monitoring.models import OPEN_STATES, Draw, DrawState, Result
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


def match_patient(site: Site, report: LabReport) -> tuple[Case | None, str]:
    """(the case, "") for the one patient with this MRN at ``site`` whose birth date and family
    name agree, else (None or the case, the reason for review)."""
    if not report.mrn:
        return None, "The message names no patient identifier (MRN)."
    if report.birth_date is None:
        return None, "The message gives no birth date, which GeneGate needs beside the MRN."
    patient = Patient.objects.filter(site=site, mrn=report.mrn).first()
    if patient is None:
        return None, f"No patient with this MRN at {site.short_code}."
    if patient.date_of_birth != report.birth_date:
        return None, "The birth date does not match the patient with this MRN."
    family = report.family_name.casefold().strip()
    if family and family not in patient.legal_name.casefold().replace("-", " ").split():
        return None, "The family name does not match the patient with this MRN and birth date."
    case = Case.objects.filter(patient=patient).select_related("patient", "site").first()
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


def match_draws(case: Case, lines: list[ResultLine], tz: ZoneInfo, *, chosen: dict[str, Draw] | None = None):
    """Assign each line to its draw (``chosen`` per draw kind overrides, from the review).

    A final (not corrected) value that differs from the one the draw already holds is a
    reason for review: a laboratory corrects a result by sending it as corrected.
    """
    found = DrawMatch()
    every = list(
        Draw.objects.filter(case=case)
        .exclude(state=DrawState.MISSED)
        .select_related("protocol", "site", "case__patient")
    )
    draws = [d for d in every if not d.unscheduled]
    unscheduled = {(d.kind, d.day): d for d in every if d.unscheduled}
    # Not prefetched onto the draws: results_record reads draw.results afresh after writing.
    existing = {(r.draw_id, r.analyte): r for r in Result.objects.filter(draw__case=case)}
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
