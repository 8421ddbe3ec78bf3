"""Make the audit trail append-only in PostgreSQL (HIPAA §164.312(b), integrity).

A trigger refuses DELETE of audit entries and any UPDATE other than Django clearing the actor
when a user account is removed (actor is SET_NULL). SQLite (development) has no such trigger.
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION genegate_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: entries cannot be deleted';
    END IF;
    IF (to_jsonb(NEW) - 'actor_id') IS DISTINCT FROM (to_jsonb(OLD) - 'actor_id') THEN
        RAISE EXCEPTION 'The audit trail is append-only: entries cannot be changed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS genegate_audit_append_only ON auditlog_logentry;
CREATE TRIGGER genegate_audit_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION genegate_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS genegate_audit_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS genegate_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("auditlog", "0017_add_actor_email")]
    operations = [migrations.RunPython(forwards, backwards)]
