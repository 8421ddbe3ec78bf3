from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from monitoring import models

        auditlog.register(models.Draw)
        auditlog.register(models.Result)
        auditlog.register(models.ProtocolVersion)
        auditlog.register(models.Flag)
        auditlog.register(models.Milestone)
        auditlog.register(models.SteroidCourse)
        auditlog.register(models.SteroidDecision)
        auditlog.register(models.Assessment)
        models.register_reminders()
        self._renew_dashboard_on_changes()

    def _renew_dashboard_on_changes(self) -> None:
        """The overdue dashboard's cached regions (monitoring.dashboard) show draws with their
        case, patient, coordinator, payer, site, last reminder and acknowledgement: any saved
        or deleted row of those renews them. Set-based writes call dashboard_changed() too."""
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from billing.models import Payer
        from cases.models import Case, Patient, Site
        from monitoring.dashboard import dashboard_changed
        from monitoring.models import Acknowledgement, Draw, ProtocolVersion, Reminder

        for model in (Draw, Reminder, Acknowledgement, ProtocolVersion, Case, Patient, Payer, Site, get_user_model()):
            post_save.connect(dashboard_changed, sender=model, dispatch_uid=f"dashboard-{model._meta.label}-save")
            post_delete.connect(dashboard_changed, sender=model, dispatch_uid=f"dashboard-{model._meta.label}-delete")
