# Batch ETL for government information-disclosure annual reports.
#
#   make venv   bootstrap uv (.uvtool) and the project venv (.venv) from uv.lock, when missing or stale
#   make run    run the Airflow DAGs end to end over the landing folder (ingest, then the warehouse DAG
#               that its facts trigger), then print the run summary
#               (LANDING=dir and WORKDIR=dir override ETL_LANDING_DIR / ETL_WORKDIR)
#   make test   pytest
#   make lint   ruff check + ruff format --check
#   make accuracy  parse every labelled report (CORPUS=dir, default ../shared/corpus/real) and score it
#               (SCANNED=1: also their scanned renderings, made into var/scanned, through OCR)
#   make bench  benchmark every stage against its floor (N=10000 reports by default); writes docs/benchmarks.md
#   make sample regenerate the bundled synthetic sample (sample/landing/generated)
#   make fuzz   fuzz every reader in process for FUZZ_SECONDS (default 60); counts inputs/crashes/hangs per target
#
# Airflow's settings live in etc/airflow.env (shared with the tests); this file exports them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

MAKEFILE := $(abspath $(lastword $(MAKEFILE_LIST)))
PROJECT_ROOT := $(patsubst %/,%,$(dir $(MAKEFILE)))

UV_VERSION := 0.13.9
UVTOOL := $(PROJECT_ROOT)/.uvtool
UV := $(UVTOOL)/bin/uv
VENV := $(PROJECT_ROOT)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-from-uv.lock
PYTHON3 ?= python3

# uv: use the machine's Python (never download one), copy instead of hard-linking across filesystems.
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

include $(PROJECT_ROOT)/etc/airflow.env
export $(shell sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' $(PROJECT_ROOT)/etc/airflow.env)

# Landing folder and workdir for `make run`: the environment (ETL_LANDING_DIR / ETL_WORKDIR) or, when
# neither is given, etl/config.py's defaults (sample/landing, var).
LANDING ?= $(ETL_LANDING_DIR)
WORKDIR ?= $(or $(ETL_WORKDIR),$(PROJECT_ROOT)/var)

# `make run` shows task progress and errors; the whole `airflow dags test` output goes to one log per DAG.
DAGS_TEST_LOG = $(AIRFLOW_HOME)/dags-test-$(1).log
DAGS_TEST_PROGRESS := \[DAG TEST\] (starting|end) task|run summary counts|Marking run|\[(error|critical)|Traceback|DagRun failed

# The one-slot pool the warehouse writers (load, marts) run in (etl/orchestration/defaults.py).
WAREHOUSE_POOL := warehouse

# `airflow dags test` of one DAG, its output filtered to progress lines (VERBOSE=1: all of it).
define dags_test
	@echo "== airflow dags test $(1)"
	@echo "   full log: $(call DAGS_TEST_LOG,$(1))$(if $(VERBOSE),, (VERBOSE=1 shows it here))"
	@ETL_WORKDIR=$(WORKDIR) $(if $(LANDING),ETL_LANDING_DIR=$(LANDING)) \
	  $(BIN)/airflow dags test $(1) 2>&1 | tee $(call DAGS_TEST_LOG,$(1)) \
	  | $(if $(VERBOSE),cat,grep --line-buffered -E '$(DAGS_TEST_PROGRESS)') \
	  || { tail -n 60 $(call DAGS_TEST_LOG,$(1)); echo "the $(1) run failed (full log: $(call DAGS_TEST_LOG,$(1)))"; exit 1; }
endef

.PHONY: help venv run test lint accuracy bench sample fuzz

help:
	@sed -n -e 's/^#   make /  make /p' -e 's/^#               (/                (/p' $(MAKEFILE)

venv: $(STAMP)

$(UV):
	rm -rf $(UVTOOL)
	$(PYTHON3) -m venv $(UVTOOL)
	$(UVTOOL)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Re-sync when the lock is newer than the last sync (or the venv is missing).
$(STAMP): $(PROJECT_ROOT)/uv.lock | $(UV)
	cd $(PROJECT_ROOT) && $(UV) sync --frozen
	touch $@

run: venv
	mkdir -p $(AIRFLOW_HOME) $(WORKDIR)
	@echo "== airflow db migrate ($(AIRFLOW_HOME))"
	@$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 \
	  || { tail -n 50 $(AIRFLOW_HOME)/db-migrate.log; echo "airflow db migrate failed (log: $(AIRFLOW_HOME)/db-migrate.log)"; exit 1; }
	@$(BIN)/airflow pools set $(WAREHOUSE_POOL) 1 "one writer at a time into the warehouse (load, marts)" \
	  > $(AIRFLOW_HOME)/pools.log 2>&1 || { cat $(AIRFLOW_HOME)/pools.log; exit 1; }
	@echo "== landing: $(or $(LANDING),etl/config default), workdir: $(WORKDIR)"
	$(call dags_test,annual_reports)
	@# No scheduler runs here to turn the facts asset's event into a warehouse run: run it next, by hand.
	$(call dags_test,annual_reports_warehouse)
	@echo "== summary"
	$(BIN)/python -m etl summary --workdir $(WORKDIR)

test: venv
	cd $(PROJECT_ROOT) && $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: venv
	cd $(PROJECT_ROOT) && $(BIN)/ruff check etl dags tests && $(BIN)/ruff format --check etl dags tests

accuracy: venv
	cd $(PROJECT_ROOT) && $(BIN)/python -m etl.accuracy $(CORPUS) $(if $(SCANNED),--scanned)

N ?= 10000
bench: venv
	cd $(PROJECT_ROOT) && $(BIN)/python -m etl.bench --n $(N) $(BENCH_ARGS)

sample: venv
	cd $(PROJECT_ROOT) && $(BIN)/python -m etl.synth --sample

FUZZ_SECONDS ?= 60
fuzz: venv
	cd $(PROJECT_ROOT) && $(BIN)/python -m etl.fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)
