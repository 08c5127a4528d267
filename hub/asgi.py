"""ASGI entry point: HTTP goes to Django, websockets to the discussion rooms."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from hub.routing import websocket_urlpatterns  # noqa: E402
from hub.urlguard import UrlGuard  # noqa: E402
from hub.wsauth import IdentityMiddleware, browser_origin_validator  # noqa: E402
from models_app import lfs_stream  # noqa: E402,F401 - registers the streamed LFS PUT
from models_app.downloads import DownloadApp  # noqa: E402
from models_app.streaming import StreamingUploads  # noqa: E402

application = ProtocolTypeRouter(
    {
        # URLs with control characters are refused first (hub/urlguard.py). Upload routes stream
        # their bodies (limits checked as bytes arrive); resolve downloads are answered before
        # Django (Range, bounded memory, pathsend); the rest is Django.
        "http": UrlGuard(DownloadApp(StreamingUploads(django_asgi_app))),
        "websocket": browser_origin_validator(IdentityMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
