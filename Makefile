# Two commands on a fresh machine with python3 and make:
#   make demo   build a real graph and compute it
#   make test   run the test suite
# Both create .venv when it is missing and install what they need into it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench graphviz chromium clean

demo: $(VENV)/.installed-base
	$(PY) -m graphflow demo

test: $(VENV)/.installed-test graphviz chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The anchors (dask, distributed, ray, pandas) are compared side by side:
# dask for the local workloads, dask.distributed and ray for the cluster ones.
bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks all

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP) install -e '.[test,bench]'
	touch $@

# graphviz's `dot` renders SVG/PNG in the visualize tests; install it where we may.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing graphviz (dot) for the visualize tests"; \
	    apt-get install -y -q graphviz >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q graphviz >/dev/null 2>&1; } || \
	    echo "could not install graphviz: SVG rendering tests will be skipped"; \
	  else echo "graphviz (dot) not found and not root: SVG rendering tests will be skipped"; fi; }

# Debian's chromium runs the dashboard's browser test (tests/diagnostics/test_dashboard_browser.py).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the dashboard's browser test"; \
	    apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } || \
	    echo "could not install chromium: the dashboard's browser test will be skipped"; \
	  else echo "chromium not found and not root: the dashboard's browser test will be skipped"; fi; }

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
