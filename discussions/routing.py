"""Websocket routes of the discussion rooms."""

websocket_urlpatterns: list = []
