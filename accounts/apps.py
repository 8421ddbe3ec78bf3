from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Sites and people"

    def ready(self) -> None:
        from accounts import signals

        signals.connect()
