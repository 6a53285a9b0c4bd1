# Two entry points (see README): `make quick` runs the main job, `make test` runs lint + tests + docs.
# Both create .venv from requirements.lock on first use (every transitive version pinned; torch is the local
# CPU wheel) and the three local distributions (editable): the envs (no torch), wmbench, and the reference
# planners (entry points). `make lock` regenerates the lock from requirements.in and constraints.txt.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: quick test test-fast docs lock

$(STAMP): pyproject.toml envs/pyproject.toml baselines/pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.lock
	touch $(STAMP)

quick: $(STAMP)
	$(VENV)/bin/wmbench run --preset quick --workers 2

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest
	$(MAKE) docs

# The edit loop: everything but the tests marked slow (CI runs them all through `make test`).
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -m "not slow"

# The documentation site (mkdocs-material + mkdocstrings), built strictly: any warning fails. Output: site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

lock: $(STAMP)
	$(VENV)/bin/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--constraint constraints.txt -o requirements.lock requirements.in
