# chatstack — `make up` runs the local stage, `make test` runs every check. Both set up first.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
CHECKOV_VERSION := 3.3.30
CHECKOV := .tools/checkov/bin/checkov
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup up test conform lint format unit integration terraform checkov bench bench-load loadtest clean frontend chromium java dynamodb-local

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	touch $@

# AWS's DynamoDB Local, the local stage's DynamoDB: a Java program carried by an npm package
# (pinned by its lockfile), run on Debian's Java 17 (installed with apt-get when missing).
DYNAMODB_LOCAL := .tools/dynamodb-local/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar

$(DYNAMODB_LOCAL): reference_stack/dynamodb-local/package.json reference_stack/dynamodb-local/package-lock.json
	mkdir -p .tools/dynamodb-local
	cp reference_stack/dynamodb-local/package.json reference_stack/dynamodb-local/package-lock.json .tools/dynamodb-local/
	cd .tools/dynamodb-local && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

java:
	command -v java >/dev/null || (apt-get update && apt-get install -y openjdk-17-jre-headless)

dynamodb-local: java $(DYNAMODB_LOCAL)

setup: $(VENV)/.synced dynamodb-local

# checkov pins its own boto3 and ships a module named hcl2: it gets a venv of its own.
$(CHECKOV):
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV)

# The web app: `npm ci` when the lockfile changes, `npm run build` when a source does.
FRONTEND_SOURCES := $(shell find frontend/src -type f) $(addprefix frontend/,index.html package.json package-lock.json tsconfig.json vite.config.ts)

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

frontend: frontend/dist/index.html

# The browser tests drive Debian's chromium (`playwright install` cannot download here).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

up: setup frontend
	$(VENV)/bin/chatstack up $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The Terraform apply test (~6 min, mostly waiting on terraform and moto's server) runs in a
# pytest of its own beside the rest; its output follows theirs, and either failing fails the run.
APPLY_TEST := tests/terraform/test_apply.py

test: setup lint checkov frontend chromium
	cd frontend && npx vitest run
	mkdir -p reports
	$(VENV)/bin/pytest $(APPLY_TEST) --basetemp=reports/apply-tmp > reports/terraform-apply.log 2>&1 & apply=$$!; \
	$(VENV)/bin/pytest --ignore=$(APPLY_TEST) $(PYTEST_ARGS); tests=$$?; \
	wait $$apply; applied=$$?; cat reports/terraform-apply.log; \
	test $$tests -eq 0 && test $$applied -eq 0
	$(VENV)/bin/chatstack conform --junit-xml reports/conformance.xml --results-json reports/conformance.json --html-report reports/conformance.html
	CHATSTACK_LOCAL_DYNAMODB=moto $(VENV)/bin/chatstack conform --junit-xml reports/conformance-moto.xml --results-json reports/conformance-moto.json --html-report reports/conformance-moto.html

conform: setup
	$(VENV)/bin/chatstack conform $(ARGS)

unit: setup
	$(VENV)/bin/pytest tests/unit tests/functional

integration: setup
	$(VENV)/bin/pytest tests/integration

terraform: setup checkov
	$(VENV)/bin/pytest tests/terraform

bench: setup
	$(VENV)/bin/python -m benchmarks.import_times
	$(VENV)/bin/python -m benchmarks.delivery_cpu
	$(VENV)/bin/python -m benchmarks.management_cpu
	$(VENV)/bin/python -m benchmarks.broadcast_latency

bench-load: setup
	$(VENV)/bin/python -m benchmarks.loadgen_capacity
	$(VENV)/bin/python -m benchmarks.fanout

# A headless fan-out run against a fresh local stage, with its verdict (ARGS: more options).
loadtest: setup
	$(VENV)/bin/locust -f loadtests/locustfile.py --headless -u 100 -r 20 -t 60s $(ARGS)

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache reports frontend/node_modules frontend/dist
