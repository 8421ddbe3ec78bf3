"""make backup / make restore: a restore into an emptied database finds everything again."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from cases.models import Case, Document, WeightMeasurement
from common import backup as backup_module
from common.backup import backup, restore, row_counts
from monitoring.models import Draw
from monitoring.workflows import schedule_create
from tests.personas import MARKER_NAME, Personas


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_database(tmp_path, settings):
    cast = Personas()
    case = cast.case_a
    WeightMeasurement.objects.create(case=case, measured_on=date(2026, 11, 20), kg=Decimal("5.40"))
    doc = Document(
        case=case,
        kind="genetic_report",
        original_name="report.pdf",
        content_type="application/pdf",
        size=9,
        sha256="a" * 64,
    )
    doc.file.save("ignored", ContentFile(b"%PDF-1.4\n"), save=True)
    schedule_create(case=case, infused_on=date(2026, 11, 1), today=date(2026, 11, 28))
    before = row_counts()
    assert before["monitoring.Draw"] > 0 and before["auditlog.LogEntry"] > 0

    target = backup(tmp_path / "backup")
    assert (target / "manifest.json").exists()

    call_command("flush", "--no-input", verbosity=0)
    Path(doc.file.path).unlink()
    assert not Case.objects.exists() and not LogEntry.objects.exists()

    after = restore(target)
    assert after == before
    restored = Case.objects.get(pk=case.pk)
    assert restored.patient.legal_name == MARKER_NAME
    assert Draw.objects.filter(case=restored).count() == before["monitoring.Draw"]
    assert Path(Document.objects.get(pk=doc.pk).file.path).read_bytes() == b"%PDF-1.4\n"


@pytest.mark.django_db
def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a GeneGate backup"):
        call_command("restore_data", str(tmp_path), "--yes")


def _insert_weights(case_pk: int, count: int) -> None:
    """Insert ``count`` weights on this thread's own connection, each committed at once."""
    try:
        for i in range(count):
            WeightMeasurement.objects.create(case_id=case_pk, measured_on=date(2026, 11, 1), kg=Decimal(4 + i % 9))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_others_write_passes_its_restore_check(tmp_path, monkeypatch):
    """Issue 13 item 4: the manifest's counts and the dump come from one snapshot."""
    cast = Personas()
    case = cast.case_a
    _insert_weights(case.pk, 5)
    real_run = subprocess.run
    committed_before_dump = []

    def run_after_more_writes(cmd, *args, **kwargs):
        # Between the counts and pg_dump's start, another connection commits rows: with counts
        # taken outside the dump's snapshot they would be dumped but not counted.
        if Path(cmd[0]).name == "pg_dump":
            writer = threading.Thread(target=_insert_weights, args=(case.pk, 7))
            writer.start()
            writer.join()
            committed_before_dump.append(7)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(backup_module.subprocess, "run", run_after_more_writes)
    stop = threading.Event()

    def keep_writing():
        try:
            while not stop.is_set():
                WeightMeasurement.objects.create(case_id=case.pk, measured_on=date(2026, 11, 2), kg=Decimal("5.1"))
        finally:
            connection.close()

    background = threading.Thread(target=keep_writing)
    background.start()
    try:
        target = backup(tmp_path / "backup")
    finally:
        stop.set()
        background.join()
    assert committed_before_dump == [7]
    manifest = (target / "manifest.json").read_text()
    written = WeightMeasurement.objects.count()
    counted = json.loads(manifest)["counts"]["cases.WeightMeasurement"]
    assert written >= counted + 7  # the writes went on during the backup

    call_command("flush", "--no-input", verbosity=0)
    after = restore(target)  # raises if the restored rows differ from the manifest
    assert after["cases.WeightMeasurement"] == counted == WeightMeasurement.objects.count()
    assert Case.objects.filter(pk=case.pk).exists()
