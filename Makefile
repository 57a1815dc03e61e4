# `make test` and `make demo` each install what is missing, then run.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := ngspice libngspice0 libngspice0-dev

.PHONY: test demo setup system-deps netlists bench clean

setup: system-deps $(STAMP)

system-deps:
	@if ! command -v ngspice >/dev/null 2>&1 || ! ls /usr/lib/*/libngspice.so >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(APT_PKGS) (apt-get)"; \
	    (apt-get install -y -q $(APT_PKGS) || (apt-get update -q && apt-get install -y -q $(APT_PKGS))) >/dev/null; \
	  else \
	    echo "cosim needs Debian packages: sudo apt-get install -y $(APT_PKGS)"; exit 1; \
	  fi; \
	fi

# torch is installed first and pinned so pip never pulls a CUDA build.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/cosim demo

MODELS := bmru_flipflop cmru_counting schmitt_digits

# regenerate the committed example netlists from the shipped models
netlists: setup
	for m in $(MODELS); do $(BIN)/cosim export models/$$m --bits 6 --out netlists/$$m.cir || exit 1; done

bench: setup
	$(BIN)/python benchmarks/scan.py

clean:
	rm -rf $(VENV) build *.egg-info
