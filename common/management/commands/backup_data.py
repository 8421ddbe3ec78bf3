from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from common.backup import backup


class Command(BaseCommand):
    help = (
        "Back up the database and uploaded documents into data/backups/<timestamp>/ (or --out DIR); "
        "the folder is 0700 and its files 0600."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, help="Folder to create for this backup.")

    def handle(self, *args, out=None, **options):
        target = out or Path(settings.DATA_DIR) / "backups" / timezone.now().strftime("%Y%m%d-%H%M%S")
        backup(target)
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target}"))
