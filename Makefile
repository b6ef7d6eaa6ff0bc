# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv with a Python >= 3.12 (found by tools/find-python) and install pinned versions.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
PIP   := $(PY) -m pip --disable-pip-version-check --quiet

.PHONY: demo test test-fast bench equivalence validate pilot fuzz lock clean-venv

$(PY):
	@py=$$(tools/find-python) && echo "creating $(VENV) with $$py" && "$$py" -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml requirements/constraints.txt
	$(PIP) install -c requirements/constraints.txt -e '.[dev,dist,viz]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tumour-abm batch scenarios/batches/demo.yaml --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: $(STAMP)
	$(VENV)/bin/pytest

test-fast: $(STAMP)
	$(VENV)/bin/pytest -m "not slow"

# Reference workloads beside the figures in benchmarks/baseline.json (about 20 minutes on two cores).
bench: $(STAMP)
	$(PY) benchmarks/run_benchmarks.py

# Did a change that alters random draws move the model's outcomes? 40 seeds of four reference scenarios, two-sample
# tests against the stored sample of the model before it (benchmarks/equivalence_before.csv); about 15 minutes.
equivalence: $(STAMP)
	$(PY) tools/equivalence.py

# Malformed scenario and batch files derived from the real ones, checked for clear errors (a few minutes);
# `make test` runs a bounded sample of the same cases.
fuzz: $(STAMP)
	$(PY) tools/fuzz.py --scenario-cases 1000 --batch-cases 1000

# The review's twelve claims and the held-out checks, each hypothesis at the pairs its pilot sized it for.
validate: $(STAMP)
	$(VENV)/bin/tumour-abm validate --out runs/validate-$$(date +%Y%m%d-%H%M%S)

# Re-size the claims: a 10-pair pilot on seeds of its own; writes each claim file's power section.
pilot: $(STAMP)
	$(VENV)/bin/tumour-abm validate --pilot --out runs/pilot-$$(date +%Y%m%d-%H%M%S)

# Re-resolve every dependency (with all extras) in a scratch venv and pin the result.
lock:
	@py=$$(tools/find-python) && rm -rf .lock-venv && "$$py" -m venv .lock-venv
	.lock-venv/bin/pip --disable-pip-version-check --quiet install '.[viz,dist,dev]'
	{ echo "# Exact versions for every dependency of tumour_abm and its extras (viz, dist, dev), Python 3.12."; \
	  echo "# Regenerate with 'make lock' after changing pyproject.toml."; \
	  .lock-venv/bin/pip freeze --exclude tumour_abm; } > requirements/constraints.txt
	rm -rf .lock-venv

clean-venv:
	rm -rf $(VENV)
