"""Websocket routes of the discussion rooms."""

from django.urls import re_path

from discussions.consumers import RoomConsumer

websocket_urlpatterns = [
    re_path(r"^ws/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/$", RoomConsumer.as_asgi()),
]
