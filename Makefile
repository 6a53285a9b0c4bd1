# Two entry points (see README): `make quick` runs the main job, `make test` runs lint + tests.
# Both create .venv from constraints.txt on first use (torch pinned to the local CPU wheel).
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: quick test

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

quick: $(STAMP)
	$(VENV)/bin/wmbench run --preset quick

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest
