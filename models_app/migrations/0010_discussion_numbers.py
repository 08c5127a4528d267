from django.conf import settings
from django.db import migrations, models


def numbers_from_pr_refs(apps, schema_editor):
    """Repos that already have refs/pr/N start counting after their highest N."""
    ModelRepo = apps.get_model("models_app", "ModelRepo")
    Ref = apps.get_model("models_app", "Ref")
    highest: dict[int, int] = {}
    for repo_id, name in Ref.objects.filter(kind="pr").values_list("repo_id", "name"):
        if name.isdigit():
            highest[repo_id] = max(highest.get(repo_id, 0), int(name))
    for repo_id, number in highest.items():
        ModelRepo.objects.filter(pk=repo_id).update(last_discussion_num=number)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("models_app", "0009_pr_refs"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelrepo",
            name="last_discussion_num",
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name="ref",
            name="opened_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(numbers_from_pr_refs, migrations.RunPython.noop),
    ]
