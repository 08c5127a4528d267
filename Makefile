# TransferHub: `make run` starts the hub, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

# axe-core (MPL-2.0, npm) for the accessibility checks of tests/e2e/test_pages.py; injected
# into each page by the test, never served by the hub. Fetched with `npm pack` (which checks
# the registry's integrity hash), pinned, and kept out of git.
AXE_VERSION := 4.11.0
AXE_DIR := .cache/axe-core-$(AXE_VERSION)

.PHONY: setup run test lint format bench load clean cluster cluster-manage cluster-stop

setup: $(VENV)/.installed $(AXE_DIR)/axe.min.js

$(AXE_DIR)/axe.min.js:
	mkdir -p $(AXE_DIR)
	cd $(AXE_DIR) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
	  && tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js package/LICENSE \
	  && rm axe-core-$(AXE_VERSION).tgz

# torch first, pinned, so pip takes the CPU build on disk instead of resolving a
# multi-GB CUDA build for the range in pyproject.toml.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

run: setup
	$(PY) manage.py runhub --port $(PORT)

# The scaled-out hub on one machine behind nginx on http://127.0.0.1:$${PORT:-8080} (deploy/cluster.sh;
# docs/operations.md, "A cluster on one machine"). PORT from the command line or environment only:
# make run's default of 8000 is not the cluster's.
CLUSTER_PORT := $(if $(filter command line environment,$(origin PORT)),$(PORT),8080)
cluster: setup
	PORT=$(CLUSTER_PORT) deploy/cluster.sh start

cluster-manage: setup
	deploy/cluster.sh manage $(ARGS)

cluster-stop:
	deploy/cluster.sh stop

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# locust, 200 users for 2 minutes, against the cluster and one-machine mode (docs/benchmarks.md,
# "Load"). A benchmark, not a test: no pass or fail. make load LOAD=cluster (or one) runs one of them.
load: setup
	bench/load/run.sh $(or $(LOAD),both)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .cache
