"""Validation pages, leaderboards and their API; included first by models_app/urls.py."""

from django.urls import path

from models_app.validation import api, views

urlpatterns = [
    path("leaderboards", views.leaderboards, name="leaderboards"),
    path("leaderboards/<str:task>", views.leaderboard, name="leaderboard"),
    path("api/leaderboards", api.LeaderboardsApi.as_view(), name="api_leaderboards"),
    path("api/leaderboards/<str:task>", api.LeaderboardApi.as_view(), name="api_leaderboard"),
    path("api/models/<str:owner>/<str:name>/validation", api.ModelValidationApi.as_view(), name="api_validation"),
    path("<str:owner>/<str:name>/validation", views.validation_page, name="validation"),
    path("<str:owner>/<str:name>/validation/rerun", views.rerun, name="validation_rerun"),
]
