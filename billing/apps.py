from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import signals
        from billing.claims.lines import ClaimSummary
        from billing.desk import desk
        from billing.models import Claim
        from billing.panels import case_panel
        from cases.panels import BILLING, register_panel
        from monitoring.home import register_home

        Claim.decode_summary = staticmethod(ClaimSummary.from_data)
        signals.connect()
        register_panel("billing", BILLING, case_panel)
        register_home("billing_desk_home", desk)
