from django.apps import AppConfig


class XetConfig(AppConfig):
    name = "models_app.xet"
    label = "xet"
    verbose_name = "Xet storage"
