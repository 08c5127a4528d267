from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "models_app.validation"
    label = "validation"
    verbose_name = "Validation runs"
