from django.urls import path

from discussions import api, threads_api, views
from models_app.repos.routes import KINDS, RepoKind


def thread_routes(kind: RepoKind) -> list:
    """The HF client's discussion URLs, for models and datasets (before hub/urls.py's JSON catch-all)."""
    base, kw, name = f"{kind.api}/<str:owner>/<str:name>/discussions", kind.kwargs, kind.name
    one = f"{base}/<int:num>"
    return [
        path(base, threads_api.DiscussionsApi.as_view(), kw, name=name("hf_discussions")),
        path(one, threads_api.DiscussionDetailApi.as_view(), kw, name=name("hf_discussion")),
        path(f"{one}/comment", threads_api.CommentApi.as_view(), kw, name=name("hf_discussion_comment")),
        path(
            f"{one}/comment/<str:comment_id>/edit",
            threads_api.CommentEditApi.as_view(),
            kw,
            name=name("hf_discussion_comment_edit"),
        ),
        path(
            f"{one}/comment/<str:comment_id>/hide",
            threads_api.CommentHideApi.as_view(),
            kw,
            name=name("hf_discussion_comment_hide"),
        ),
        path(f"{one}/title", threads_api.TitleApi.as_view(), kw, name=name("hf_discussion_title")),
        path(f"{one}/status", threads_api.StatusApi.as_view(), kw, name=name("hf_discussion_status")),
        path(f"{one}/merge", threads_api.MergeApi.as_view(), kw, name=name("hf_discussion_merge")),
    ]


urlpatterns = [
    *(route for kind in KINDS for route in thread_routes(kind)),
    path("api/models/<str:owner>/<str:name>/messages", api.RoomMessagesApi.as_view(), name="room_messages"),
    path(
        "api/models/<str:owner>/<str:name>/messages/preview",
        api.MessagePreviewApi.as_view(),
        name="room_message_preview",
    ),
    path("api/mentions/unread", api.UnreadMentionsApi.as_view(), name="mentions_unread"),
    path("api/models/<str:owner>/<str:name>/reports", api.ReportApi.as_view(), name="api_report"),
    path(
        "api/datasets/<str:owner>/<str:name>/reports",
        api.ReportApi.as_view(),
        {"repo_type": "dataset"},
        name="api_dataset_report",
    ),
    path("<str:owner>/<str:name>/discussion", views.room_page, name="room_page"),
    path("<str:owner>/<str:name>/discussions/<int:num>", views.thread_page, name="thread_page"),
    path("<str:owner>/<str:name>/report", views.report_page, name="report_page"),
]
