from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from common.middleware import mark_login

        user_logged_in.connect(mark_login, dispatch_uid="genegate-mark-login")
