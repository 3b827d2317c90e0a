"""A second objective beside the metric: NSGA-II parents and the Pareto front.

With ``search.objectives: [metric, length]`` (or ``fluency``, or a plugin's objective)
every prompt scored on dev gets one value per objective, computed in the workers. The
reproductive group is then chosen by DEAP's NSGA-II (``tools.selNSGA2``: non-dominated
sorting, then crowding distance) instead of the top K by metric, and the summary keeps
each task's Pareto front over every prompt scored. The answer is still chosen on the
metric by the selection strategy. With ``[metric]`` alone (the default) none of this
runs: the search is Algorithm 1.
"""

from __future__ import annotations

from typing import Any, Sequence

from deap import base, tools

from zp_evolve.errors import ConfigError

METRIC = "metric"
WEIGHT = {"maximize": 1.0, "minimize": -1.0}


def weights(objectives: Sequence[str], plugins: Any) -> tuple[float, ...]:
    """DEAP weights of the objectives: +1 to maximise, -1 to minimise (the metric is maximised)."""
    out = []
    for name in objectives:
        if name == METRIC:
            out.append(1.0)
            continue
        direction = plugins["objectives"].get(name).meta.get("direction", "minimize")
        if direction not in WEIGHT:
            raise ConfigError(f"objective {name!r} is registered with direction {direction!r}; use 'minimize' or 'maximize'")
        out.append(WEIGHT[direction])
    return tuple(out)


class _Point:
    """A prompt seen as a point in objective space, for DEAP's multi-objective tools."""

    def __init__(self, prompt: str, values: Sequence[float], fitness_class: type) -> None:
        self.prompt = prompt
        self.fitness = fitness_class(tuple(values))


def _points(candidates: Sequence[tuple[str, Sequence[float]]], objective_weights: Sequence[float]) -> list[_Point]:
    # A class per call: weights are set by the run's objectives, and points never leave this module.
    fitness_class = type("ObjectiveFitness", (base.Fitness,), {"weights": tuple(objective_weights)})
    return [_Point(prompt, values, fitness_class) for prompt, values in candidates]


def nsga2_select(candidates: Sequence[tuple[str, Sequence[float]]], k: int, objective_weights: Sequence[float]) -> list[str]:
    """The ``k`` prompts NSGA-II keeps: whole non-dominated fronts first, the last one cut by crowding."""
    points = _points(candidates, objective_weights)
    return [p.prompt for p in tools.selNSGA2(points, min(k, len(points)))]


def pareto_front(candidates: Sequence[tuple[str, Sequence[float]]], objective_weights: Sequence[float]) -> list[str]:
    """The prompts no other candidate dominates, in the order given."""
    if not candidates:
        return []
    points = _points(candidates, objective_weights)
    front = {id(p) for p in tools.sortNondominated(points, len(points), first_front_only=True)[0]}
    return [p.prompt for p in points if id(p) in front]
