#!/usr/bin/env bash
# The GPU fitness benchmark in one call, for a machine with a CUDA GPU, torch and
# transformers, and no network (see docs/benchmarks.md, "GPUs").
#
# Here (where the cache is):   python benchmarks/fitness_throughput.py --make-pack benchmarks/gpu_pack
# There, from the repo root:   bash benchmarks/gpu_fitness.sh [OUT_DIR] [extra bench options]
#
# It writes OUT_DIR/gpu_fitness.json after every measurement (a run cut short keeps what
# it measured) and OUT_DIR/gpu_fitness.log; the last line printed is the summary JSON.
set -o pipefail
out="${1:-${OUT:-benchmarks/results}}"
shift || true
mkdir -p "$out"
export PYTHONPATH="$PWD:$PWD/plugins${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"
python3 benchmarks/fitness_throughput.py --random-init --device cuda --pack benchmarks/gpu_pack \
    --threads 8 --time-budget 500 --out "$out/gpu_fitness.json" "$@" 2>&1 | tee "$out/gpu_fitness.log"
