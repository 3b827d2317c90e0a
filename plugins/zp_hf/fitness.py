"""The ``dev_metric`` fitness (f_GPS): a task's own metric on the job's examples.

All jobs of a call (many prompts, many tasks) go to the backend as one list of
items, so the backend batches across prompts and tasks; the metric is then computed
per job from its slice of the predictions. The per-example predictions go back to
the engine too (:meth:`DevMetricFitness.evaluate_predictions`), for selection
strategies that look at single examples (docs/gps.md, "Selection").
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from zp_evolve.errors import ConfigError, PluginError
from zp_evolve.evaluation import FitnessJob, ScoredPredictions
from zp_evolve.hookspecs import Metric
from zp_evolve.plugins import Registry
from zp_evolve.tasks import Task
from zp_hf.calibration import CONTENT_FREE_INPUTS, calibrate_all, calibrates, content_free_examples


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
        calibrate: contextual calibration (Zhao et al., 2021) of classification scores:
            each prompt is also scored on content-free inputs, and the label prior they
            show is divided out before the metric (see :mod:`zp_hf.calibration`).
        content_free: the content-free inputs used by ``calibrate``.
    """

    def __init__(
        self,
        backend: Any = None,
        metrics: Registry | None = None,
        metric: str | None = None,
        calibrate: bool = False,
        content_free: Sequence[str] = CONTENT_FREE_INPUTS,
    ) -> None:
        if backend is None:
            raise ConfigError(
                "fitness dev_metric needs a model: add e.g. 'model: {backend: hf_causal, name: smollm2-135m-instruct}'"
            )
        if metrics is None:
            raise PluginError("dev_metric needs the run's metric registry: build it with Plugins.build('fitness', ...)")
        if calibrate and not content_free:
            raise ConfigError("fitness dev_metric: calibrate needs at least one content_free input, e.g. ['N/A']")
        self.backend = backend
        self.metrics = metrics
        self.metric = metric
        self.calibrate = calibrate
        self.content_free = tuple(content_free)
        if metric is not None:
            metric_function(metric, metrics)  # fail at build time on a misspelt name

    def evaluate(self, jobs: Sequence[FitnessJob]) -> list[float]:
        return [scored.value for scored in self.evaluate_predictions(jobs)]

    def evaluate_predictions(self, jobs: Sequence[FitnessJob]) -> list[ScoredPredictions]:
        """Per job: the metric, the per-example predictions it was computed from, and its name."""
        from zp_hf.formatting import PredictItem

        items: list[PredictItem] = []
        spans: list[tuple[int, int, int]] = []
        for job in jobs:
            begin = len(items)
            items.extend(PredictItem(job.task.task, job.prompt, example) for example in job.examples)
            middle = len(items)
            if self.calibrate and calibrates(job.task.task) and job.examples:
                items.extend(PredictItem(job.task.task, job.prompt, e) for e in content_free_examples(job.task.task, self.content_free))
            spans.append((begin, middle, len(items)))
        predictions = self.backend.predict(items)
        item_usage = getattr(self.backend, "item_usage", None)  # served backends count tokens and requests per item
        out = []
        for job, (begin, middle, end) in zip(jobs, spans):
            metric_name = self.metric or job.task.task.metric
            if begin == middle:
                out.append(ScoredPredictions(-math.inf, (), metric_name))
                continue
            scored = predictions[begin:middle]
            if end > middle:
                scored = calibrate_all(scored, predictions[middle:end])
            references = [example.target for example in job.examples]
            value = float(metric_function(metric_name, self.metrics)(scored, references))
            usage = sum_usage(item_usage[begin:end]) if item_usage else None
            out.append(ScoredPredictions(value, tuple(scored), metric_name, usage))
        return out


def sum_usage(rows: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """Usage counts (tokens, requests) summed key by key."""
    total: dict[str, int] = {}
    for row in rows:
        for key, count in row.items():
            total[key] = total.get(key, 0) + int(count)
    return total
