#!/usr/bin/env bash
# The whole scaled-out hub on one machine (make cluster, make cluster-manage, make cluster-stop):
# nginx in front of two web processes and two Xet CAS processes, two validation workers on the gpu queue, one housekeeping
# worker with beat, PostgreSQL (the machine's own, on 127.0.0.1:5432), Redis and moto's S3 server,
# under supervisord (deploy/supervisord.conf). It runs the commands docs/operations.md gives.
#
#   deploy/cluster.sh start            serve on http://127.0.0.1:${PORT:-8080}
#   deploy/cluster.sh manage ARGS...   manage.py against the cluster's database and storage
#   deploy/cluster.sh ctl ARGS...      supervisorctl (status, stop gpu1, signal KILL web2, ...)
#   deploy/cluster.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
export CLUSTER_ROOT=$PWD
export CLUSTER_DIR=${CLUSTER_DIR:-$CLUSTER_ROOT/data/cluster}
export PORT=${PORT:-8080}
export CLUSTER_WEB1_PORT=${CLUSTER_WEB1_PORT:-8101} CLUSTER_WEB2_PORT=${CLUSTER_WEB2_PORT:-8102}
export CLUSTER_CAS1_PORT=${CLUSTER_CAS1_PORT:-8111} CLUSTER_CAS2_PORT=${CLUSTER_CAS2_PORT:-8112}
export CLUSTER_REDIS_PORT=${CLUSTER_REDIS_PORT:-6390} CLUSTER_S3_PORT=${CLUSTER_S3_PORT:-8190}
export CLUSTER_DATABASE=${CLUSTER_DATABASE:-transferhub_cluster}
PG_SERVER=${CLUSTER_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
VENV=${VENV:-$CLUSTER_ROOT/.venv}
export PYTHON=$VENV/bin/python

# supervisorctl reads the whole config, so it needs every variable the config names (CLUSTER_DIR/env).
ctl() { (. "$CLUSTER_DIR/env" && "$VENV/bin/supervisorctl" -c deploy/supervisord.conf "$@"); }
running() { [ -S "$CLUSTER_DIR/supervisor.sock" ] && [ -f "$CLUSTER_DIR/env" ] && ctl pid >/dev/null 2>&1; }

# The cluster's environment, as an operator's would be set (docs/configuration.md). Secrets are made
# once and kept, so sessions and the metrics token survive a restart.
write_env() {
  mkdir -p "$CLUSTER_DIR"
  [ -f "$CLUSTER_DIR/secrets" ] || {
    umask 077
    printf 'export DJANGO_SECRET_KEY=%s\nexport HUB_METRICS_TOKEN=%s\n' \
      "$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')" \
      "$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')" >"$CLUSTER_DIR/secrets"
  }
  cat >"$CLUSTER_DIR/env" <<ENV
. "$CLUSTER_DIR/secrets"
export DJANGO_DEBUG=0
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$PORT,http://localhost:$PORT
# Plain http on loopback: no https redirect and no HSTS (production terminates TLS in nginx).
export DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_HSTS_SECONDS=0
export HUB_SITE_URL=http://127.0.0.1:$PORT
export HUB_DATA_DIR=$CLUSTER_DIR/data
export DATABASE_URL=$PG_SERVER/$CLUSTER_DATABASE
# Pooled PostgreSQL connections (DATABASE_POOL_SIZE, docs/operations.md): make load sets 30, since
# without a pool each request thread opens its own and 200 users ran the machine's PostgreSQL out of its
# 100. Off by default: with a pool, a request during a database outage waits the pool's 30 s for a
# connection before its 503, where without one it is answered at once (tests/cluster's outage test).
export DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-0}
export REDIS_URL=redis://127.0.0.1:$CLUSTER_REDIS_PORT/0
export HUB_STORAGE=s3 AWS_STORAGE_BUCKET_NAME=transferhub AWS_S3_REGION_NAME=us-east-1
export AWS_S3_ENDPOINT_URL=http://127.0.0.1:$CLUSTER_S3_PORT AWS_ACCESS_KEY_ID=cluster AWS_SECRET_ACCESS_KEY=cluster
# A run whose worker died goes back to the queue within about 40 s instead of 3 minutes.
export VALIDATION_HEARTBEAT_SECONDS=5 VALIDATION_STALE_AFTER=30 VALIDATION_SWEEP_INTERVAL=10
ENV
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "cluster: $what did not come up in ${seconds} s; logs in $CLUSTER_DIR/logs" >&2
  return 1
}

