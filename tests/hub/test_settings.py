"""Settings read from the environment: both modes, and loud failures on bad values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
    "'hosts': s.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('hosts'), 'broker': s.CELERY_BROKER_URL,"
    "'debug': s.DEBUG, 'hsts': getattr(s, 'SECURE_HSTS_SECONDS', 0), 'secure_cookie': getattr(s, 'SESSION_COOKIE_SECURE', False),"
    "'vis': s.CELERY_BROKER_TRANSPORT_OPTIONS.get('visibility_timeout'), 'hard': s.VALIDATION_HARD_TIME_LIMIT,"
    "'prefetch': s.CELERY_WORKER_PREFETCH_MULTIPLIER, 'acks_late': s.CELERY_TASK_ACKS_LATE}))"
)
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "HUB_DEPLOY"}
}


def probe(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {**CLEAN, "DJANGO_SETTINGS_MODULE": "hub.settings", "HUB_DATA_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60)


def test_no_configuration_is_the_one_machine_mode(tmp_path):
    result = probe(tmp_path)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["db"] == "django.db.backends.sqlite3"
    assert config["layer"] == "hub.layers.SQLiteBroadcastChannelLayer"
    assert config["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "queue").is_dir()


def test_database_and_redis_urls_switch_to_scale_out_backends(tmp_path):
    result = probe(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/hub",
        REDIS_URL="redis://127.0.0.1:6379/3",
        REDIS_MAX_CONNECTIONS="2000",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["db"] == "django.db.backends.postgresql"
    assert config["layer"] == "channels_redis.core.RedisChannelLayer"
    hosts = config["hosts"]
    assert [(h["address"], h["max_connections"]) for h in hosts] == [("redis://127.0.0.1:6379/3", 2000)]
    # receive() blocks in BZPOPMIN for brpop_timeout; a shorter socket read timeout (redis-py 8: 5 s,
    # the same) makes an idle receive raise TimeoutError on a busy machine.
    from channels_redis.core import RedisChannelLayer

    assert hosts[0]["socket_timeout"] > RedisChannelLayer.brpop_timeout
    assert config["broker"] == "redis://127.0.0.1:6379/3"
    # A running job is never handed to a second worker while the first may still run it.
    assert config["vis"] > config["hard"]
    assert config["prefetch"] == 1 and config["acks_late"] is True


def test_no_configuration_serves_without_debug_pages_over_plain_http(tmp_path):
    """What ``make run`` gets: the hub's own error pages, and cookies that work on http://localhost."""
    config = json.loads(probe(tmp_path).stdout)
    assert config["debug"] is False and config["secure_cookie"] is False and config["hsts"] == 0


def test_debug_pages_are_opt_in_and_never_in_a_deployment(tmp_path):
    assert json.loads(probe(tmp_path, DJANGO_DEBUG="1").stdout)["debug"] is True
    result = probe(tmp_path, DJANGO_DEBUG="1", HUB_DEPLOY="1", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0 and "debug pages are never served from a deployment" in result.stderr


def test_hub_deploy_turns_on_https_hardening(tmp_path):
    result = probe(tmp_path, HUB_DEPLOY="1", DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="hub.example.org")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["debug"] is False and config["secure_cookie"] is True and config["hsts"] >= 31536000


def test_production_mode_requires_a_secret_key(tmp_path):
    result = probe(tmp_path, DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_mode_turns_on_secure_cookies_and_hsts(tmp_path):
    result = probe(tmp_path, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="hub.example.org")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["debug"] is False and config["secure_cookie"] is True and config["hsts"] >= 31536000


def test_bad_values_fail_loudly(tmp_path):
    for env, message in [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"REDIS_MAX_CONNECTIONS": "lots"}, "REDIS_MAX_CONNECTIONS='lots' is not an integer"),
        ({"HUB_MAX_FILE_SIZE": "12 parsecs"}, "is not a size"),
        ({"HUB_STORAGE": "floppy"}, "HUB_STORAGE='floppy'"),
    ]:
        result = probe(tmp_path, **env)
        assert result.returncode != 0, env
        assert message in result.stderr, (env, result.stderr[-500:])


def test_check_deploy_passes_in_production_mode(tmp_path):
    env = {
        **CLEAN,
        "HUB_DATA_DIR": str(tmp_path),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "k" * 30 + "Q9!z" * 10,
        "DJANGO_ALLOWED_HOSTS": "hub.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
