# EST Weekly — every target installs what it needs and is safe to run again.
#   make demo   build the demo GeoPackage and the weekly outputs (headless)
#   make test   run the whole test suite, PostGIS included, offscreen
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-psycopg2 \
                python3-numpy python3-venv python3-pip postgresql-15 postgresql-15-postgis-3 postgis poppler-utils \
                qttools5-dev-tools pyqt5-dev-tools xvfb fonts-dejavu-core
DEB_STAMP   := .make/deb.stamp
VENV_STAMP  := $(VENV)/.installed
OUT         := output
export QT_QPA_PLATFORM ?= offscreen
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps venv test test-fast demo qgis package deploy lint bench clean

help:
	@echo "make demo     build demo GeoPackage + weekly outputs in $(OUT)/"
	@echo "make test     run all tests (starts a throw-away PostGIS on loopback)"
	@echo "make package  build dist/est_weekly_plugin.zip;  make deploy  install it into QGIS"
	@echo "make qgis     open QGIS with the plugin and the demo database"
	@echo "make test-fast  the tests without PostGIS (tests/unit alone: seconds)"
	@echo "make lint     ruff;  make bench  run benchmarks"

# Debian packages: installed only when one is missing (apt-get update first on a new machine).
$(DEB_STAMP):
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@/usr/bin/python3 -c "import qgis.core" || { echo "QGIS Python bindings did not import"; exit 1; }
	@mkdir -p $(dir $@) && touch $@

deps: $(DEB_STAMP)

# The venv also holds the plugin's vendored pyqtgraph (generated, git-ignored): remade when
# missing (a rule without recipe for an absent file counts as changed) or when vendor.py changes.
VENDORED    := est_weekly_plugin/_vendor/pyqtgraph/__init__.py
$(VENDORED): ;
$(VENV_STAMP): requirements.txt scripts/vendor.py $(VENDORED) $(DEB_STAMP)
	@[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m scripts.vendor
	@touch $@

venv: $(VENV_STAMP)

test: $(VENV_STAMP)
	$(PY) -m pytest

# the fast path while working: no PostGIS (make test runs everything)
test-fast: $(VENV_STAMP)
	$(PY) -m pytest -m "not postgis and not slow"

demo: $(VENV_STAMP)
	$(PY) -m scripts.demo --out $(OUT)

qgis: demo
	@[ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || { echo "make qgis needs a display"; exit 1; }
	$(MAKE) deploy
	QT_QPA_PLATFORM= qgis --noversioncheck --code scripts/open_demo.py

# scripts.package refreshes the vendored pyqtgraph first (scripts/vendor.py), then zips.
package: $(VENV_STAMP)
	$(PY) -m scripts.package

deploy: package
	$(PY) -m scripts.package --deploy

lint: $(VENV_STAMP)
	$(PY) -m ruff check est_weekly_plugin tests bench scripts

bench: $(VENV_STAMP)
	$(PY) -m bench.store
	$(PY) -m bench.compilation
	$(PY) -m bench.report
	$(PY) -m bench.concurrency
	$(PY) -m bench.privacy
	$(PY) -m bench.freeze
	$(PY) -m bench.import_events

clean:
	rm -rf dist $(OUT) .make .pytest_cache tests/output
