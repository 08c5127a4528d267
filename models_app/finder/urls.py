"""Finder pages and API."""

from django.urls import path

from models_app.finder import api, views

urlpatterns = [
    path("find", views.find_home, name="find"),
    path("find/upload", views.find_upload, name="find_upload"),
    path("finds/<int:find_id>", views.find_page, name="find_page"),
    path("finds/<int:find_id>/confirm", views.find_confirm_view, name="find_confirm"),
    path("datasets/<str:owner>/<str:name>/find", views.find_start, name="find_start"),
    path("api/datasets/<str:owner>/<str:name>/find", api.DatasetFindApi.as_view(), name="api_dataset_find"),
    path("api/finds/<int:find_id>", api.FindApi.as_view(), name="api_find"),
    path("api/finds/<int:find_id>/confirm", api.FindConfirmApi.as_view(), name="api_find_confirm"),
]
