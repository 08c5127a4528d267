from django.apps import AppConfig


class FinderConfig(AppConfig):
    name = "models_app.finder"
    label = "finder"
    verbose_name = "Model finder"
