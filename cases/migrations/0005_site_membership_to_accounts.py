"""Site and Membership now belong to accounts (accounts.0001): state only, the tables stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("cases", "0004_case_site_updated_idx"),
        ("monitoring", "0005_site_to_accounts_draw_kind_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="patient",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="patients", to="accounts.site"
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="accounts.site"
                    ),
                ),
                migrations.DeleteModel(
                    name="Membership",
                ),
                migrations.DeleteModel(
                    name="Site",
                ),
            ],
            database_operations=[],
        ),
    ]
