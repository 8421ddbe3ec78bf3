"""Load the demo data: `python manage.py seed_demo` (idempotent).

`--cases N` adds N synthetic cases for benchmarks (issue: scale).
"""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from demo import context as demo
from demo.bulk import seed_bulk

# Dependency order: payers before cases, cases before monitoring.
STEPS = [
    "demo.context",  # sites and users
    "demo.billing",  # payers, reference data
    "demo.cases",  # patients, cases, pre-treatment results
    "demo.billing_cases",  # prior authorizations, packets
    "demo.infusion",  # signed infusion records (creates the monitoring schedule)
    "demo.monitoring",  # results, flags, steroid decisions, milestones
    "demo.reminders",  # reminders, acknowledgements, notifications
    "demo.inbox",  # laboratory, results inbox messages in every state, HL7 sample files
]


class Command(BaseCommand):
    help = "Load demo sites, users and cases (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=0, help="Also create N synthetic cases (benchmarks).")

    def handle(self, *args, **options):
        ctx = demo.DemoContext(today=timezone.localdate())
        with transaction.atomic():
            for dotted in STEPS:
                try:
                    module = importlib.import_module(dotted)
                except ModuleNotFoundError as exc:
                    if exc.name != dotted:
                        raise
                    continue
                module.seed(ctx)
        if options["cases"]:
            created = seed_bulk(ctx, options["cases"])
            self.stdout.write(f"Created {created} synthetic cases.")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
