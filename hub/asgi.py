"""ASGI entry point: HTTP goes to Django, websockets to the discussion rooms."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from hub.observe import ObserveApp  # noqa: E402
from hub.routing import websocket_urlpatterns  # noqa: E402
from hub.urlguard import UrlGuard  # noqa: E402
from hub.wsauth import IdentityMiddleware, browser_origin_validator  # noqa: E402
from models_app.bytes_routes import BYTES_ROUTES  # noqa: E402
from models_app.streaming import BytesApp  # noqa: E402

# ObserveApp, outermost: the request id, one access-log line and the metrics for every request and
# websocket, whoever answers it (hub/observe.py).
application = ObserveApp(
    ProtocolTypeRouter(
        {
            # URLs with control characters are refused first (hub/urlguard.py). The raw-bytes routes
            # (models_app/bytes_routes.py: upload bodies streamed with limits checked as bytes arrive,
            # downloads with Range and bounded memory, Xet xorbs) are served before Django; the rest is Django.
            "http": UrlGuard(BytesApp(django_asgi_app, BYTES_ROUTES)),
            "websocket": browser_origin_validator(IdentityMiddleware(URLRouter(websocket_urlpatterns))),
        }
    )
)
