"""Search state that a checkpoint holds, so a killed run resumes exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from deap import tools

from zp_evolve.prompts import normalize
from zp_evolve.rundir import RunDirectory
from zp_gps.individual import PromptIndividual
from zp_gps.offspring import OperatorStats


@dataclass
class TaskState:
    """One task's population G^t and its all-time top K. The per-generation records live
    once, in :attr:`SearchState.history` (a DEAP Logbook kept beside it was never read)."""

    name: str
    population: list[PromptIndividual]
    hall_of_fame: tools.HallOfFame
    seen: set[str] = field(default_factory=set)
    manual: list[PromptIndividual] = field(default_factory=list)
    stopped: str | None = None

    @classmethod
    def initial(cls, name: str, prompts: list[str], pool_size: int) -> "TaskState":
        """G0 of one task; the hall of fame keeps the ``pool_size`` best prompts ever scored
        (the selection's final pool: the top K, or more for ensembles and hold-out ranking)."""
        population: list[PromptIndividual] = []
        seen: set[str] = set()
        for prompt in prompts:
            key = normalize(prompt)
            if key not in seen:  # G0 may repeat a prompt; score it once
                seen.add(key)
                population.append(PromptIndividual(key, task=name, generation=0, operator="manual"))
        return cls(name, population, tools.HallOfFame(pool_size), seen, list(population))


@dataclass
class SearchState:
    """Everything needed to continue a search after the last finished generation."""

    generation: int
    tasks: dict[str, TaskState]
    rng: random.Random
    operator_stats: dict[str, OperatorStats]
    #: One list of per-task records (gen, best, mean, top_k_mean...) per scored generation.
    history: list[list[dict[str, Any]]] = field(default_factory=list)
    stop_reason: str | None = None
    finished: bool = False
    seconds: float = 0.0  # searching time of the sessions before this one (search.budget.seconds)

    def __setstate__(self, values: dict[str, Any]) -> None:
        # checkpoints written before budgets existed lack the counter
        self.__dict__.update({"seconds": 0.0, **values})

    @classmethod
    def initial(cls, seed: int, tasks: dict[str, TaskState]) -> "SearchState":
        return cls(generation=0, tasks=tasks, rng=random.Random(seed), operator_stats={})

    @property
    def active(self) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.stopped is None]



#: Where the classes of checkpoints written before GPS became a plugin (they pickled
#: ``zp_evolve.engine.*``) live now.
MOVED_MODULES = {
    **{f"zp_evolve.engine.{name}": f"zp_gps.{name}" for name in ("individual", "offspring", "state", "selection", "summary")},
    "zp_evolve.engine.gps": "zp_gps.search",
    "zp_evolve.engine.objectives": "zp_gps.pareto",
}


def load_state(run_dir: RunDirectory) -> SearchState:
    """The search state of a run folder's last checkpoint, of this version or an older one."""
    return run_dir.load_checkpoint(MOVED_MODULES)
