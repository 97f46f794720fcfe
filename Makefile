# hardened-vps: one hardened VPS for a Python web app on DigitalOcean, Linode or AWS Lightsail.
# `make up STACK=do-dev` deploys a stack; `make test` runs every fast check. See README.md.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= do-dev

.PHONY: setup setup-dev test-tools pulumi-cli pulumi-login preview up destroy test lint typecheck unit e2e \
	e2e-negative e2e-tls e2e-bootspeed plan compare bench-report generate golden lock clean

# Host tools are checked first, so a missing one fails in a second rather than after the pip install.
# The tests run `cloud-init schema` and shellcheck; their Debian packages have the same names.
test-tools:
	@missing=""; for tool in cloud-init shellcheck; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then echo "missing:$$missing (needed by the tests); install with: sudo apt-get install$$missing" >&2; exit 1; fi

pulumi-cli:
	@command -v pulumi >/dev/null || { echo "the Pulumi CLI is missing (it is not a Debian package): install it as https://www.pulumi.com/docs/install/ says" >&2; exit 1; }

# The runtime: the program's SDKs plus pulumi-policy, since preview and up always run the policy pack.
# Installed from the lock files (`make lock`): every package, pip included, pinned with its hashes.
$(VENV)/.runtime: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

# --- deploy (needs the Pulumi CLI and the vendor's credentials; see README) ---------------------------
pulumi-login:
	@pulumi whoami >/dev/null 2>&1 || pulumi login --local
	@pulumi stack select --create $(STACK)

preview: pulumi-cli setup pulumi-login
	pulumi preview --diff --stack $(STACK) --policy-pack policy

up: pulumi-cli setup pulumi-login
	pulumi up --diff --stack $(STACK) --policy-pack policy

destroy: pulumi-cli setup pulumi-login
	pulumi destroy --stack $(STACK)

# --- checks --------------------------------------------------------------------------------------------
lint: setup-dev
	$(VENV)/bin/ruff check .

typecheck: setup-dev
	$(VENV)/bin/mypy

# pytest-xdist: one worker more than cores (some tests wait on timeouts and subprocesses), an idle one steals work.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

unit: test-tools setup-dev
	$(PY) -m pytest -q -n $(WORKERS) --dist worksteal

# mypy (about 9 s cold) runs beside the suite and its report follows the suite's: both must pass.
test: test-tools setup-dev lint
	@log=$$(mktemp); $(VENV)/bin/mypy >"$$log" 2>&1 & typecheck=$$!; \
	$(PY) -m pytest -q -n $(WORKERS) --dist worksteal; unit=$$?; \
	wait $$typecheck; typed=$$?; echo "mypy: $$(cat "$$log")"; rm -f "$$log"; [ $$unit = 0 ] && [ $$typed = 0 ]

# The real-VM proof (e2e/README.md), two boots: the cloud-config form of a real stack (every audit, reboot, app
# releases, hostile releases, day-2 converge, the pinned host key), then the launch-script form of the domain
# stack, which starts with the package mirror unreachable, gets TLS from pebble and ends weakened (the checks
# must catch it). Runs the `vm` tests (tests/test_e2e_vm.py), which invoke `python -m e2e all`.
e2e: setup-dev
	$(PY) -m pytest -m vm -s tests/test_e2e_vm.py

# A weakened first boot of its own (not part of `make e2e`, which weakens the TLS host at its end instead)
e2e-negative: setup-dev
	$(PY) -m e2e negative

# The third boot of `make e2e` alone: apt outage, TLS with pebble, weakened host caught (~12 min)
e2e-tls: setup-dev
	$(PY) -m e2e tls --apt-outage --negative-last

# First boot against a bare boot (admin + nginx) on the same image and apt cache: power-on -> healthy, locked
# down and complete, the ratio and where the time goes, in e2e/out/report.json. Not in `make e2e`: the bare boot
# alone took 242 s on a loaded 2-core machine (cold cache), over the 4 minutes CI may add.
e2e-bootspeed: setup-dev
	$(PY) -m e2e bootspeed

plan: setup-dev
	$(PY) -m tools.plan $(STACK)

# RESULTS=run1.json run2.json ... adds measured rows (benchmark results, see README "Benchmarking") to the prices.
compare: setup-dev
	$(PY) -m tools.plan --compare $(if $(TIER),--tier $(TIER)) $(if $(NEAR),--near $(NEAR)) \
		$(if $(RESULTS),--results $(RESULTS))

# Benchmark results side by side: `make bench-report RESULTS="a.json b.json" [CHART=out.png]` (README "Benchmarking").
bench-report: setup-dev
	$(PY) -m tools.bench report $(RESULTS) $(if $(CHART),--chart $(CHART))

# Every generated file: Pulumi.yaml's config schema, the README's generated blocks, plan goldens, pinned URNs.
# `make test` fails when one is stale (tests/test_generated.py).
generate: setup-dev
	$(PY) -m tools.generate

golden: generate

# Re-resolve the lock files after a pin changes in requirements*.txt or policy/requirements.txt (PyPI, Python 3.11).
lock: setup-dev
	$(PY) -m tools.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
