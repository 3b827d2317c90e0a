"""What flows between the engine, executors and workers when prompts are scored.

The engine sends batches of :class:`EvalRequest` to an executor. The executor hands
them to workers built by a picklable :class:`zp_evolve.workers.WorkerFactory`; each worker holds one
model (backend) and one fitness function for the whole run.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from zp_evolve.errors import ExecutorError, ZpError
from zp_evolve.tasks import EvalTask, Example

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalRequest:
    """Score ``prompt`` for ``task`` on its ``dev`` set (or its ``test`` sample)."""

    task: str
    prompt: str
    split: str = "dev"


@dataclass(frozen=True)
class EvalResult:
    """A fitness value, the seconds spent on it, and an error message if scoring failed.

    ``predictions`` are the per-example predictions behind the value, in the order of
    the split's examples (``{label: score}`` mappings or generated strings), and
    ``metric`` the registered metric that turned them into ``fitness``. Both are set
    by fitness functions that can report them (:class:`ScoredPredictions`); selection
    strategies that look at single examples (hold-out parts, confidence bounds,
    ensembles) need them. ``objectives`` holds the values of ``search.objectives``
    beyond the metric, for dev requests. ``node`` names the machine that scored it, where
    an executor knows (the Ray executor sets the node's IP); it goes to ``events.jsonl``.
    ``usage`` is what scoring cost on a served model (``prompt_tokens``, ``completion_tokens``,
    ``requests``), where the backend counts it.
    """

    fitness: float
    seconds: float
    error: str | None = None
    predictions: tuple[Any, ...] | None = None
    metric: str | None = None
    objectives: Mapping[str, float] | None = None
    node: str | None = None
    usage: Mapping[str, int] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FitnessJob:
    """One prompt to score on one task's split, as a fitness function receives it."""

    prompt: str
    task: EvalTask
    split: str = "dev"

    @property
    def examples(self) -> tuple[Example, ...]:
        return self.task.split(self.split)


@runtime_checkable
class Fitness(Protocol):
    """f_GPS: turns a model's predictions on a split into one number (higher is better)."""

    def evaluate(self, jobs: Sequence[FitnessJob]) -> list[float]: ...


@dataclass(frozen=True)
class ScoredPredictions:
    """A fitness value with the per-example predictions and the metric that gave it."""

    value: float
    predictions: tuple[Any, ...]
    metric: str
    usage: Mapping[str, int] | None = None


@runtime_checkable
class PredictingFitness(Fitness, Protocol):
    """A fitness that can also return what it predicted for every example.

    ``evaluate_predictions(jobs)[i].value`` must equal ``evaluate(jobs)[i]``.
    """

    def evaluate_predictions(self, jobs: Sequence[FitnessJob]) -> list[ScoredPredictions]: ...


class FitnessWorker:
    """Scores batches of requests with one fitness function."""

    def __init__(self, fitness: Fitness, tasks: Mapping[str, EvalTask], objectives: Mapping[str, Any] | None = None) -> None:
        self.fitness = fitness
        self.tasks = tasks
        self.objectives = dict(objectives or {})

    def jobs(self, requests: Sequence[EvalRequest]) -> list[FitnessJob]:
        missing = sorted({r.task for r in requests if r.task not in self.tasks})
        if missing:
            raise ExecutorError(f"worker has no data for task(s) {missing}; the worker factory is stale")
        return [FitnessJob(r.prompt, self.tasks[r.task], r.split) for r in requests]

    def evaluate(self, requests: Sequence[EvalRequest]) -> list[EvalResult]:
        """Score a batch (and the objectives of its dev requests)."""
        results = self._evaluate_fitness(requests)
        if not self.objectives:
            return results
        dev = [i for i, r in enumerate(requests) if r.split == "dev" and results[i].ok]
        values = {
            name: objective.evaluate([(requests[i].prompt, self.tasks[requests[i].task].task) for i in dev])
            for name, objective in self.objectives.items()
        }
        for position, index in enumerate(dev):
            chosen = {name: float(column[position]) for name, column in values.items()}
            results[index] = dataclasses.replace(results[index], objectives=chosen)
        return results

    def _evaluate_fitness(self, requests: Sequence[EvalRequest]) -> list[EvalResult]:
        """Score a batch at once; if that fails, score one by one to isolate bad prompts."""
        if not requests:
            return []
        jobs = self.jobs(requests)
        start = time.perf_counter()
        try:
            values = self._evaluate(jobs)
            per_item = (time.perf_counter() - start) / len(jobs)
            return [self._result(v, per_item) for v in values]
        except ZpError:
            raise
        except Exception as error:  # isolate the failing prompt(s)
            log.warning("batch of %d failed (%s); scoring one at a time", len(jobs), error)
        results = []
        for job in jobs:
            start = time.perf_counter()
            try:
                value = self._evaluate([job])[0]
                results.append(self._result(value, time.perf_counter() - start))
            except Exception as error:
                results.append(EvalResult(float("-inf"), time.perf_counter() - start, f"{type(error).__name__}: {error}"))
        if all(not r.ok for r in results):
            raise ExecutorError(f"every prompt in the batch failed to score; first error: {results[0].error}")
        return results

    def _evaluate(self, jobs: Sequence[FitnessJob]) -> Sequence[Any]:
        if isinstance(self.fitness, PredictingFitness):
            return self.fitness.evaluate_predictions(jobs)
        return self.fitness.evaluate(jobs)

    @staticmethod
    def _result(value: Any, seconds: float) -> EvalResult:
        predictions, metric, usage = None, None, None
        if isinstance(value, ScoredPredictions):
            predictions, metric, usage, value = tuple(value.predictions), value.metric, value.usage, value.value
        value = float(value)
        if math.isnan(value):
            return EvalResult(float("-inf"), seconds, "fitness is NaN", usage=usage)
        return EvalResult(value, seconds, predictions=predictions, metric=metric, usage=usage)
