"""The audit trail covers every patient-data model and cannot be edited through the app."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from cases.models import Case, Patient

PATIENT_DATA_APPS = ("cases", "billing", "monitoring")
# Reference data that holds no patient data (checked by name so a new model must be decided on).
NOT_PATIENT_DATA = {
    "cases.Site",
    "cases.Membership",
    "billing.Payer",
    "monitoring.ProtocolVersion",
    "billing.ReferencePrice",
    "billing.SupportProgram",
    "monitoring.ReminderRoute",
}


def _links_to_a_case(model, depth: int = 0) -> bool:
    if model in (Case, Patient):
        return True
    if depth > 3:
        return False
    for field in model._meta.get_fields():
        linked = field.many_to_one and field.related_model is not None and field.concrete
        if linked and (field.related_model in (Case, Patient) or _links_to_a_case(field.related_model, depth + 1)):
            return True
    return False


def patient_data_models():
    for label in PATIENT_DATA_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.label not in NOT_PATIENT_DATA and _links_to_a_case(model):
                yield model


def test_every_patient_data_model_is_audited():
    models = list(patient_data_models())
    assert Case in models and Patient in models
    unaudited = [m._meta.label for m in models if not auditlog.contains(m)]
    assert unaudited == []


def test_the_audit_admin_allows_no_add_change_or_delete(rf, admin_user):
    from django.contrib import admin

    model_admin = admin.site._registry[LogEntry]
    request = rf.get("/admin/auditlog/logentry/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)


def test_no_app_url_edits_the_audit_trail():
    from tests.urlwalk import iter_patterns

    names = [name or "" for _route, name, _p in iter_patterns()]
    assert not [n for n in names if "logentry" in n and not n.startswith("admin:")]


@pytest.mark.django_db
def test_postgresql_refuses_to_change_or_delete_an_audit_entry(cast):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (make test runs on PostgreSQL)")
    entry = LogEntry.objects.get_for_object(cast.case_a).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes_text="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_to_truncate_the_audit_trail_even_by_cascade():
    """Committed rows (a TRUNCATE in the transaction that inserted them fails for another reason);
    the test's own flush afterwards goes through tests/conftest.py's test-only allowance."""
    from tests.personas import Personas

    if connection.vendor != "postgresql":
        pytest.skip("the append-only triggers are PostgreSQL's (make test runs on PostgreSQL)")
    cast = Personas()
    assert LogEntry.objects.exists()
    for statement in ("TRUNCATE auditlog_logentry", "TRUNCATE auth_user CASCADE"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert LogEntry.objects.get_for_object(cast.case_a).exists()


@pytest.mark.django_db
def test_the_application_role_owns_its_tables_but_is_not_a_superuser():
    """A superuser could switch the triggers off or drop them unseen (issue 13 item 8); make test
    connects as the role scripts/services.sh creates, like production should."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL roles")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'auditlog_logentry'")
        assert cursor.fetchone() == (True,)
