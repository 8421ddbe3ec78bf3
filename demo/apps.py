from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Orchestration above the apps: demo data (seed_demo) and the benchmark (bench). Nothing
    imports it; it imports whatever it needs."""

    name = "demo"
    verbose_name = "Demo data and benchmark"
