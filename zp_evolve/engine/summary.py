"""The run summary (``summary.json``): top K per task with dev and test scores.

It holds no timings, so the same seed gives the same file, resumed or not.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Mapping

from zp_evolve.config_schema import RunConfig
from zp_evolve.engine.individual import PromptIndividual
from zp_evolve.engine.offspring import OperatorStats
from zp_evolve.engine.state import SearchState
from zp_evolve.tasks import EvalTask


def _entry(individual: PromptIndividual, test_scores: Mapping[tuple[str, str], float]) -> dict[str, Any]:
    test = test_scores.get((individual.task, str(individual)))
    return {
        "prompt": str(individual),
        "dev": individual.score,
        "test": test,
        "operator": individual.operator,
        "generation": individual.generation,
        "parent": individual.parent,
    }


def _mean(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def build_summary(
    config: RunConfig,
    state: SearchState,
    eval_tasks: Mapping[str, EvalTask],
    test_scores: Mapping[tuple[str, str], float],
) -> dict[str, Any]:
    operator_stats = copy.deepcopy(state.operator_stats)
    tasks: dict[str, Any] = {}
    for name, task_state in state.tasks.items():
        eval_task = eval_tasks[name]
        top_k = [_entry(ind, test_scores) for ind in task_state.hall_of_fame]
        for individual in task_state.hall_of_fame:
            operator_stats.setdefault(individual.operator, OperatorStats())
            operator_stats[individual.operator].in_final_top_k += 1
        manual = [_entry(ind, test_scores) for ind in task_state.manual]
        best_manual = max(task_state.manual, key=lambda ind: ind.score) if task_state.manual else None
        tasks[name] = {
            "type": eval_task.task.type,
            "language": eval_task.task.language,
            "metric": eval_task.task.metric,
            "dev_size": len(eval_task.dev),
            "test_size": len(eval_task.test),
            "stopped": task_state.stopped,
            "top_k": top_k,
            "manual": manual,
            "best": top_k[0] if top_k else None,
            "manual_best_on_dev": _entry(best_manual, test_scores) if best_manual is not None else None,
            "top_k_mean_test": _mean([e["test"] for e in top_k]),
        }
    return {
        "name": config.name,
        "seed": config.seed,
        "generations_scored": len(state.history),
        "stop_reason": state.stop_reason,
        "model": config.model,
        "fitness": config.fitness,
        "tasks": tasks,
        "operators": {label: stats.to_json() for label, stats in sorted(operator_stats.items())},
    }
