"""The audit trail refuses TRUNCATE too (issue 13 item 8).

0001's row trigger refuses UPDATE and DELETE, but TRUNCATE fires no row triggers: a statement
trigger refuses it (also when another table's TRUNCATE ... CASCADE would reach it). The
application's role owns the table but is not a superuser (scripts/services.sh). SQLite
(development) has no TRUNCATE.
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION genegate_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: it cannot be truncated';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS genegate_audit_no_truncate ON auditlog_logentry;
CREATE TRIGGER genegate_audit_no_truncate BEFORE TRUNCATE ON auditlog_logentry
    FOR EACH STATEMENT EXECUTE FUNCTION genegate_audit_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS genegate_audit_no_truncate ON auditlog_logentry;
DROP FUNCTION IF EXISTS genegate_audit_no_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("common", "0001_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
