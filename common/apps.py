from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

from common import pgarrays
from common.checks import site_url_check


class CommonConfig(AppConfig):
    """Plain helpers that import no app (paging, fragments, code-set records, backup); it is an
    app for its management commands, the audit-trail migration and the deployment checks."""

    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        checks.register(site_url_check, checks.Tags.security, deploy=True)
        pgarrays.install()
