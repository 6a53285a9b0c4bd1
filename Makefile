# Two entry points (see README): `make quick` runs the main job, `make test` runs lint + tests.
# Both create .venv from requirements.lock on first use (every transitive version pinned; torch is the local
# CPU wheel). `make lock` regenerates the lock from pyproject.toml and constraints.txt.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: quick test lock

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.lock
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

quick: $(STAMP)
	$(VENV)/bin/wmbench run --preset quick

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lock: $(STAMP)
	$(VENV)/bin/pip-compile -q --extra dev --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links --constraint constraints.txt -o requirements.lock pyproject.toml
