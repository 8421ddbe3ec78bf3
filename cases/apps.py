from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from cases import signals
        from cases.infusion.panels import case_panel
        from cases.panels import INFUSION, register_panel

        signals.connect()
        register_panel("infusion", INFUSION, case_panel)
