"""Foreign keys to Site now name accounts.Site (state only: the table is the same), and draw
kinds become choices on the model (monitoring.kinds)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("monitoring", "0004_reminders"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="acknowledgement",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="assessment",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="assessments", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="draw",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="draws", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="flag",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="flags", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="milestone",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="milestones", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="reminder",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="reminders", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="reminderroute",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="reminder_routes", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="steroidcourse",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="steroid_courses", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="steroiddecision",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="steroid_decisions",
                        to="accounts.site",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="draw",
            name="kind",
            field=models.CharField(
                choices=[
                    ("liver", "Liver panel"),
                    ("platelets", "Platelet count"),
                    ("troponin", "Troponin-I"),
                    ("steroid_review", "Steroid review"),
                ],
                max_length=20,
            ),
        ),
    ]
