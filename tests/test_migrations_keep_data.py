"""Moving Site and Membership from cases to accounts keeps every table, row and audit entry.

The demo data is put into the schema as it was before the move (cases 0004, monitoring 0004,
no accounts app): the database is migrated back to those nodes, its row counts and one case's
whole audit history are read, then it is migrated forward again and compared.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE_THE_MOVE = [
    ("cases", "0004_case_site_updated_idx"),
    ("monitoring", "0004_reminders"),
    ("billing", "0003_payer_milestone_months"),
    ("accounts", None),
]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if not t.startswith("django_migrations")]
        counts = {}
        for table in sorted(tables):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608  (names from introspection)
            counts[table] = cursor.fetchone()[0]
    return counts


def _audit_history(case_pk: int, site_pk: int) -> list[tuple]:
    """Every audit entry of the case and of its site, with the model each entry names."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.id, ct.model, e.object_pk, e.action, e.changes_text, e.timestamp
            FROM auditlog_logentry e JOIN django_content_type ct ON ct.id = e.content_type_id
            WHERE (ct.model = 'case' AND e.object_pk = %s) OR (ct.model = 'site' AND e.object_pk = %s)
            ORDER BY e.id
            """,
            [str(case_pk), str(site_pk)],
        )
        return cursor.fetchall()


def _site_content_type_app() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_label FROM django_content_type WHERE model IN ('site', 'membership')")
        return {row[0] for row in cursor.fetchall()}


def test_moving_site_and_membership_keeps_rows_and_audit_history():
    call_command("seed_demo", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, site_id FROM cases_case ORDER BY id LIMIT 1")
        case_pk, site_pk = cursor.fetchone()
    latest = _latest()

    _migrate(BEFORE_THE_MOVE)
    assert _site_content_type_app() == {"cases"}
    before_counts = _row_counts()
    before_history = _audit_history(case_pk, site_pk)
    assert before_counts["cases_site"] >= 2 and before_counts["cases_membership"] >= 9
    assert any(model == "site" for _id, model, *_ in before_history)
    assert any(model == "case" for _id, model, *_ in before_history)

    _migrate(latest)
    assert _site_content_type_app() == {"accounts"}
    after_counts = _row_counts()
    # Tables made by later migrations come back empty; every table of the old schema keeps its rows.
    assert {table: after_counts.get(table) for table in before_counts} == before_counts
    assert _audit_history(case_pk, site_pk) == before_history

    # The moved models read their rows through the new app, and the audit trail still resolves.
    from auditlog.models import LogEntry

    from accounts.models import Membership, Site

    site = Site.objects.get(pk=site_pk)
    assert Membership.objects.filter(site=site).exists()
    assert LogEntry.objects.get_for_object(site).exists()
