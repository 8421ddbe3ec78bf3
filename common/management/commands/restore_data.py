from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.backup import restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_data (replaces the current data, after checking the backup "
        "in a scratch database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="The backup folder (contains manifest.json).")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, source: Path, yes: bool, **options):
        if not (source / "manifest.json").exists():
            raise CommandError(f"{source} is not a GeneGate backup (no manifest.json)")
        if not yes and input(f"Replace ALL current data with {source}? Type 'restore': ") != "restore":
            raise CommandError("Restore cancelled.")
        try:
            counts = restore(source)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {sum(counts.values())} rows from {source}"))
