from django.urls import path

from discussions import api, views

urlpatterns = [
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
    path("<str:owner>/<str:name>/report", views.report_page, name="report_page"),
]
