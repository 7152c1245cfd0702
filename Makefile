# Every target creates/uses its own virtual environment: nothing depends on what happens to
# be installed on the machine. Environments install only from the hash-pinned lock files
# (locks/*.txt, security/requirements.txt), with uv, itself installed from its own lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# uv lives in its own small venv, bootstrapped with the machine's pip from locks/uv.txt
TOOLS  := .venv-tools
UV     := $(TOOLS)/bin/uv
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
# checkov pins boto3/packaging against ours: the security scanner lives in its own venv
SCAN   := .venv-scan
SSTAMP := $(SCAN)/.installed
LATEST := .venv-latest
# one lock for every platform and Python >= 3.11 (markers decide what installs where)
COMPILE := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
           --annotation-style line --custom-compile-command 'make lock'
# pytest-xdist: the suite runs on every core; `-p no:cacheprovider` keeps runs stateless
PYTEST := $(BIN)/python -m pytest -q -n auto -p no:cacheprovider

.PHONY: demo test test-fast test-latest golden bench lint lock install schema-docs clean fuzz

$(UV): locks/uv.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --no-deps --require-hashes -r locks/uv.txt
	touch $@

$(BIN)/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(VENV)

# gen with its runtime dependencies only (make demo)
$(STAMP): $(BIN)/python locks/gen.txt pyproject.toml
	VIRTUAL_ENV=$(VENV) $(UV) pip sync --quiet --require-hashes locks/gen.txt
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# gen with the test, ray and lint extras (make test, lint, golden, bench)
$(TSTAMP): $(BIN)/python locks/dev.txt pyproject.toml
	VIRTUAL_ENV=$(VENV) $(UV) pip sync --quiet --require-hashes locks/dev.txt
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(STAMP)

$(SSTAMP): security/requirements.txt | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(SCAN)
	VIRTUAL_ENV=$(SCAN) $(UV) pip sync --quiet --require-hashes security/requirements.txt
	touch $@

## demo: install gen, validate every example, render the single-cluster GPU example to out/
demo: $(STAMP)
	$(BIN)/gen validate examples/*/models.yaml
	$(BIN)/gen render examples/single-cluster-gpu/models.yaml -o out
	@echo "gen is in .venv/bin: 'source .venv/bin/activate' puts it on PATH, then e.g. 'gen describe examples/single-cluster-gpu/models.yaml'"
	@echo "Next: create the prerequisites out/README.md lists, then install the add-ons and the chart"
	@echo "(release name = metadata.name, namespace = metadata.namespace; other names break the selectors):"
	@echo "  helmfile -f out/addons/helmfile.yaml apply"
	@echo "  helm install ray-multi-model out/chart -n default -f out/chart/values-default.yaml"

## test: install gen with its test extras (and the security scanner), lint, run the whole suite
test: lint $(SSTAMP)
	$(PYTEST)

## test-fast: the suite without the slow tests (crash safety, hostile corpus, scanner, ...)
test-fast: $(TSTAMP)
	$(PYTEST) -m "not slow"

## test-latest: the suite against the newest versions pyproject.toml's ranges allow (.venv-latest)
test-latest: | $(UV) $(SSTAMP)
	rm -rf $(LATEST)
	$(UV) venv --quiet --clear --python $(PYTHON) $(LATEST)
	VIRTUAL_ENV=$(LATEST) $(UV) pip install --quiet --upgrade --resolution highest -e '.[test,ray,lint]'
	VIRTUAL_ENV=$(LATEST) $(UV) pip list --format freeze
	$(LATEST)/bin/python -m pytest -q -n auto -p no:cacheprovider -m "not lock"

## lint: ruff (lint + format check) and mypy --strict over generator/
lint: $(TSTAMP)
	$(BIN)/ruff check generator tests bench security
	$(BIN)/ruff format --check generator tests bench security
	$(BIN)/mypy generator

## lock: re-resolve every lock file (then run make test, review the diff, commit)
lock: | $(UV)
	$(COMPILE) -o locks/uv.txt locks/uv.in
	$(COMPILE) -o locks/dev.txt --extra test --extra ray --extra lint pyproject.toml locks/build.in
	# the runtime lock takes its versions from the dev lock: demo and test install the same gen
	$(COMPILE) -o locks/gen.txt --constraint locks/dev.txt pyproject.toml locks/build.in
	$(COMPILE) -o security/requirements.txt security/requirements.in

## fuzz: draw EXAMPLES specs (default 500) from the schema, check validate => render --strict
## => check clean => identical re-render on each; failing specs land in out/fuzz/
## (SEED=n repeats a run; MODELS=40 draws up to 40 models per fleet, default 6; NUMBERS=1
## also draws numbers Helm does not carry exactly yet)
EXAMPLES ?= 500
MODELS ?= 6
fuzz: $(TSTAMP)
	GEN_FUZZ_NUMBERS=$(NUMBERS) GEN_FUZZ_MAX_MODELS=$(MODELS) $(BIN)/python -m tests.fuzz --examples $(EXAMPLES) $(if $(SEED),--seed $(SEED))

## golden: regenerate every snapshot corpus in one --snapshot-update run (golden/ and the
## expected.txt of tests/negative, tests/hostile, tests/check/negative); review the diff
SNAPSHOT_TESTS := tests/test_golden.py tests/test_negative.py tests/test_hostile.py tests/check/test_check_corpus.py
golden: $(TSTAMP)
	$(PYTEST) $(SNAPSHOT_TESTS) --snapshot-update

## bench: run the benchmarks, results in bench/results/
bench: $(TSTAMP)
	$(BIN)/python bench/run.py

## install: gen into the current environment (or use `source .venv/bin/activate` after make demo)
install:
	$(PYTHON) -m pip install .

clean:
	rm -rf $(VENV) $(SCAN) $(TOOLS) $(LATEST) out .pytest_cache
