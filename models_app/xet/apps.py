from django.apps import AppConfig


class XetConfig(AppConfig):
    name = "models_app.xet"
    label = "xet"
    verbose_name = "Xet storage"

    def ready(self) -> None:
        # Registers the streamed xorb route with the front ASGI app, when the hub has one.
        from models_app.xet import streaming  # noqa: F401
