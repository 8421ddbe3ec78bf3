from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from cases.panels import MONITORING, register_panel
        from monitoring import signals
        from monitoring.panels import case_panel

        signals.connect()
        register_panel("monitoring", MONITORING, case_panel)
