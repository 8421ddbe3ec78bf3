"""Signal wiring of the monitoring app, connected once from MonitoringConfig.ready().

- Every monitoring and reminder model is audited.
- Signing an infusion record (cases.infusion.events.infusion_signed) creates the schedule.
- An urgent or abnormal result flag is sent to the physician at once, after the commit.
- The overdue dashboard's cached region is renewed by any change it shows.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from accounts.models import Site
from cases.infusion.events import infusion_signed
from cases.models import Case, ClinicalOverride, Patient
from monitoring.events import flags_raised
from monitoring.models import (
    Acknowledgement,
    Assessment,
    Draw,
    Flag,
    InboxMessage,
    InboxToken,
    Laboratory,
    Milestone,
    Notification,
    ProtocolVersion,
    Reminder,
    ReminderAttempt,
    ReminderRoute,
    Result,
    ResultAcknowledgement,
    SteroidCourse,
    SteroidDecision,
)
from monitoring.reminders.freshness import dashboard_changed
from monitoring.tasks import enqueue_flag
from monitoring.workflows import schedule_create


def schedule_on_signing(sender, *, case, infused_on, today, record=None, **_kwargs) -> list[Draw]:
    """The physician signed the infusion record: create the case's draws, milestones and
    steroid course (inside the signing transaction). The course starts on the record's
    prednisolone start (one source of truth). Returns the draws created."""
    steroid_start = getattr(record, "steroid_started_on", None)
    return schedule_create(case=case, infused_on=infused_on, today=today, steroid_start=steroid_start)


def alert_flag_saved(sender, instance, created, **_kwargs) -> None:
    """An urgent or abnormal flag goes to the physician at once: enqueue its reminder after the
    commit (the task sweeps, which inserts the row, and sends it)."""
    if created and instance.needs_acknowledgement:
        enqueue_flag(instance.pk)


def alert_flags_raised(sender, *, flags, **_kwargs) -> None:
    """A panel's flags were stored in bulk (no post_save): enqueue once if any must reach a physician."""
    first = next((flag for flag in flags if flag.needs_acknowledgement), None)
    if first is not None:
        enqueue_flag(first.pk)


def connect() -> None:
    for model in (
        Draw,
        Result,
        ProtocolVersion,
        Flag,
        Milestone,
        SteroidCourse,
        SteroidDecision,
        Assessment,
        ReminderRoute,
        Reminder,
        ReminderAttempt,
        Acknowledgement,
        Notification,
    ):
        if not auditlog.contains(model):
            auditlog.register(model)
    # An acknowledgement's history: which flags it covered and which repeat draws it added too.
    if not auditlog.contains(ResultAcknowledgement):
        auditlog.register(ResultAcknowledgement, m2m_fields={"flags", "repeat_draws"})
    # The results inbox: every import and review is audited; the raw payload (patient data)
    # and a token's hash stay out of the change records.
    for model, excluded in ((InboxMessage, ["raw", "details"]), (Laboratory, []), (InboxToken, ["token_hash"])):
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=excluded)
    infusion_signed.connect(schedule_on_signing, dispatch_uid="monitoring-schedule-on-signing")
    post_save.connect(alert_flag_saved, sender=Flag, dispatch_uid="reminders_urgent_flag")
    flags_raised.connect(alert_flags_raised, dispatch_uid="reminders_alert_flags_raised")
    # The dashboard shows draws with their case, patient, coordinator, site, last reminder and
    # acknowledgement (billing renews it for payers). Set-based writes call dashboard_changed().
    # It counts the physicians' overrides (issue 15 item 2) too.
    for model in (
        Draw,
        Reminder,
        Acknowledgement,
        ClinicalOverride,
        ProtocolVersion,
        Case,
        Patient,
        Site,
        get_user_model(),
    ):
        post_save.connect(dashboard_changed, sender=model, dispatch_uid=f"dashboard-{model._meta.label}-save")
        post_delete.connect(dashboard_changed, sender=model, dispatch_uid=f"dashboard-{model._meta.label}-delete")
