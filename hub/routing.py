"""Websocket routes of every app, collected in one list for asgi.py."""

from discussions.routing import websocket_urlpatterns as discussion_routes

websocket_urlpatterns = [*discussion_routes]
