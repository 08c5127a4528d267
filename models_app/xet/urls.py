"""Xet routes: token endpoints under the HF API, the CAS under /xet/ (the casUrl the token names)."""

from django.urls import path, re_path

from models_app.xet import views

urlpatterns = [
    path("api/models/<str:owner>/<str:name>/xet-write-token/<path:rev>", views.xet_write_token, name="xet_write_token"),
    path("api/models/<str:owner>/<str:name>/xet-read-token/<path:rev>", views.xet_read_token, name="xet_read_token"),
    path("xet/v1/shards", views.shard_upload, name="xet_shard_upload"),
    path("xet/v1/chunks/<str:prefix>/<str:hash>", views.chunk_query, name="xet_chunk_query"),
    re_path(r"^xet/(?P<rest>.*)$", views.not_offered, name="xet_not_offered"),
]
