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
