# pekso_toolkit — the two commands a user needs are `make lab` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# your data: make report EVENTS=export.csv AS_OF=2025-06-30 [STORE=cases.sqlite] [TZ=WITA] [INTERNAL=1]
# (without EVENTS: the synthetic sample data, labelled as such on every page)
OUT ?= reports
DATA_ARGS = $(if $(EVENTS),--events $(EVENTS),--demo) $(if $(AS_OF),--as-of $(AS_OF)) \
	$(if $(STORE),--store $(STORE)) $(if $(filter command line,$(origin TZ)),--tz $(TZ)) \
	$(if $(INTERNAL),--internal)
# (TZ counts only when given on the command line: the environment's TZ is the computer's zone)
# JupyterLab refuses to run as root without this flag
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test lint typecheck pytest nbval data notebooks report dashboard bench clean-venv lock

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PY=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip sync --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

## make lab: create the environment if needed, then open JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

## make test: create the environment if needed, then lint, type-check, run every test and notebook
test: $(STAMP) lint typecheck pytest nbval

lint: $(STAMP)
	$(BIN)/ruff check pekso_toolkit tests benchmarks
	$(BIN)/ruff format --check pekso_toolkit tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

nbval: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:randomly notebooks $(PYTEST_ARGS)

## make data: regenerate the committed synthetic sample data
data: $(STAMP)
	$(BIN)/pekso data

## make notebooks: re-execute every notebook in place (outputs are committed)
notebooks: $(STAMP)
	$(BIN)/pekso notebooks notebooks/*.ipynb

## make report: HTML reports (notebooks 02-04) in $(OUT)/ on EVENTS=, AS_OF=, STORE= (default: demo)
report: $(STAMP)
	$(BIN)/pekso report $(DATA_ARGS) --out $(OUT)

## make dashboard: the supervisor page (notebook 03) on EVENTS=, AS_OF=, STORE=, served by Voila
dashboard: $(STAMP)
	$(BIN)/pekso dashboard $(DATA_ARGS) --out $(OUT) --prepare-only
	$(BIN)/voila $(OUT)/dashboard.ipynb --Voila.ip=127.0.0.1 --no-browser $(DASHBOARD_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/time_in_stage.py
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/explorer.py
	$(BIN)/python benchmarks/problem_suggestions.py
	$(BIN)/python benchmarks/loader.py
	$(BIN)/python benchmarks/engines.py
	$(BIN)/python benchmarks/larger_than_memory.py
	$(BIN)/python benchmarks/event_order.py
	$(BIN)/python benchmarks/drivers_coverage.py
	$(BIN)/python benchmarks/analyses_100k.py

## make lock: re-resolve requirements.lock from pyproject.toml (needs network)
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean-venv:
	rm -rf $(VENV)
