"""Validation runs a suite of tasks: rename task -> suite, add per-task scores and the scratch cache."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("validation", "0002_run_task_spec_requester"),
    ]

    operations = [
        migrations.RenameField("validationrun", "task", "suite"),
        migrations.RenameField("validationrun", "task_spec", "suite_spec"),
        migrations.RenameField("validationsummary", "task", "suite"),
        migrations.AddField(
            model_name="validationsummary",
            name="gain",
            field=models.FloatField(blank=True, null=True, help_text="suite mean gain of the fine-tune over scratch"),
        ),
    ]
