# Every target creates/uses its own virtual environment in .venv: nothing depends on
# what happens to be installed on the machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
# checkov pins boto3/packaging against ours: the security scanner lives in its own venv
SCAN   := .venv-scan
SSTAMP := $(SCAN)/.installed

.PHONY: demo test golden bench lint schema-docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(TSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,ray]'
	touch $@ $(STAMP)

$(SSTAMP): security/requirements.txt
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/python -m pip install --quiet -r security/requirements.txt
	touch $@

## demo: install gen, validate every example, render the single-cluster GPU example to out/
demo: $(STAMP)
	$(BIN)/gen validate examples/*/models.yaml
	$(BIN)/gen render examples/single-cluster-gpu/models.yaml -o out
	@echo "Next: helm install ray-multi-model out/chart -f out/chart/values-default.yaml"

## test: install gen with its test extras (and the security scanner) and run the whole suite
test: $(TSTAMP) $(SSTAMP)
	$(BIN)/python -m pytest -q

## golden: regenerate the golden snapshots (review the diff before committing!)
golden: $(TSTAMP)
	$(BIN)/python -m pytest -q tests/test_golden.py --snapshot-update

## bench: run the benchmarks, results in bench/results/
bench: $(TSTAMP)
	$(BIN)/python bench/run.py

## lint: helm lint every chart
lint: $(TSTAMP)
	$(BIN)/python -m pytest -q tests/test_charts.py

clean:
	rm -rf $(VENV) $(SCAN) out .pytest_cache
