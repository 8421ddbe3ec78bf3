from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Plain helpers that import no app (paging, fragments, code-set records, backup); it is an
    app only for its management commands and the audit-trail migration."""

    name = "common"
    verbose_name = "Common"
