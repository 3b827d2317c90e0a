"""The ``dev_metric`` fitness (f_GPS): a task's own metric on the job's examples.

All jobs of a call (many prompts, many tasks) go to the backend as one list of
items, so the backend batches across prompts and tasks; the metric is then computed
per job from its slice of the predictions.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from zp_evolve.errors import ConfigError, PluginError
from zp_evolve.evaluation import FitnessJob


def metric_function(name: str) -> Callable[[Sequence[Any], Sequence[Any]], float]:
    """The registered metric called ``name`` (see ``zp-evolve plugins --kind metrics``)."""
    from zp_evolve.plugins import load_plugins

    registry = load_plugins()["metrics"]
    if name not in registry:
        raise PluginError(registry.unknown_message(name))
    return registry.get(name).factory


class DevMetricFitness:
    """Score each prompt by the task's metric (or ``metric``) on the dev set (or test sample).

    Args:
        backend: the model backend (set by the engine from the config's ``model``).
        metric: a registered metric name used for every task instead of the task's own.
    """

    def __init__(self, backend: Any = None, metric: str | None = None) -> None:
        if backend is None:
            raise ConfigError(
                "fitness dev_metric needs a model: add e.g. 'model: {backend: hf_causal, name: smollm2-135m-instruct}'"
            )
        self.backend = backend
        self.metric = metric
        if metric is not None:
            metric_function(metric)  # fail at build time on a misspelt name

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
            metric = metric_function(self.metric or job.task.task.metric)
            references = [example.target for example in job.examples]
            values.append(float(metric(predictions[begin:end], references)))
        return values
