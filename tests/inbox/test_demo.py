"""The demo's results inbox: a message in every state, samples that the listener takes, and a
rerun that changes nothing."""

from __future__ import annotations

from django.core.management import call_command

from monitoring.inbox.models import InboxMessage, InboxStatus
from monitoring.inbox.workflows import receive_hl7
from monitoring.models import Draw, Result


def test_the_demo_inbox_shows_every_state_and_a_rerun_changes_nothing(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (InboxMessage.objects.count(), Result.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (InboxMessage.objects.count(), Result.objects.count()) == counts
    statuses = set(InboxMessage.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in InboxStatus}
    overdue_liver = Draw.objects.get(case__patient__legal_name="Benjamin Lee", kind="liver", day=21)
    assert overdue_liver.state in ("late", "overdue")  # the reminders scenario stays

    samples = sorted((tmp_path / "samples").glob("*.hl7"))
    assert samples, "no sample files were written"
    for path in samples:
        outcome = receive_hl7(path.read_text().replace("\n", "\r").encode())
        assert outcome.ack in ("AA", "AE"), (path.name, outcome.reason)
    assert any(receive_hl7(p.read_text().encode()).duplicate for p in samples)  # sending a sample again creates nothing
