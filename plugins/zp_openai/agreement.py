"""Two backends on the same items: their argmax agreement and examples/s (tests, benchmarks).

Served scores come from the Q4 GGUF and ``hf_causal``'s from its dequantised weights, so
a served model should pick the same label on nearly every example (docs/backends.md).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Sequence

from zp_hf.formatting import PredictItem


@dataclass(frozen=True)
class Timed:
    predictions: list[dict[str, float]]
    seconds: float

    def per_second(self, count: int) -> float:
        return count / self.seconds if self.seconds else float("inf")


def timed_predict(backend: Any, items: Sequence[PredictItem]) -> Timed:
    start = time.perf_counter()
    predictions = backend.predict(items)
    return Timed(predictions, time.perf_counter() - start)


def argmax_agreement(a: Sequence[dict[str, float]], b: Sequence[dict[str, float]]) -> int:
    """How many items get the same top label from both."""
    return sum(max(x, key=x.__getitem__) == max(y, key=y.__getitem__) for x, y in zip(a, b))


def comparison_items(catalog: Any, names: Sequence[str], per_task: int, seed: int = 0) -> list[PredictItem]:
    """``per_task`` test examples of each task (seeded draw) under its first handcrafted prompt."""
    items = []
    for name in names:
        task = catalog.get(name)
        examples = catalog.examples(name, "test")
        for example in random.Random(seed).sample(examples, min(per_task, len(examples))):
            items.append(PredictItem(task, task.prompts[0], example))
    return items
