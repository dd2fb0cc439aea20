# KFP Serverless — the two commands: `make up` (run the system on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

# The tests whose behaviour depends on the store: `make test` runs them a second time on DynamoDB + S3 (moto),
# after the whole suite on the embedded store (the store contract tests cover both stores in the first run).
STORE_BOUND_TESTS := tests/api tests/compat tests/conformance tests/triggers tests/test_reconciler.py \
	tests/executors/test_k8s_kfp_client.py

.PHONY: up test lint format bench package vendor-re2 clean clean-data

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

## up: the API on http://127.0.0.1:8000, the reconciler and the embedded store in .kfps (Ctrl-C stops everything)
up: $(STAMP)
	$(VENV)/bin/kfps up $(ARGS)

## test: the whole suite on the embedded store, then the store-bound tests on DynamoDB + S3 (moto);
## `make test ARGS="tests/api -x"` runs a part once (add `--store dynamodb` for the moto-backed store)
test: $(STAMP)
ifeq ($(strip $(ARGS)),)
	$(PY) -m pytest --store embedded
	$(PY) -m pytest --store dynamodb $(STORE_BOUND_TESTS)
else
	$(PY) -m pytest $(ARGS)
endif

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

## clean-data: delete what `make up` stored (the embedded store, task workdirs, artifacts) in .kfps
clean-data:
	rm -rf .kfps

clean:
	rm -rf $(VENV) .kfps build .pytest_cache .ruff_cache
