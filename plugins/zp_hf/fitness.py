"""The ``dev_metric`` fitness (f_GPS): a task's own metric on the job's examples.

All jobs of a call (many prompts, many tasks) go to the backend as one list of
items, so the backend batches across prompts and tasks; the metric is then computed
per job from its slice of the predictions.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

from zp_evolve.errors import ConfigError, PluginError
from zp_evolve.evaluation import FitnessJob
from zp_evolve.plugins import Registry
from zp_evolve.tasks import Task

Metric = Callable[[Sequence[Any], Sequence[Any]], float]


def metric_function(name: str, metrics: Registry) -> Metric:
    """The metric called ``name`` in ``metrics`` (the run's registry: see ``zp-evolve plugins --kind metrics``)."""
    if name not in metrics:
        raise PluginError(metrics.unknown_message(name))
    return metrics.get(name).factory


def scored_metric(task: Task, options: Mapping[str, Any]) -> str:
    """The metric dev_metric scores ``task`` with: the ``metric`` option, else the task's own
    (registration metadata ``task_metric``, so validation checks the metric against the task)."""
    return options.get("metric") or task.metric


class DevMetricFitness:
    """Score each prompt by the task's metric (or ``metric``) on the dev set (or test sample).

    Args:
        backend: the model backend (set by the engine from the config's ``model``).
        metrics: the metric registry of the run's plugins (set by the engine).
        metric: a registered metric name used for every task instead of the task's own.
    """

    def __init__(self, backend: Any = None, metrics: Registry | None = None, metric: str | None = None) -> None:
        if backend is None:
            raise ConfigError(
                "fitness dev_metric needs a model: add e.g. 'model: {backend: hf_causal, name: smollm2-135m-instruct}'"
            )
        if metrics is None:
            raise PluginError("dev_metric needs the run's metric registry: build it with Plugins.build('fitness', ...)")
        self.backend = backend
        self.metrics = metrics
        self.metric = metric
        if metric is not None:
            metric_function(metric, metrics)  # fail at build time on a misspelt name

    def evaluate(self, jobs: Sequence[FitnessJob]) -> list[float]:
        from zp_hf.formatting import PredictItem

        items: list[PredictItem] = []
        spans: list[tuple[int, int]] = []
        for job in jobs:
            begin = len(items)
            items.extend(PredictItem(job.task.task, job.prompt, example) for example in job.examples)
            spans.append((begin, len(items)))
        predictions = self.backend.predict(items)
        values = []
        for job, (begin, end) in zip(jobs, spans):
            if begin == end:
                values.append(-math.inf)
                continue
            metric = metric_function(self.metric or job.task.task.metric, self.metrics)
            references = [example.target for example in job.examples]
            values.append(float(metric(predictions[begin:end], references)))
        return values
