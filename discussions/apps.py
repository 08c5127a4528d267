from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "discussions"
    verbose_name = "Discussion rooms"

    def ready(self) -> None:
        from discussions import hub_voice
        from models_app.events import revision_created, validation_finished

        revision_created.connect(hub_voice.on_revision_created, dispatch_uid="discussions.revision_created")
        validation_finished.connect(hub_voice.on_validation_finished, dispatch_uid="discussions.validation_finished")
