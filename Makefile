# KFP Serverless — the two commands: `make up` (run the system on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# kfp 1.8.22 (KFP v1 SDK) for tests that compile v1 pipelines; it cannot share a venv with kfp 2.
KFP1_VENV := .venv-kfp1
KFP1_STAMP := $(KFP1_VENV)/.installed
KFP1_PY := $(KFP1_VENV)/bin/python
ARGS ?=

# The tests whose behaviour depends on the store: `make test` runs them a second time on DynamoDB + S3 (moto),
# after the whole suite on the embedded store (the store contract tests cover both stores in the first run).
STORE_BOUND_TESTS := tests/api tests/compat tests/conformance tests/triggers tests/test_reconciler.py \
	tests/test_reconciler_v1.py tests/executors/test_k8s_kfp_client.py tests/executors/test_k8s_argo_resources.py \
	tests/executors/test_k8s_pod_namespaces.py
CHROMIUM ?= /usr/bin/chromium

.PHONY: up test lint format bench bench-dashboard chromium deploy destroy launcher-image vendor-re2 clean clean-data

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

$(KFP1_STAMP): requirements-kfp1.txt
	test -x $(KFP1_PY) || $(PYTHON) -m venv $(KFP1_VENV)
	$(KFP1_PY) -m pip install --quiet --disable-pip-version-check -r requirements-kfp1.txt
	touch $(KFP1_STAMP)

## up: the API on http://127.0.0.1:8000, the reconciler and the embedded store in .kfps (Ctrl-C stops everything)
up: $(STAMP)
	$(VENV)/bin/kfps up $(ARGS)

## test: the whole suite (unit, API, kfp.Client compatibility, engine conformance, dashboard in Chromium) on the
## embedded store, then the store-bound tests on DynamoDB + S3 (moto);
## `make test ARGS="tests/api -x"` runs a part once (add `--store dynamodb` for the moto-backed store)
test: $(STAMP) $(KFP1_STAMP) chromium
ifeq ($(strip $(ARGS)),)
	KFPS_CHROMIUM=$(CHROMIUM) KFPS_KFP1_PYTHON=$(CURDIR)/$(KFP1_PY) $(PY) -m pytest --store embedded --durations=25
	KFPS_CHROMIUM=$(CHROMIUM) KFPS_KFP1_PYTHON=$(CURDIR)/$(KFP1_PY) $(PY) -m pytest --store dynamodb --durations=25 $(STORE_BOUND_TESTS)
else
	KFPS_CHROMIUM=$(CHROMIUM) KFPS_KFP1_PYTHON=$(CURDIR)/$(KFP1_PY) $(PY) -m pytest $(ARGS)
endif

## chromium: Debian's Chromium for the dashboard's browser tests; installed with apt when missing (as root),
## otherwise stop and say how. Never a browser download (`playwright install`).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the dashboard tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "The dashboard tests need Chromium at $(CHROMIUM): run 'sudo apt-get install -y chromium'" \
				"(Debian/Ubuntu), or pass CHROMIUM=/path/to/chromium." >&2; \
			exit 1; \
		fi; \
	fi
	@test -x "$(CHROMIUM)" || { echo "Chromium is still missing at $(CHROMIUM)" >&2; exit 1; }

## lint: ruff check + format check
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: kfp.local vs the local stack, side by side, ratios printed (bench/deployment.py: package size, cold imports)
bench: $(STAMP)
	$(PY) bench/run.py $(ARGS)

## bench-dashboard: a 500-task run's graph: server-side layout time + render time in Chromium (target < 1 s)
bench-dashboard: $(STAMP) chromium
	$(PY) bench/dashboard_graph.py --chromium $(CHROMIUM) $(ARGS)

## deploy: package and deploy one stage to AWS (ARGS="--stage dev --cluster NAME --namespace NS [--dry-run]")
deploy: $(STAMP)
	$(VENV)/bin/kfps deploy $(ARGS)

## destroy: remove a stage's stack (ARGS="--stage dev [--delete-data]")
destroy: $(STAMP)
	$(VENV)/bin/kfps destroy $(ARGS)

## launcher-image: build and push the step pods' launcher image where Docker runs (IMAGE=<repository uri>:<tag>)
launcher-image:
	test -n "$(IMAGE)" || { echo "IMAGE=<the stack's LauncherRepositoryUri>:latest is required"; exit 2; }
	docker build -f infra/launcher.Dockerfile -t $(IMAGE) .
	docker push $(IMAGE)

# cel-python needs google-re2, whose current wheels are manylinux_2_28 (newer than the Lambda python3.11
# image's glibc); google-re2 1.1 has a manylinux2014 wheel that works with cel-python 0.5: vendor it.
vendor-re2: $(STAMP)
	rm -rf vendor build/re2 && mkdir -p vendor build/re2
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
		--python-version 3.11 -d build/re2 google-re2==1.1
	$(PY) -m zipfile -e build/re2/google_re2-1.1-*.whl vendor/

## clean-data: delete what `make up` stored (the embedded store, task workdirs, artifacts) in .kfps
clean-data:
	rm -rf .kfps

clean:
	rm -rf $(VENV) $(KFP1_VENV) .kfps build .pytest_cache .ruff_cache
