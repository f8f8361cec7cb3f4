# The two commands: `make run` opens the console on the embedded sandbox, `make test` runs the suite.
# Both create .venv with python3 when it is missing and install exactly what requirements.lock pins into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
PIP    := $(BIN)/python -m pip --disable-pip-version-check
# The tool that writes the lock (make lock); installing the lock needs only pip.
UV_VERSION := 0.13.9
# A separate venv for the newest releases the ranges in pyproject.toml allow (make test-latest).
LATEST := .venv-latest

.PHONY: run test sandbox lint typecheck bench lock test-latest clean

# Every pinned package, with its hashes (pip refuses anything else), then the project itself, built with the
# locked hatchling and nothing fetched besides: the same bytes on every machine.
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --only-binary :all: --requirement $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation --editable .
	$(PIP) check
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/wavedeck --sandbox

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

sandbox: $(STAMP)
	$(BIN)/wavedeck sandbox

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks all

# Resolve the ranges of pyproject.toml again, for every platform and Python the project supports.
lock: $(STAMP)
	$(PIP) install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra sandbox --group pyproject.toml:build \
		--universal --python-version 3.11 --generate-hashes --no-header --quiet --output-file $(LOCK)

# The newest releases the ranges allow, in their own venv, and the whole suite on them: run before raising a
# range or the lock, and now and then to meet a new release before users do. Not part of CI.
# WITH='moto[server]==5.3.0' tries a release beyond a range's upper bound on top.
test-latest:
	@test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade --upgrade-strategy eager \
		--editable '.[dev]' $(WITH)
	@echo "newer releases than the ranges allow (raise a range on purpose, then make lock):"
	@$(LATEST)/bin/python -m pip list --disable-pip-version-check --outdated 2>/dev/null || true
	$(LATEST)/bin/python -m pip list --disable-pip-version-check | grep -iE '^(textual|moto|aiobotocore|botocore|boto3|pyyaml) '
	$(LATEST)/bin/ruff check .
	$(LATEST)/bin/mypy
	$(LATEST)/bin/python -m pytest

clean:
	rm -rf $(VENV) $(LATEST) .mypy_cache .ruff_cache .pytest_cache
