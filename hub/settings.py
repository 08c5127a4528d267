"""TransferHub settings, all read from the environment here and nowhere else.

With no variable set the hub runs on one machine: SQLite and files under
``HUB_DATA_DIR``, a filesystem Celery broker and a SQLite-backed broadcast
channel layer, so a worker process can push live events to the web process
without a Redis server. ``DATABASE_URL``, ``REDIS_URL`` and ``HUB_STORAGE=s3``
switch each part to its scale-out backend. docs/configuration.md lists every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from hub.env import env_bool, env_float, env_int, env_list, env_size, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Debug pages (tracebacks, the URL list on a 404) are for developers only: opt in with
# DJANGO_DEBUG=1. Without it even ``make run`` on a laptop answers errors with the hub's own
# 404/403/500 pages.
DEBUG = env_bool("DJANGO_DEBUG", False, doc="1: Django's debug pages (tracebacks, URL lists); developers only")
# A deployment behind https: secret key and hosts required, secure cookies, HSTS. Separate from
# DEBUG so the one-machine run is production-like over plain http on localhost. DJANGO_DEBUG=0,
# the deploy recipe before HUB_DEPLOY existed, still means a deployment.
PRODUCTION = env_bool(
    "HUB_DEPLOY",
    os.environ.get("DJANGO_DEBUG", "").strip() == "0",
    doc="1: deployed behind https (secret key and allowed hosts required, secure cookies, HSTS)",
)
if PRODUCTION and DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("HUB_DEPLOY=1 with DJANGO_DEBUG=1: debug pages are never served from a deployment")

DATA_DIR = Path(
    env_str(
        "HUB_DATA_DIR", str(BASE_DIR / "data"), doc="folder for the SQLite files, blobs and broker (one-machine mode)"
    )
).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", required=True, doc="secret key; required when HUB_DEPLOY=1")
else:
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY",
        "django-insecure-transferhub-dev-only-0f4c7a9e1b2d3c5e6f708192a3b4c5d6e7f8091a2b3c4d5e",
        doc="secret key; required when HUB_DEPLOY=1",
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"],
    doc="comma-separated host names the site answers to",
)
CSRF_TRUSTED_ORIGINS = env_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", [], doc="comma-separated origins, e.g. https://hub.example.org"
)
SITE_URL = env_str("HUB_SITE_URL", "", doc="public base URL used in links the API returns (default: from the request)")

INSTALLED_APPS = [
    "django.contrib.admin",  # the operator's admin at /admin/ (hub/admin.py and each app's admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from /static/, not a CDN the CSP blocks
    "channels",
    "hub",
    "models_app",
    "models_app.validation",
    "models_app.finder",
    "models_app.xet",
    "models_app.engagement",
    "discussions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "hub.access.IdentityMiddleware",  # Django's AuthenticationMiddleware, through hub/access.py
    "models_app.middleware.RepoRedirectMiddleware",
    "models_app.middleware.TakedownMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hub.observe.RouteNameMiddleware",  # names the route for the request metrics (hub/observe.py)
]

ROOT_URLCONF = "hub.urls"
ASGI_APPLICATION = "hub.asgi.application"
WSGI_APPLICATION = None
AUTH_USER_MODEL = "hub.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hub.context_processors.hub",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str(
    "DATABASE_URL", "", doc="database URL, e.g. postgres://user@host:5432/transferhub (default SQLite)"
)
DATABASE_POOL_SIZE = env_int(
    "DATABASE_POOL_SIZE",
    0,
    doc="PostgreSQL connections per process, pooled (psycopg_pool); 0: one per thread, kept DATABASE_CONN_MAX_AGE",
    minimum=0,
)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            # Pooling and persistent connections exclude each other (Django refuses both).
            conn_max_age=0
            if DATABASE_POOL_SIZE
            else env_int("DATABASE_CONN_MAX_AGE", 60, doc="seconds a database connection is reused", minimum=0),
            # A reused connection is checked first: after a database restart (or an outage) every thread's old
            # connection is dead, and the websocket handshake's identity lookup would fail on it once.
            conn_health_checks=True,
        )
    }
    if DATABASE_POOL_SIZE:
        # Under ASGI each request's sync code runs in a thread of its own, and each thread opens its own
        # connection, so connections grow with the requests in flight: a load of 200 users ran a shared
        # PostgreSQL out of its 100 ("too many clients", 503s; docs/benchmarks.md, "Load"). A pool bounds
        # a process's connections; a request waits up to 30 s for one instead of failing at once.
        # conn_health_checks above makes Django's pool check each connection as it is handed out, so
        # the pool's connections that died in a database outage are replaced, not used.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": 30,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # WAL lets the web process read while the worker writes; IMMEDIATE
            # transactions take the write lock up front, so two writers queue
            # on the busy timeout instead of failing with "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            "TEST": {"NAME": DATA_DIR / "test-db.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker, cache -----------------------------------
REDIS_URL = env_str("REDIS_URL", "", doc="redis://host:6379/0; turns on the Redis channel layer and Celery broker")
REDIS_MAX_CONNECTIONS = env_int(
    "REDIS_MAX_CONNECTIONS",
    1000,
    doc="connection pool size per process for the channel layer (redis-py caps at 100)",
    minimum=1,
)
if REDIS_URL:
    # channels-redis waits for a message with BZPOPMIN blocking 5 s; redis-py 8 gives every
    # socket a 5 s read timeout too, so on a busy machine the "nothing yet" reply can come
    # after the client gave up and receive() raises TimeoutError (seen in CI: a listener
    # died mid-validation). The read timeout must outlast the block.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS, "socket_timeout": 30}],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "hub.layers.SQLiteBroadcastChannelLayer",
            "CONFIG": {"path": str(DATA_DIR / "events.sqlite3")},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if not REDIS_URL:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Without it kombu writes its exchange tables to ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "store_processed": False,
    }
VALIDATION_SOFT_TIME_LIMIT = env_int(
    "VALIDATION_SOFT_TIME_LIMIT", 1800, doc="seconds a validation run may take before it is stopped", minimum=10
)
VALIDATION_HARD_TIME_LIMIT = VALIDATION_SOFT_TIME_LIMIT + 120
VALIDATION_HEARTBEAT_SECONDS = env_int(
    "VALIDATION_HEARTBEAT_SECONDS", 10, doc="seconds between a running validation's heartbeats", minimum=1
)
VALIDATION_STALE_AFTER = env_int(
    "VALIDATION_STALE_AFTER", 120, doc="seconds without a heartbeat before the sweeper re-queues a run", minimum=2
)
VALIDATION_SWEEP_INTERVAL = env_int(
    "VALIDATION_SWEEP_INTERVAL", 60, doc="seconds between sweeps for stale validation runs (Celery beat)", minimum=1
)
VALIDATION_REQUEUE_AFTER = env_int(
    "VALIDATION_REQUEUE_AFTER",
    6 * 3600,
    doc="seconds a run may sit queued before its message is sent again",
    minimum=60,
)
VALIDATION_BUDGET_SCALE = float(
    env_str("VALIDATION_BUDGET_SCALE", "1.0", doc="shrink the reference budgets (tests; published runs use 1.0)")
)
# A pull request whose suite mean (the headline score, higher is better) falls more than this below
# its target branch's is flagged before anyone merges it (models_app/validation/compare.py).
HUB_PR_MAX_MEAN_DROP = env_float(
    "HUB_PR_MAX_MEAN_DROP",
    0.02,
    doc="largest drop of the suite mean (absolute, 0.02 = 2 points) a pull request may cause unflagged",
    minimum=0.0,
)
# Which zoo models ``runhub`` publishes in the background: "all", "none", or a comma list of zoo names.
HUB_ZOO = env_list("HUB_ZOO", ["all"], doc="zoo models runhub publishes: all, none, or a comma list of names")
VALIDATION_MEMORY_LIMIT = env_size(
    "VALIDATION_MEMORY_LIMIT", 0, doc="address-space limit of the fine-tune child on CPU workers (0: 3/4 of RAM)"
)
VALIDATION_CACHE_DIR = Path(
    env_str(
        "VALIDATION_CACHE_DIR",
        str(DATA_DIR / "validation-cache"),
        doc="worker cache: blobs by sha256 and per-run snapshots",
    )
)
VALIDATION_CACHE_MAX_BYTES = env_size(
    "VALIDATION_CACHE_MAX_BYTES", 100 * 1024**3, doc="blob copies a worker keeps cached (least recently used go)"
)
HUB_BLOB_GRACE_HOURS = env_int(
    "HUB_BLOB_GRACE_HOURS",
    24,
    doc="hours an uploaded blob no revision names is kept (for its commit) before the storage sweep removes it",
    minimum=1,
)
HUB_SWEEP_INTERVAL = env_int(
    "HUB_SWEEP_INTERVAL", 3600, doc="seconds between storage sweeps (Celery beat; models_app/sweep.py)", minimum=60
)
CELERY_BEAT_SCHEDULE = {
    "validation-sweep": {"task": "validation.sweep_stale_runs", "schedule": float(VALIDATION_SWEEP_INTERVAL)},
    "storage-sweep": {"task": "storage.sweep", "schedule": float(HUB_SWEEP_INTERVAL)},
}
if REDIS_URL:
    # acks_late redelivers a job whose worker died; the visibility timeout must
    # outlast the longest job or Redis hands a running job to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": VALIDATION_HARD_TIME_LIMIT + 600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False, doc="run tasks inline (tests only)")
CELERY_TASK_ROUTES = {
    "models_app.validation.tasks.*": {"queue": "gpu"},
    "models_app.finder.tasks.*": {"queue": "gpu"},  # feature extraction and fine-tunes
}
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Storage --------------------------------------------------------------------
HUB_STORAGE = env_str("HUB_STORAGE", "local", doc="blob store: local (files under HUB_DATA_DIR/blobs) or s3")
if HUB_STORAGE not in ("local", "s3"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"HUB_STORAGE={HUB_STORAGE!r}: use local or s3")
BLOB_DIR = DATA_DIR / "blobs"
UPLOAD_TMP_DIR = DATA_DIR / "tmp"
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "transferhub", doc="S3 bucket (HUB_STORAGE=s3)")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL", None, doc="S3-compatible endpoint URL (MinIO, Ceph, moto)")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1", doc="S3 region")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID", None, doc="S3 access key")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY", None, doc="S3 secret key")
# Direct LFS uploads (HUB_STORAGE=s3; models_app/hf/lfs_staged.py, docs/hf-clients.md).
HUB_LFS_MULTIPART_THRESHOLD = env_size(
    "HUB_LFS_MULTIPART_THRESHOLD", 64 * 1024**2, doc="S3 mode: LFS objects from this size upload in parts"
)
HUB_LFS_PART_SIZE = env_size(
    "HUB_LFS_PART_SIZE", 32 * 1024**2, doc="S3 mode: size of each part of a multipart LFS upload (5 MiB at least)"
)
HUB_LFS_VERIFY_INLINE_MAX = env_size(
    "HUB_LFS_VERIFY_INLINE_MAX",
    8 * 1024**2,
    doc="S3 mode: LFS objects up to this size are hashed by the web process at verify; larger ones by a worker",
)
HUB_LFS_VERIFY_WAIT = env_int(
    "HUB_LFS_VERIFY_WAIT",
    50,
    doc="S3 mode: seconds the verify call waits for a worker's hash before answering 503 (keep under nginx's timeout)",
    minimum=1,
)
DOWNLOAD_ACCEL_REDIRECT = env_str(
    "HUB_ACCEL_REDIRECT_PREFIX",
    "",
    doc="internal nginx location for X-Accel-Redirect downloads, e.g. /_blobs/ (empty: the app streams)",
)

# --- Xet uploads (see docs/xet.md) ---------------------------------------------------
XET_DIR = DATA_DIR / "xet"
XET_TOKEN_TTL = env_int(
    "HUB_XET_TOKEN_TTL", 900, doc="seconds a Xet CAS access token lives (the client refreshes it)", minimum=60
)
XET_UNREFERENCED_GRACE = env_int(
    "HUB_XET_GRACE_HOURS",
    24,
    doc="hours an uploaded xorb or Xet file may wait for its commit before cleanup",
    minimum=1,
)

# --- Upload limits ------------------------------------------------------------------
HUB_MAX_FILE_SIZE = env_size("HUB_MAX_FILE_SIZE", 50 * 1024**3, doc="largest single file")
HUB_MAX_FILES_PER_COMMIT = env_int("HUB_MAX_FILES_PER_COMMIT", 1000, doc="most files in one upload", minimum=1)
HUB_REPO_QUOTA = env_size("HUB_REPO_QUOTA", 200 * 1024**3, doc="most bytes one repo's new blobs may hold")
HUB_USER_QUOTA = env_size("HUB_USER_QUOTA", 500 * 1024**3, doc="most bytes one user's uploads may hold")
HUB_ORG_QUOTA = env_size("HUB_ORG_QUOTA", 1024**4, doc="most bytes one organization's repos may hold")
# models_app/streaming.py: an upload that sends nothing for this long mid-body is answered 408
# and dropped, so a stalled client cannot hold a worker thread and a temp file forever.
HUB_UPLOAD_IDLE_TIMEOUT = env_int(
    "HUB_UPLOAD_IDLE_TIMEOUT",
    120,
    minimum=1,
    doc="seconds an upload may send nothing mid-body before it is answered 408",
)
# Upload routes are streamed by models_app.streaming before Django sees them. For any
# body that still reaches Django: multipart files always go to temp files (the one
# handler below), and Django's ASGI handler spools a request body to disk once it
# passes this size. Not 0: SpooledTemporaryFile treats 0 as "never roll over",
# which would hold every body in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TMP_DIR)
UPLOAD_TMP_DIR.mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2
DATA_UPLOAD_MAX_NUMBER_FILES = HUB_MAX_FILES_PER_COMMIT

# --- Discussion rooms --------------------------------------------------------------
HUB_CHAT_RATE_MESSAGES = env_int(
    "HUB_CHAT_RATE_MESSAGES", 10, doc="messages one user may post per HUB_CHAT_RATE_SECONDS", minimum=1
)
HUB_CHAT_RATE_SECONDS = env_int("HUB_CHAT_RATE_SECONDS", 10, doc="window of the chat rate limit, seconds", minimum=1)

# --- Static files, i18n -------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- REST framework ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["hub.permissions.TokenScopeAllows"],
    # DRF's parsers plus one check: no NUL, bounded depth (hub/jsonbody.py).
    "DEFAULT_PARSER_CLASSES": ["hub.jsonbody.JSONParser", "hub.jsonbody.FormParser", "hub.jsonbody.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "hub.schema.HubAutoSchema",
    "EXCEPTION_HANDLER": "hub.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "hub.negotiation.FallbackNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TransferHub API",
    "DESCRIPTION": "Publish, validate, download and discuss pretrained models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge from validator.swagger.io: the docs page loads nothing from outside the hub.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "defaultModelsExpandDepth": 0},
}

# --- Security -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True, doc="redirect http to https (production)")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, doc="HSTS max-age in production", minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The redirect to https is the proxy's job for /healthz probes too.
    SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|livez|metrics)$"]

# django-csp 4: no inline scripts anywhere; the pages load /static/ JavaScript.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # CSP Level 3: 'self' also matches ws: and wss: to the page's own host and port,
        # which is all the room's websocket needs (a bare ws: would allow any host).
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Operations: logs and metrics (docs/operations.md) ------------------------------------
# Every line, uvicorn's and Celery's included, goes through one handler that stamps the request id
# (hub/requestid.py). JSON lines (python-json-logger) in production, for a log shipper; text when
# debugging. uvicorn's access log is off: hub/observe.py logs each request once, with its id.
HUB_LOG_FORMAT = env_str(
    "HUB_LOG_FORMAT", "json" if PRODUCTION else "text", doc="log lines as json (production default) or text"
)
if HUB_LOG_FORMAT not in ("json", "text"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"HUB_LOG_FORMAT={HUB_LOG_FORMAT!r}: use json or text")
HUB_METRICS_TOKEN = env_str(
    "HUB_METRICS_TOKEN", "", doc="bearer token Prometheus sends to /metrics (unset: /metrics answers 404)"
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hub.requestid.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": HUB_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO", doc="log level")},
    "loggers": {
        # Replaces the handlers Django and uvicorn install for themselves, so their lines are structured too.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["console"], "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}
# The worker logs through LOGGING above instead of installing its own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
