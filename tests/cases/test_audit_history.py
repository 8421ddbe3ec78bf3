"""The case's audit history as people read it (issue 18 item 3): views summarised one line per
person per day, each change as "field: old → new" with human labels, filters by kind and by
person, a formula-safe CSV of every entry, managers only, and reading or exporting it audited."""

from __future__ import annotations

import csv
import io

from auditlog.models import LogEntry
from django.urls import reverse

from cases.audit import AuditHistory
from cases.models import Stage, StageEvent
from tests.personas import make_user


def _history(client, case, **params):
    response = client.get(reverse("cases:audit", args=[case.pk]), params)
    assert response.status_code == 200
    return response


def test_views_are_one_line_per_person_per_day_and_changes_read_old_to_new(cast, login):
    case = cast.case_a
    coordinator = login(cast.coordinator)
    for _ in range(4):
        coordinator.get(reverse("cases:detail", args=[case.pk]))
    case.stage = Stage.GATING
    case.save()

    rows = _history(login(cast.manager), case).context["audit_entries"]
    views = [r for r in rows if r.kind == "views" and r.actor == cast.coordinator]
    assert len(views) == 1 and views[0].count == 4 and "Viewed the case 4 times on" in views[0].what
    changed = next(r for r in rows if r.what == "Case changed")
    assert changed.changes == ["Stage: Intake → Gating"]  # choice labels, no version counter
    page = _history(login(cast.manager), case).content.decode()
    assert "Stage: Intake → Gating" in page and "Viewed the case 4 times" in page
    assert "Case access" not in page and "Case update" not in page


def test_the_history_filters_by_kind_and_by_person(cast, login):
    case = cast.case_a
    login(cast.coordinator).get(reverse("cases:detail", args=[case.pk]))
    login(cast.physician).get(reverse("cases:detail", args=[case.pk]))
    StageEvent.objects.create(case=case, stage=Stage.GATING, note="Checked by hand")
    manager = login(cast.manager)

    only_views = _history(manager, case, kind="views").context["audit_entries"]
    assert only_views and {r.kind for r in only_views} == {"views"}
    only_changes = _history(manager, case, kind="changes").context["audit_entries"]
    assert only_changes and {r.kind for r in only_changes} == {"changes"}
    assert any(r.what == "Stage event added" and "Note: Checked by hand" in r.changes[0] for r in only_changes)

    by_physician = _history(manager, case, person=cast.physician.pk).context["audit_entries"]
    assert by_physician and {r.actor for r in by_physician} == {cast.physician}
    body = _history(manager, case, kind="views", person=cast.physician.pk).content.decode()
    assert f"person={cast.physician.pk}" in body or "Physician" in body
    assert _history(manager, case, kind="junk").status_code == 200  # a bad filter shows everything


def test_the_csv_lists_every_entry_formula_safe_and_its_export_is_audited(cast, login):
    case = cast.case_a
    for _ in range(3):
        login(cast.coordinator).get(reverse("cases:detail", args=[case.pk]))
    StageEvent.objects.create(case=case, stage=Stage.GATING, note='=HYPERLINK("http://evil.example")')
    sly = make_user("sly", "coordinator", cast.site_a)
    sly.first_name, sly.last_name = "=cmd|' /C calc'!A0", ""
    sly.save()
    login(sly).get(reverse("cases:detail", args=[case.pk]))
    manager = login(cast.manager)
    response = manager.get(reverse("cases:audit_csv", args=[case.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["when", "who", "kind", "what", "changes"]
    assert sum(1 for r in rows if r[2] == "views" and r[1] == "Coordinator") == 3  # each view, not summarised
    note = next(r for r in rows if r[3] == "Stage event added")
    assert "Note: =HYPERLINK" in note[4] and not note[4].startswith("=")
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert any(r[1] == "'=cmd|' /C calc'!A0" for r in rows)  # neutralised, not dropped
    assert "T" in rows[1][0] and rows[1][0][:4].isdigit()  # ISO 8601 in files

    exported = LogEntry.objects.filter(additional_data__case_id=case.pk, additional_data__has_key="export")
    assert exported.filter(actor=cast.manager).count() == 1
    exports = AuditHistory(case, kind="exports")[:10]
    assert [r.what for r in exports] == ["Audit history exported (CSV)"]


def test_only_managers_read_or_export_the_history(cast, login):
    case = cast.case_a
    for user in (cast.coordinator, cast.billing, cast.physician):
        client = login(user)
        assert client.get(reverse("cases:audit", args=[case.pk])).status_code == 403
        assert client.get(reverse("cases:audit_csv", args=[case.pk])).status_code == 403
    assert login(cast.outsider).get(reverse("cases:audit_csv", args=[case.pk])).status_code == 404


def test_a_flag_acknowledgement_reads_as_the_physicians_plan(cast, login):
    """Issue 18 item 3 on main's flag acknowledgements: the note and plan, old → new, no flag code."""
    from monitoring.models import Flag
    from monitoring.workflows import flags_acknowledge

    case = cast.case_a
    flag = Flag.objects.create(
        case=case, site=case.site, code="alt_20x_uln", level="urgent", analyte="alt", message="ALT 21×ULN", source="x"
    )
    flags_acknowledge(
        case=case,
        flag_ids=[flag.pk],
        by=cast.physician,
        note="Seen, child well",
        plan="Repeat in 2 days",
        repeat_on=None,
    )
    rows = AuditHistory(case, kind="changes")[:20]
    changed = [c for r in rows for c in r.changes]
    assert "Plan: — → Repeat in 2 days" in changed and "Acknowledgement note: — → Seen, child well" in changed
    page = _history(login(cast.manager), case).content.decode()
    assert "alt_20x_uln" not in page
