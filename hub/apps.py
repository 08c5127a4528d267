from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "TransferHub accounts"

    def ready(self) -> None:
        from hub import schema  # noqa: F401 - registers the OpenAPI auth extension
