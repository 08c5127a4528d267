from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    name = "models_app"
    verbose_name = "Model repositories"

    def ready(self) -> None:
        from hub.orgs import membership_changed
        from models_app.repos.events import announce_org_access_change

        membership_changed.connect(announce_org_access_change, dispatch_uid="models_app.org_access")
