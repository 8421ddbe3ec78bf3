"""make backup / make restore: a restore into an emptied database finds everything again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.base import ContentFile
from django.core.management import call_command

from cases.models import Case, Document, WeightMeasurement
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
