# PatNav set-up. `make run` and `make test` are the two commands in the README;
# each installs everything it needs (system packages, a virtualenv, the package).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SYSTEM_PACKAGES = poppler-utils fonts-wqy-microhei faketime

.PHONY: install system venv run test clean

install: system venv

# System packages are needed later for PDF reports (CJK fonts, poppler's pdffonts/pdftotext).
system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing system packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $@

# The main job: the DVC pipeline over the bundled sample (ingest -> database -> projects).
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data/interim data/processed
