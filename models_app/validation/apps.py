from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "models_app.validation"
    label = "validation"
    verbose_name = "Validation runs"

    def ready(self) -> None:
        from models_app.repos.events import revision_created
        from models_app.validation.runs import on_revision_created

        # Sent after the upload's transaction commits; a dispatch_uid keeps one connection.
        revision_created.connect(on_revision_created, dispatch_uid="validation.on_revision_created")

        from models_app.validation import metrics

        metrics.register()  # the queue depth and run durations on /metrics
