"""Site and Membership move from cases to accounts, keeping their tables and rows.

The tables stay ``cases_site`` and ``cases_membership`` (db_table), so only Django's state
changes here; cases.0005 and monitoring.0005 point their foreign keys at the new state. The
content types are renamed, not recreated, so audit-trail entries and permissions stay linked
to the same rows.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MOVED = ("site", "membership")


def _rename_content_types(apps, schema_editor, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        source = ContentType.objects.filter(app_label=old, model=model).first()
        if source is None:
            continue
        if ContentType.objects.filter(app_label=new, model=model).exists():
            # Both exist only if something created the new one early; keep the old row (its
            # id is what audit entries and permissions point at) and drop the empty new one.
            ContentType.objects.filter(app_label=new, model=model).delete()
        source.app_label = new
        source.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _rename_content_types(apps, schema_editor, "cases", "accounts")


def backwards(apps, schema_editor):
    _rename_content_types(apps, schema_editor, "accounts", "cases")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0004_case_site_updated_idx"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Site",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True)),
                        ("short_code", models.CharField(help_text="Short label, e.g. NCH", max_length=12, unique=True)),
                        ("npi", models.CharField(max_length=10, verbose_name="NPI")),
                        ("address", models.TextField()),
                        (
                            "place_of_service",
                            models.CharField(
                                choices=[
                                    ("21", "21 Inpatient Hospital"),
                                    ("22", "22 On Campus-Outpatient Hospital"),
                                    ("19", "19 Off Campus-Outpatient Hospital"),
                                    ("11", "11 Office"),
                                    ("12", "12 Home"),
                                    ("49", "49 Independent Clinic"),
                                ],
                                max_length=2,
                            ),
                        ),
                        (
                            "certified_center",
                            models.BooleanField(
                                default=False,
                                help_text="Certified SMA treatment center (payer site-of-care requirement).",
                            ),
                        ),
                        ("timezone", models.CharField(default="America/New_York", max_length=64)),
                    ],
                    options={
                        "db_table": "cases_site",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "site",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="accounts.site",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "cases_membership",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "site"), name="membership_unique_user_site")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
