# KFP Serverless — the two commands: `make up` (run the system on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# kfp 1.8.22 (KFP v1 SDK) for tests that compile v1 pipelines; it cannot share a venv with kfp 2.
KFP1_VENV := .venv-kfp1
KFP1_STAMP := $(KFP1_VENV)/.installed
ARGS ?=

.PHONY: up test lint format bench package vendor-re2 clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

$(KFP1_STAMP): requirements-kfp1.txt
	test -x $(KFP1_VENV)/bin/python || $(PYTHON) -m venv $(KFP1_VENV)
	$(KFP1_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-kfp1.txt
	touch $(KFP1_STAMP)

## up: start embedded AWS, the API on http://127.0.0.1:8000 and the reconciler (Ctrl-C stops everything)
up: $(STAMP)
	$(VENV)/bin/kfps up $(ARGS)

## test: the whole suite (unit, API, kfp.Client compatibility, engine conformance)
test: $(STAMP) $(KFP1_STAMP)
	KFPS_KFP1_PYTHON=$(CURDIR)/$(KFP1_VENV)/bin/python $(PY) -m pytest $(ARGS)

## lint: ruff check + format check
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: kfp.local vs the local stack, side by side, ratios printed
bench: $(STAMP)
	$(PY) bench/run.py $(ARGS)

## package: the CloudFormation/SAM template + deployment.zip for a stage (STAGE=dev|prod)
package: $(STAMP)
	$(MAKE) -s vendor-re2
	$(PY) infra/cloudformation.py --stage $${STAGE:-dev} build/$${STAGE:-dev}-resources.json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $${STAGE:-dev} \
		--merge-template build/$${STAGE:-dev}-resources.json build/$${STAGE:-dev}
	$(VENV)/bin/cfn-lint build/$${STAGE:-dev}/sam.json

# cel-python needs google-re2, whose current wheels are manylinux_2_28 (newer than the Lambda python3.11
# image's glibc); google-re2 1.1 has a manylinux2014 wheel that works with cel-python 0.5: vendor it.
vendor-re2: $(STAMP)
	rm -rf vendor build/re2 && mkdir -p vendor build/re2
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
		--python-version 3.11 -d build/re2 google-re2==1.1
	$(PY) -m zipfile -e build/re2/google_re2-1.1-*.whl vendor/

clean:
	rm -rf $(VENV) $(KFP1_VENV) .kfps build .pytest_cache .ruff_cache
