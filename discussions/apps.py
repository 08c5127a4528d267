from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "discussions"
    verbose_name = "Discussion rooms"

    def ready(self) -> None:
        from discussions import hub_voice, threads
        from hub.tokens import account_disabled, token_revoked
        from models_app.repos.events import (
            pull_request_committed,
            pull_request_opened,
            revision_created,
            validation_finished,
        )

        revision_created.connect(hub_voice.on_revision_created, dispatch_uid="discussions.revision_created")
        validation_finished.connect(hub_voice.on_validation_finished, dispatch_uid="discussions.validation_finished")
        pull_request_opened.connect(threads.on_pull_request_opened, dispatch_uid="discussions.pull_request_opened")
        pull_request_committed.connect(
            threads.on_pull_request_committed, dispatch_uid="discussions.pull_request_committed"
        )
        token_revoked.connect(_token_revoked, dispatch_uid="discussions.token_revoked")
        account_disabled.connect(_account_disabled, dispatch_uid="discussions.account_disabled")


def _token_revoked(sender, token, **kwargs) -> None:
    from discussions.rooms import rooms_announce_access_of

    rooms_announce_access_of(token.user)


def _account_disabled(sender, user, **kwargs) -> None:
    from discussions.rooms import rooms_announce_access_of

    rooms_announce_access_of(user)  # its open sockets re-check (credentials_still_valid) and close
