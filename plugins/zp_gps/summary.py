"""The run summary (``summary.json``): the answer and top K per task, with dev and test scores.

It holds no timings, so the same seed gives the same file, resumed or not.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from zp_evolve.tasks import EvalTask
from zp_gps.individual import PromptIndividual
from zp_gps.offspring import OperatorStats
from zp_gps.schema import RunConfig
from zp_gps.selection import DevPartition, Judged, strategy_name
from zp_gps.state import SearchState


@dataclass
class FinalChoice:
    """What selection made of one task's final pool.

    ``ranked`` is the top K in answer order, ``members`` the prompt(s) of the answer,
    ``judged`` the selection numbers of every finalist and handcrafted prompt.
    """

    ranked: list[PromptIndividual]
    members: list[str]
    judged: Mapping[str, Judged]
    dev_class_counts: dict[str, int] = field(default_factory=dict)
    partition: DevPartition | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    pareto_front: list[tuple[str, tuple[float, ...]]] = field(default_factory=list)  # (prompt, extra objective values)
    guard: dict[str, Any] | None = None  # selection.beat_manual's decision


def _entry(individual: PromptIndividual, test_scores: Mapping[tuple[str, str], float], judged: Judged) -> dict[str, Any]:
    entry = {
        "prompt": str(individual),
        "dev": judged.dev,
        "test": test_scores.get((individual.task, str(individual))),
        "operator": individual.operator,
        "generation": individual.generation,
        "parent": individual.parent,
    }
    if judged.fitness != judged.dev:  # a selection strategy judged it by another number
        entry["fitness"] = judged.fitness
    for name in ("breed", "holdout", "stderr"):
        if getattr(judged, name) is not None:
            entry[name] = getattr(judged, name)
    return entry


def _mean(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def selection_summary(config: RunConfig) -> dict[str, Any]:
    """The strategy's name and options, as summaries and reports show them."""
    calibrate = bool((config.fitness or {}).get("calibrate"))
    options = config.selection.model_dump()
    if not options["beat_manual"]:
        del options["beat_manual"]  # off: summaries read as they did before the option existed
    if options["answer"] == "ensemble":
        options["ensemble_size"] = config.selection.members  # resolved: unset and the default read alike
    return {"strategy": strategy_name(config.selection, calibrate=calibrate), **options}


def build_summary(
    config: RunConfig,
    state: SearchState,
    eval_tasks: Mapping[str, EvalTask],
    test_scores: Mapping[tuple[str, str], float],
    choices: Mapping[str, FinalChoice],
) -> dict[str, Any]:
    operator_stats = copy.deepcopy(state.operator_stats)
    tasks: dict[str, Any] = {}
    for name, task_state in state.tasks.items():
        eval_task, choice = eval_tasks[name], choices[name]
        top_k = [_entry(ind, test_scores, choice.judged[str(ind)]) for ind in choice.ranked]
        for individual in choice.ranked:
            operator_stats.setdefault(individual.operator, OperatorStats())
            operator_stats[individual.operator].in_final_top_k += 1
        manual = [_entry(ind, test_scores, choice.judged[str(ind)]) for ind in task_state.manual]
        best_manual = max(task_state.manual, key=lambda ind: choice.judged[str(ind)].dev) if task_state.manual else None
        entry: dict[str, Any] = {
            "type": eval_task.task.type,
            "language": eval_task.task.language,
            "metric": eval_task.task.metric,
            "dev_size": len(eval_task.dev),
            "test_size": len(eval_task.test),
        }
        if eval_task.task.labels:
            entry["dev_class_counts"] = choice.dev_class_counts
        if choice.partition is not None:
            entry["dev_parts"] = {"breed": len(choice.partition.breed), "holdout": len(choice.partition.holdout)}
        entry.update(
            {
                "stopped": task_state.stopped,
                "top_k": top_k,
                "manual": manual,
                "best": top_k[0] if top_k else None,
                "answer": choice.answer,
                "manual_best_on_dev": (
                    _entry(best_manual, test_scores, choice.judged[str(best_manual)]) if best_manual is not None else None
                ),
                "top_k_mean_test": _mean([e["test"] for e in top_k]),
            }
        )
        if len(config.search.objectives) > 1:
            entry["pareto_front"] = [
                {
                    "prompt": prompt,
                    "dev": choice.judged[prompt].dev,
                    "test": test_scores.get((name, prompt)),
                    "objectives": {"metric": choice.judged[prompt].fitness, **dict(zip(config.search.objectives[1:], values))},
                }
                for prompt, values in sorted(choice.pareto_front, key=lambda item: -choice.judged[item[0]].fitness)
            ]
        tasks[name] = entry
    return {
        "name": config.name,
        "seed": config.seed,
        "generations_scored": len(state.history),
        "stop_reason": state.stop_reason,
        "model": config.model,
        "fitness": config.fitness,
        "selection": selection_summary(config),
        "tasks": tasks,
        "operators": {label: stats.to_json() for label, stats in sorted(operator_stats.items())},
    }
