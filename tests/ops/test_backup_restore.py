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


# --- Private files; verify in a scratch database before replacing anything (issue 13 item 4) ----
def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.django_db(transaction=True)
def test_backup_folders_and_files_are_private_to_their_owner(tmp_path):
    Personas()
    target = backup(tmp_path / "backups" / "one")
    assert _mode(target) == 0o700 and _mode(target.parent) == 0o700
    files = sorted(p.name for p in target.iterdir())
    assert files and all(_mode(target / name) == 0o600 for name in files), {n: oct(_mode(target / n)) for n in files}


def _scratch_databases() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", ["%\\_restore\\_check\\_%"])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("damage", ["manifest-count", "dump", "media"])
def test_a_bad_backup_is_refused_before_anything_is_replaced(tmp_path, damage):
    cast = Personas()
    doc = Document(
        case=cast.case_a,
        kind="genetic_report",
        original_name="r.pdf",
        content_type="application/pdf",
        size=9,
        sha256="b" * 64,
    )
    doc.file.save("ignored", ContentFile(b"%PDF-1.4\n"), save=True)
    target = backup(tmp_path / "backup")
    # Work goes on after the backup: a restore that failed halfway would lose it.
    WeightMeasurement.objects.create(case=cast.case_a, measured_on=date(2026, 11, 21), kg=Decimal("5.6"))
    before = row_counts()
    if damage == "manifest-count":
        manifest = json.loads((target / "manifest.json").read_text())
        manifest["counts"]["cases.Case"] += 1
        (target / "manifest.json").write_text(json.dumps(manifest))
        message = "differ from its manifest"
    elif damage == "dump":
        name = "db.dump" if connection.vendor == "postgresql" else "db.sqlite3"
        data = (target / name).read_bytes()
        (target / name).write_bytes(data[: len(data) // 2])
        message = "does not load" if connection.vendor == "postgresql" else "damaged|cannot be read"
    else:
        (target / "media.tar.gz").write_bytes(b"not a gzip archive")
        message = "documents archive does not read"
    with pytest.raises(RuntimeError, match=message) as refused:
        restore(target)
    assert "nothing was replaced" in str(refused.value)
    assert row_counts() == before
    assert Path(Document.objects.get(pk=doc.pk).file.path).read_bytes() == b"%PDF-1.4\n"
    if connection.vendor == "postgresql":
        assert _scratch_databases() == []  # the scratch database is dropped either way


@pytest.mark.django_db(transaction=True)
def test_restore_data_reports_a_refused_backup_as_a_command_error(tmp_path):
    from django.core.management.base import CommandError

    Personas()
    target = backup(tmp_path / "backup")
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["counts"]["cases.Patient"] = 999
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="nothing was replaced"):
        call_command("restore_data", str(target), "--yes")
