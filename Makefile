# StationKit: every target builds what it needs on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages: the benchmark's load generator; pcscd with the virtual smart-card reader
# and what pyscard builds with; a CJK font for the unit screens; libusb for USB printers.
DEB_PACKAGES := wrk pcscd vsmartcard-vpcd swig libpcsclite-dev fonts-wqy-microhei libusb-1.0-0
APT_STAMP := var/.apt-installed

.PHONY: demo test bench lint typecheck unit deps clean constraints

# pyscard compiles against PC/SC: the Debian packages come first.
$(STAMP): setup.cfg pyproject.toml constraints.txt | $(APT_STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Re-pin the whole tree after changing setup.cfg's direct pins.
constraints: $(STAMP)
	{ echo "# The whole dependency tree, pinned: make installs with -c constraints.txt."; \
	  echo "# Regenerate after changing setup.cfg: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v -i '^stationkit'; } > constraints.txt

$(APT_STAMP): Makefile
	mkdir -p var
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq $$missing; \
	fi
	touch $(APT_STAMP)

deps: $(STAMP) $(APT_STAMP)

lint: $(STAMP) typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

# One test worker more than cores: many tests spend their time waiting on processes they run.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

unit: $(STAMP)
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS)

test: deps lint unit

demo: deps
	$(VENV)/bin/stationkit demo

bench: deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
