from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "TransferHub accounts"

    def ready(self) -> None:
        from hub import schema  # noqa: F401 - registers the OpenAPI auth extension
        from hub.requestid import connect_celery_signals

        connect_celery_signals()  # a task logs with the id of the request that queued it