start() {
  if running; then
    echo "cluster: already running on http://127.0.0.1:$PORT (deploy/cluster.sh ctl status)"
    return 0
  fi
  command -v nginx >/dev/null && command -v redis-server >/dev/null || {
    echo "cluster: needs nginx and redis-server (apt-get install nginx redis-server)" >&2
    exit 1
  }
  # PostgreSQL: the machine's own cluster, started if it is down, and a database of our own.
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    wait_for 30 PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
  fi
  psql "$PG_SERVER/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$CLUSTER_DATABASE'" | grep -q 1 ||
    psql "$PG_SERVER/postgres" -qc "CREATE DATABASE \"$CLUSTER_DATABASE\""

  write_env
  # shellcheck disable=SC1091
  . "$CLUSTER_DIR/env"
  mkdir -p "$CLUSTER_DIR/logs" "$HUB_DATA_DIR" "$CLUSTER_DIR"/nginx/{body,proxy,fastcgi,uwsgi,scgi}
  # nginx's workers drop to an unprivileged user when the master runs as root; the cluster's
  # folders are root's, so they stay root here (production: the distribution's nginx user).
  NGINX_USER=$([ "$(id -u)" = 0 ] && echo "user root;" || true)
  export NGINX_USER
  envsubst '${NGINX_USER} ${CLUSTER_DIR} ${CLUSTER_WEB1_PORT} ${CLUSTER_WEB2_PORT} ${CLUSTER_CAS1_PORT} ${CLUSTER_CAS2_PORT} ${PORT} ${HUB_DATA_DIR}' \
    <deploy/nginx-cluster.conf >"$CLUSTER_DIR/nginx.conf"
  nginx -t -q -c "$CLUSTER_DIR/nginx.conf" -p "$CLUSTER_DIR/nginx"

  # docs/operations.md, "Production command": before the first start and after each upgrade.
  "$PYTHON" manage.py migrate --noinput -v0
  "$PYTHON" manage.py collectstatic --noinput -v0

  "$VENV/bin/supervisord" -c deploy/supervisord.conf
  wait_for 30 Redis redis-cli -p "$CLUSTER_REDIS_PORT" ping
  wait_for 60 "the S3 server" curl -sf "$AWS_S3_ENDPOINT_URL/moto-api/"
  # The bucket, as an operator creates it once with the store's own tools (aws s3 mb, mc mb).
  "$PYTHON" - <<'PY'
import os

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ["AWS_S3_ENDPOINT_URL"], region_name=os.environ["AWS_S3_REGION_NAME"])
if os.environ["AWS_STORAGE_BUCKET_NAME"] not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
    s3.create_bucket(Bucket=os.environ["AWS_STORAGE_BUCKET_NAME"])
PY
  # Each web process first, directly: a probe through nginx while they still start marks both
  # upstreams failed (max_fails=1), and after fail_timeout nginx lets one request at a time probe
  # each, answering every other request 502 "no live upstreams" until a probe completes. The first
  # burst of a load run got those 502s (docs/benchmarks.md, "Load").
  wait_for 120 "web1" curl -sf "http://127.0.0.1:$CLUSTER_WEB1_PORT/readyz"
  wait_for 120 "web2" curl -sf "http://127.0.0.1:$CLUSTER_WEB2_PORT/readyz"
  wait_for 120 "the hub behind nginx" curl -sf "http://127.0.0.1:$PORT/readyz"
  for port in "$CLUSTER_CAS1_PORT" "$CLUSTER_CAS2_PORT"; do
    wait_for 60 "the CAS process on port $port" curl -sf "http://127.0.0.1:$port/readyz"
  done
  for worker in gpu1 gpu2 housekeeping; do
    queue=$([ $worker = housekeeping ] && echo celery || echo gpu)
    wait_for 120 "worker $worker" "$PYTHON" manage.py probe_worker ready "$worker@$(hostname)" --queue "$queue"
  done
  ctl status
  echo "cluster: serving on http://127.0.0.1:$PORT/ (make cluster-stop stops it; logs in $CLUSTER_DIR/logs)"
}

stop() {
  if ! running; then
    echo "cluster: not running"
    return 0
  fi
  local pid
  pid=$(ctl pid)
  ctl shutdown >/dev/null
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { echo "cluster: stopped"; return 0; }
    sleep 0.2
  done
  echo "cluster: supervisord (pid $pid) still running after 60 s" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  manage)
    shift
    [ -f "$CLUSTER_DIR/env" ] || { echo "cluster: not set up yet: make cluster" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$CLUSTER_DIR/env"
    exec "$PYTHON" manage.py "$@"
    ;;
  ctl)
    shift
    ctl "$@"
    ;;
  *)
    echo "usage: deploy/cluster.sh start|stop|manage ARGS...|ctl ARGS..." >&2
    exit 2
    ;;
esac
