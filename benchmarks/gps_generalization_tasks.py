"""Which held-out tasks benchmarks/gps_generalization.py measures: a rule fixed before any search.

1. **Candidates** (from the catalog alone): the test side of experiments/splits/default.yaml,
   rank classification (fixed labels or per-example options), English or Chinese, at least
   :data:`MIN_TEST` test examples, inputs of at most :data:`MAX_INPUT_CHARS` characters on
   average (the cost rule: SmolLM2 on one CPU thread scores a 1,000-token input in seconds;
   the first screen, with a 1,200-character bound, spent 50 minutes on 1,700 dev examples
   of its first 64 prompts, most of them 900-1,000 tokens long). The model also cuts every
   input at that length (``max_input_chars``) and at 256 tokens (``max_input_tokens``: the
   second screen's first chunk, with the character bound alone, spent 26 minutes on one
   Chinese task whose 600 characters are about 1,000 tokens), so no long tail remains.
2. **Screen** (the handcrafted prompts alone, seed 0, no search): every handcrafted prompt
   of every candidate is scored on the test sample (200 examples, drawn with seed 0 and
   shared by every cell) by SmolLM2. A task is kept when its best
   handcrafted prompt is at least :data:`MARGIN` points above chance. A model at chance on
   a task cannot be helped by any prompt; such pairs only add noise to every comparison.
   The rule looks at the handcrafted prompts only, never at a searched one, so it favours
   no strategy (if anything it favours the handcrafted baseline).

3. **Fill** (only when the test side keeps fewer than :data:`TARGET` tasks): the train side of
   the same split gives more candidates by the same catalog rule, at most
   :data:`TRAIN_PER_TYPE` per task type in split order (the cost rule: its 72 candidates
   hold 249 handcrafted prompts, half of them Raven and pointer puzzles of one type); they
   are screened alike, and the kept ones join, fewest-of-their-type first (ties by name),
   until :data:`TARGET`. No model here is trained on the train side: for the untrained
   SmolLM2 that GPS searches for, every task is unseen, and its test examples are held out
   from the search as on the test side.

**Chance** is the score of a predictor that ignores the input: 50 for AUC; for micro-F1 with
fixed labels the share of the most frequent label on test (always answering it); with
per-example options the mean of 1 / options (a random pick).
"""

from __future__ import annotations

import collections
import statistics
from pathlib import Path
from typing import Any, Sequence

from zp_evolve.splits import split_task_names

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "experiments" / "splits" / "default.yaml"
MIN_TEST = 30
MAX_INPUT_CHARS = 600
MARGIN = 3.0
TARGET = 16
TRAIN_PER_TYPE = 3
LANGUAGES = ("en", "zh")


def chance_points(task: Any, examples: Sequence[Any]) -> float:
    """The score (x100) of a predictor that ignores the input, on these examples."""
    if task.metric == "auc":
        return 50.0
    if task.multiple_choice:
        return round(100.0 * statistics.fmean(1.0 / max(len(e.candidates), 1) for e in examples), 2)
    counts = collections.Counter(e.target for e in examples)
    return round(100.0 * counts.most_common(1)[0][1] / len(examples), 2)


def candidates(
    catalog: Any, split: Path = SPLIT, *, side: str = "test", per_type: int | None = None
) -> tuple[list[str], dict[str, str]]:
    """The candidate tasks of one side of ``split`` and, for each task left out, why."""
    kept: list[str] = []
    dropped: dict[str, str] = {}
    of_type: collections.Counter[str] = collections.Counter()
    for name in split_task_names(split, side, catalog=catalog):
        task = catalog.get(name)
        if not (task.labels or task.multiple_choice):
            dropped[name] = "generation (not rank classification)"
            continue
        if task.language not in LANGUAGES:
            dropped[name] = f"language {task.language}"
            continue
        test = catalog.examples(name, "test")
        if len(test) < MIN_TEST:
            dropped[name] = f"{len(test)} test examples (< {MIN_TEST})"
            continue
        chars = statistics.fmean(sum(len(str(v)) for v in e.inputs.values()) for e in test[:200])
        if chars > MAX_INPUT_CHARS:
            dropped[name] = f"inputs of {chars:.0f} characters on average (> {MAX_INPUT_CHARS})"
            continue
        if per_type is not None and of_type[task.type] >= per_type:
            dropped[name] = f"{per_type} {task.type} candidates already (the train side's cap per type)"
            continue
        of_type[task.type] += 1
        kept.append(name)
    return kept, dropped


def fill(kept: Sequence[str], extra: Sequence[str], types: dict[str, str], target: int = TARGET) -> list[str]:
    """``kept``, then tasks of ``extra`` (fewest of their type so far first, ties by name) until ``target``."""
    chosen = list(kept)
    count = collections.Counter(types[name] for name in chosen)
    pool = sorted(extra)
    while len(chosen) < target and pool:
        pick = min(pool, key=lambda name: (count[types[name]], name))
        pool.remove(pick)
        chosen.append(pick)
        count[types[pick]] += 1
    return chosen


def screen(record: dict[str, Any], catalog: Any, margin: float = MARGIN) -> dict[str, Any]:
    """Apply the rule to a screening cell's record: the kept tasks and the dropped ones, with figures."""
    scores: dict[str, dict[str, Any]] = {}
    for name, result in sorted(record["tasks"].items()):
        task = catalog.get(name)
        tests = [100.0 * m["test"] for m in result["manual"] if m.get("test") is not None]
        chance = chance_points(task, catalog.examples(name, "test"))
        best = max(tests) if tests else None
        scores[name] = {
            "type": task.type, "language": task.language, "metric": task.metric, "chance": chance,
            "best_manual_test": None if best is None else round(best, 2),
            "above_chance": None if best is None else round(best - chance, 2),
            "kept": best is not None and best - chance >= margin,
        }
    kept = [name for name, s in scores.items() if s["kept"]]
    return {
        "rule": f"best handcrafted prompt's test score >= chance + {margin} points (SmolLM2-135M-Instruct, seed 0)",
        "kept": kept,
        "dropped": {name: s for name, s in scores.items() if not s["kept"]},
        "scores": scores,
        "types": sorted({scores[n]["type"] for n in kept}),
        "languages": sorted({scores[n]["language"] for n in kept}),
    }
