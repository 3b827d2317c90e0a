"""DEAP individual and fitness classes for prompts.

They are defined at module level (not through DEAP's global ``creator``) so they
pickle to Ray workers and into checkpoints.
"""

from __future__ import annotations

from typing import Any

from deap import base


class PromptFitness(base.Fitness):
    """A single maximised objective: the task metric on the dev set."""

    weights = (1.0,)


class PromptIndividual(str):
    """A prompt template with its lineage: the operator and parent that produced it."""

    def __new__(cls, text: str, *, task: str, generation: int, operator: str = "manual", parent: str | None = None):
        self = super().__new__(cls, text)
        self.task = task
        self.generation = generation
        self.operator = operator
        self.parent = parent
        self.fitness = PromptFitness()
        self.objectives: tuple[float, ...] = ()  # values of search.objectives beyond the metric
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (str(self), self.task, self.generation, self.operator, self.parent, self.fitness.values, self.objectives))

    def __deepcopy__(self, memo: dict[int, Any]) -> "PromptIndividual":
        return _rebuild(str(self), self.task, self.generation, self.operator, self.parent, self.fitness.values, self.objectives)

    @property
    def score(self) -> float:
        return self.fitness.values[0] if self.fitness.valid else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": str(self),
            "fitness": self.score,
            "generation": self.generation,
            "operator": self.operator,
            "parent": self.parent,
        }


def _rebuild(
    text: str, task: str, generation: int, operator: str, parent: str | None, values: tuple, objectives: tuple = ()
) -> PromptIndividual:
    individual = PromptIndividual(text, task=task, generation=generation, operator=operator, parent=parent)
    if values:
        individual.fitness.values = values
    individual.objectives = tuple(objectives)
    return individual
