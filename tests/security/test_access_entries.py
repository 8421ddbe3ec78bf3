"""Issue 13 item 8: every page that shows a patient's name writes an access entry for that
patient's case (HIPAA §164.312(b)), walked over every URL pattern of the project."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from cases.models import Case
from tests.security.corpus import seed_world, url_ids
from tests.urlwalk import project_urls

TEXT = ("text/html", "text/csv", "text/plain", "text/calendar", "application/json", "image/svg+xml")


def _names_to_cases() -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for pk, name in Case.objects.values_list("pk", "patient__legal_name"):
        out.setdefault(name, set()).add(pk)
    return out


def test_every_page_that_renders_a_patients_name_writes_an_access_entry_for_that_case(db):
    seed_world()
    names = _names_to_cases()
    assert len(names) > 10
    ids = url_ids()
    missing, pages_with_names = [], set()
    for username in ("admin", "manager", "coordinator"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        for name, _route, path in project_urls(ids):
            if name == "logout":
                continue
            before = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            response = client.get(path)
            if response.status_code != 200 or not response.get("Content-Type", "").startswith(TEXT):
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode(errors="replace")
            shown = [n for n in names if n in text]
            if not shown:
                continue
            pages_with_names.add(name)
            logged = {
                data.get("case_id")
                for data in LogEntry.objects.filter(
                    pk__gt=before, action=LogEntry.Action.ACCESS, actor__username=username
                ).values_list("additional_data", flat=True)
                if data
            }
            for patient in shown:
                if not names[patient] & logged:
                    missing.append((username, name, path, patient))
                    break
    assert not missing, sorted(set(missing))
    # The walk reached the pages issue 13 named and the list pages.
    for name in ("monitoring:draw", "monitoring:milestone", "cases:list", "home"):
        assert name in pages_with_names, name


def test_a_list_page_writes_one_access_entry_per_case_with_the_viewer(cast, client):
    client.force_login(cast.coordinator)
    before = LogEntry.objects.count()
    assert client.get("/cases/").status_code == 200
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("-pk").first()
    assert LogEntry.objects.count() == before + 1
    assert entry.actor == cast.coordinator and entry.additional_data == {"case_id": cast.case_a.pk}
    assert entry.object_pk == str(cast.case_a.pk) and entry.object_repr == f"Case {cast.case_a.pk}"
