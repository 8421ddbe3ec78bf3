"""Synthetic cases for benchmarks: `python manage.py seed_demo --cases N` (issue 7 item 7).

Each synthetic case is infused 0-189 days ago and gets its whole post-infusion schedule from
the protocol in force (about 23 draws). Draws whose window has closed are mostly done on time,
some done late, a few missed and a few still open (late or overdue), so the sweep and the
dashboard see realistic proportions. Everything is made with bulk_create in batches; nothing
of a real patient is used ("Synthetic Patient 00042", MRN SYN-000042). Idempotent: a case
whose MRN exists is not made again.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from accounts.access import users_at_sites
from billing.models import Payer
from cases.models import Case, Patient, Site
from monitoring.models import Draw, Reminder, ReminderStatus
from monitoring.reminders.freshness import dashboard_changed
from monitoring.reminders.sweep import reminders_sweep
from monitoring.schedule import draw_state, next_change_at, planned_draws
from monitoring.workflows import protocol_from_version, protocol_in_force

CASE_BATCH = 1000
DRAW_BATCH = 5000


def _draw_outcome(i: int, j: int) -> str:
    """A deterministic spread over closed windows: 91% on time, 6% late, 2% missed, 1% open."""
    r = (i * 31 + j * 17) % 100
    if r < 91:
        return "on_time"
    if r < 97:
        return "late"
    if r < 99:
        return "missed"
    return "open"


def _insert_draws(rows: list[dict]) -> None:
    """Insert draws given as {field attname: value}: bulk_create in batches, or COPY on
    PostgreSQL.

    On PostgreSQL, bulk_create measured about 8 s per 23,000 draws (Django preparing and psycopg
    quoting each value) against 1.3 s for COPY, so 200,000 draws would not fit the 2-minute
    budget of issue 7 item 7. The columns and values are the same either way.
    """

    if connection.vendor != "postgresql":
        Draw.objects.bulk_create([Draw(**row) for row in rows], batch_size=DRAW_BATCH)
        return
    fields = [f for f in Draw._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    defaults["updated_at"] = timezone.now()  # auto_now, as bulk_create would set it
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Draw._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = {**defaults, **row}
            values["analytes"] = json.dumps(values["analytes"])
            copy.write_row([values[name] for name in names])


def seed_bulk(ctx, n: int) -> int:
    """Create up to ``n`` synthetic cases (numbered 1..n) with their draws; return how many
    were created this time."""

    today: date = ctx.today
    sites = list(ctx.sites.values()) or list(Site.objects.order_by("short_code"))
    if not sites:
        raise ValueError("seed_bulk needs at least one site (run demo.context first)")
    coordinators = {site.pk: list(users_at_sites([site.pk], "coordinator").order_by("pk")[:3]) for site in sites}
    payers = list(Payer.objects.order_by("pk"))
    version = protocol_in_force()
    protocol = protocol_from_version(version)
    origin = date(2000, 1, 1)
    plan = [
        (
            p.kind,
            p.day,
            list(p.analytes),
            p.reason,
            p.due_on - origin,
            p.window_opens - origin,
            p.window_closes - origin,
        )
        for p in planned_draws(origin, protocol)
    ]
    wanted = {f"SYN-{i:06d}": i for i in range(1, n + 1)}
    existing = set(Patient.objects.filter(mrn__in=list(wanted)).values_list("mrn", flat=True))
    todo = [i for mrn, i in wanted.items() if mrn not in existing]
    zones = {site.pk: ZoneInfo(site.timezone) for site in sites}

    created = 0
    for start in range(0, len(todo), CASE_BATCH):
        chunk = todo[start : start + CASE_BATCH]
        with transaction.atomic():
            patients, cases = [], []
            for i in chunk:
                site = sites[i % len(sites)]
                infused_on = today - timedelta(days=(i * 37) % 190)
                patients.append(
                    Patient(
                        site=site,
                        legal_name=f"Synthetic Patient {i:05d}",
                        date_of_birth=infused_on - timedelta(days=90 + i % 200),
                        sex="F" if i % 2 else "M",
                        mrn=f"SYN-{i:06d}",
                        gestational_age_weeks=39,
                        birth_weight_kg=Decimal("3.30"),
                        guardian_name="Synthetic Guardian",
                        guardian_phone="555-0100",
                        address_line1=f"{i % 900 + 1} Synthetic Avenue",
                        city="Springfield",
                        state="IL",
                        zip_code="62701",
                    )
                )
            Patient.objects.bulk_create(patients)
            for i, patient in zip(chunk, patients, strict=True):
                site = patient.site
                infused_on = today - timedelta(days=(i * 37) % 190)
                staff = coordinators[site.pk]
                cases.append(
                    Case(
                        patient=patient,
                        site=site,
                        stage="monitoring" if (today - infused_on).days <= 90 else "follow_up",
                        coordinator=staff[i % len(staff)] if staff else None,
                        payer=payers[i % len(payers)] if payers else None,
                        sma_type="1",
                        primary_diagnosis="G12.0",
                        infused_on=infused_on,
                    )
                )
            Case.objects.bulk_create(cases)
            draws = []
            for i, case in zip(chunk, cases, strict=True):
                for j, (kind, day, analytes, reason, due, opens, closes) in enumerate(plan):
                    opened, closed = case.infused_on + opens, case.infused_on + closes
                    draw = {
                        "case_id": case.pk,
                        "site_id": case.site_id,
                        "protocol_id": version.pk,
                        "kind": kind,
                        "day": day,
                        "analytes": analytes,
                        "reason": reason,
                        "due_on": case.infused_on + due,
                        "window_opens": opened,
                        "window_closes": closed,
                    }
                    outcome = _draw_outcome(i, j) if closed < today else "open"
                    if outcome in ("on_time", "late"):
                        late_by = 0 if outcome == "on_time" else 1 + (i + j) % 3
                        done_on = min(closed + timedelta(days=late_by), today)
                        draw["state"] = "done"
                        draw["days_late"] = max(0, (done_on - closed).days)
                        draw["completed_at"] = datetime.combine(done_on, time(10, 0), tzinfo=zones[case.site_id])
                    elif outcome == "missed":
                        draw["state"] = "missed"
                        draw["missed_reason"] = "Synthetic: family did not attend"
                    else:
                        state = draw_state(opened, closed, version.grace_days, today, False, False)
                        draw["state"] = state.state
                        draw["next_change_at"] = next_change_at(state.next_change_on, zones[case.site_id])
                    draws.append(draw)
            _insert_draws(draws)
        created += len(chunk)
    if created:
        _sweep_history()

        dashboard_changed()  # COPY and bulk_create send no signals
    return created


def _sweep_history() -> None:
    """Give the synthetic cases the reminder history a running system would have: one sweep,
    its rows recorded as sent (no notifications, no e-mail to the demo users)."""

    now = timezone.now()
    reminders_sweep(now=now)
    Reminder.objects.filter(status=ReminderStatus.PENDING, case__patient__mrn__startswith="SYN-").update(
        status=ReminderStatus.SENT, sent_at=now, attempts=1, updated_at=now
    )
