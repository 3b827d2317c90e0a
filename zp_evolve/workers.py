"""The picklable recipe of a scoring worker: executors send it to their processes (Ray
actors too), where it loads the plugins and builds the model and the fitness once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from zp_evolve.evaluation import FitnessWorker
from zp_evolve.plugins import load_plugins
from zp_evolve.tasks import EvalTask


@dataclass(frozen=True)
class WorkerFactory:
    """Builds a worker: a model backend and a fitness function, once per process.

    Plain data, so it pickles to Ray actors; plugins are loaded again in the worker.
    ``extra_plugins`` are plugin objects registered in addition to installed ones
    (tests use it); they must be importable in the worker. Workers touch no global
    random state: fitness is deterministic, and what must be random takes an ``rng``.
    """

    fitness: Mapping[str, Any]
    tasks: Mapping[str, EvalTask]
    model: Mapping[str, Any] | None = None
    extra_plugins: tuple[Any, ...] = field(default=())
    objectives: tuple[str, ...] = ()

    def __call__(self) -> FitnessWorker:
        plugins = load_plugins(self.extra_plugins)
        backend = plugins.build("backends", self.model, path="model") if self.model else None
        fitness = plugins.build("fitness", self.fitness, path="fitness", backend=backend)
        objectives = {
            name: plugins.build("objectives", {"name": name}, path="search.objectives", backend=backend) for name in self.objectives
        }
        return FitnessWorker(fitness, self.tasks, objectives)
