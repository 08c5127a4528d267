#!/usr/bin/env bash
# Load run: locust, headless, against the cluster (nginx on :8080, make cluster) and against
# one-machine mode (manage.py runhub on :8000, SQLite, local files), then one summary table.
# docs/benchmarks.md, "Load".
#
#   bench/load/run.sh [cluster|one|both]     (default both; make load)
#
# USERS (200), SPAWN_RATE (20/s), DURATION (2m), CHAT_ACCOUNTS (50), OUT (bench/out/load-<time>),
# VALIDATION_BUDGET_SCALE (0.05, for the hubs it starts).
# The cluster is started if it is not running (on a fresh database, transferhub_load), and stopped
# again only then; a running cluster of this checkout is used as it is, and one of another checkout
# on the same port is refused, not stopped. One-machine mode runs with a data folder of
# its own under OUT, publishing the demo and the smallest zoo model only (HUB_ZOO=mnist-resnet-0),
# and is stopped with SIGTERM at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
WHICH=${1:-both}
USERS=${USERS:-200} SPAWN_RATE=${SPAWN_RATE:-20} DURATION=${DURATION:-2m} CHAT_ACCOUNTS=${CHAT_ACCOUNTS:-50}
OUT=${OUT:-$ROOT/bench/out/load-$(date -u +%Y%m%dT%H%M%SZ)}
CLUSTER_PORT=${CLUSTER_PORT:-8080} ONE_PORT=${ONE_PORT:-8000}
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/data/cluster} CLUSTER_DATABASE=${CLUSTER_DATABASE:-transferhub_load}
MODELS=(demo/tiny-bert zoo/mnist-resnet-0)
export LOAD_MODELS
LOAD_MODELS=$(IFS=,; echo "${MODELS[*]}")
mkdir -p "$OUT"
# The hubs this script starts validate with budgets scaled down (tests do the same), so the demo's
# and the zoo model's validation runs end in seconds instead of keeping the 2 cores busy training
# for many minutes: the load measures serving, and prepare.py waits for the runs to end.
export VALIDATION_BUDGET_SCALE=${VALIDATION_BUDGET_SCALE:-0.05}
# The cluster's PostgreSQL connections pooled, 30 per process (deploy/cluster.sh; docs/benchmarks.md, "Load").
export DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-30}

up() { curl -sf -o /dev/null "http://127.0.0.1:$1/readyz"; }

wait_up() {  # wait_up PORT SECONDS
  for _ in $(seq "$2"); do up "$1" && return 0; sleep 1; done
  echo "load: nothing answered /readyz on port $1 in $2 s" >&2
  return 1
}

locust_run() {  # locust_run NAME PORT
  echo "load: $USERS users, $SPAWN_RATE/s, $DURATION against $1 (http://127.0.0.1:$2)"
  # The machine is shared: the load average before and after goes into the summary.
  echo "before: $(uptime)" >"$OUT/$1-uptime"
  # Exit code 1 means some requests failed; the summary reports them, so the run goes on.
  LOAD_TOKENS=$OUT/$1-tokens "$ROOT/.venv/bin/locust" -f bench/load/locustfile.py --headless \
    -u "$USERS" -r "$SPAWN_RATE" -t "$DURATION" --host "http://127.0.0.1:$2" \
    --csv "$OUT/$1" --only-summary --loglevel WARNING >"$OUT/$1-locust.log" 2>&1 || [ $? = 1 ]
  echo "after: $(uptime)" >>"$OUT/$1-uptime"
  tail -n 3 "$OUT/$1-locust.log"
}

run_cluster() {
  local started=""
  if ! deploy/cluster.sh ctl pid >/dev/null 2>&1; then
    if up "$CLUSTER_PORT"; then
      echo "load: another cluster answers on port $CLUSTER_PORT; not touching it" >&2
      return 1
    fi
    # A database of its own, new each time: moto's store is in memory, so a restarted cluster
    # keeps its rows but not their files, and downloads of models published before would fail.
    psql "postgres://postgres@127.0.0.1:5432/postgres" -qc "DROP DATABASE IF EXISTS $CLUSTER_DATABASE"
    PORT=$CLUSTER_PORT deploy/cluster.sh start
    started=1
  fi
  deploy/cluster.sh manage publish_demo
  deploy/cluster.sh manage publish_zoo --only mnist-resnet-0
  (. "$CLUSTER_DIR/env" && "$PY" bench/load/prepare.py "$OUT/cluster-tokens" "$CHAT_ACCOUNTS" "${MODELS[@]}")
  locust_run cluster "$CLUSTER_PORT"
  cp "$CLUSTER_DIR"/logs/nginx-access.log "$OUT/cluster-nginx-access.log" 2>/dev/null || true
  [ -z "$started" ] || deploy/cluster.sh stop
}

run_one() {
  if up "$ONE_PORT"; then
    echo "load: something already answers on port $ONE_PORT; not touching it" >&2
    return 1
  fi
  export HUB_DATA_DIR=$OUT/one-data
  HUB_ZOO=mnist-resnet-0 "$PY" manage.py runhub --port "$ONE_PORT" >"$OUT/one-runhub.log" 2>&1 &
  local pid=$!
  trap 'kill -TERM $pid 2>/dev/null || true' EXIT
  wait_up "$ONE_PORT" 300
  "$PY" bench/load/prepare.py "$OUT/one-tokens" "$CHAT_ACCOUNTS" "${MODELS[@]}"
  locust_run one "$ONE_PORT"
  kill -TERM "$pid"
  wait "$pid" || true
  trap - EXIT
  unset HUB_DATA_DIR
}

case $WHICH in
  cluster) run_cluster ;;
  one) run_one ;;
  both) run_cluster && run_one ;;
  *) echo "usage: bench/load/run.sh [cluster|one|both]" >&2; exit 2 ;;
esac
"$PY" bench/load/summary.py "$OUT" | tee "$OUT/summary.md"
