"""Selection on a tiny dev set: what Algorithm 1 breeds on, and which prompts it answers with.

The paper's Algorithm 1 scores every prompt by the task metric over all of dev, keeps
the top K to breed, and answers with the top K over all generations. On 32 examples
that rewards prompts that fit those 32 examples by chance (the chosen prompts' dev
scores overstate their test scores). :class:`SelectionPolicy` adds, each optional:

- **holdout**: a stratified part of dev never reaches breeding; the final pool (the
  best ``pool`` prompts on the breeding part, over all generations) is ranked on it
  (``rank_on: holdout``), or on all of dev with the breeding part's average optimism
  removed (``rank_on: dev_debiased``).
- **lcb**: the fitness is the metric minus ``lcb`` times its bootstrap standard error
  (stratified resamples of the dev examples, the same resamples for every prompt of a
  task), so a child must beat its parent by more than noise.
- **ensemble answer**: the top prompts as one predictor, the mean of their normalised
  label log-probabilities (:mod:`zp_evolve.ensemble`).
- **beat_manual**: the answer must beat the best handcrafted prompt on dev in at least
  that share of paired bootstrap resamples (the same resampled examples for both);
  otherwise the search answers with the handcrafted prompt. A search that found nothing
  better than noise then costs nothing against the user's own prompt.

Contextual calibration is an option of the scorer (``fitness: {calibrate: true}``), not
of selection. With every option off this is exactly Algorithm 1: the fitness is the
worker's value, untouched.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from zp_evolve.ensemble import ensemble_label_scores
from zp_evolve.errors import RunError
from zp_evolve.hookspecs import Metric
from zp_evolve.sampling import stratified_quotas, task_rng
from zp_evolve.tasks import EvalTask, Example
from zp_gps.schema import SelectionConfig

MetricLookup = Callable[[str], Metric]


@dataclass(frozen=True)
class DevPartition:
    """Indices of a task's dev examples: the part breeding sees, and the held-out part."""

    breed: tuple[int, ...]
    holdout: tuple[int, ...] = ()


def strategy_name(config: SelectionConfig, *, calibrate: bool = False) -> str:
    """A short name for reports: ``algorithm1``, or the options in use joined by ``+``."""
    parts = []
    if config.holdout:
        parts.append("holdout" if config.rank_on == "holdout" else "holdout_debiased")
    if config.lcb:
        parts.append("lcb")
    if config.answer == "ensemble":
        parts.append("ensemble")
    if config.beat_manual:
        parts.append("beat_manual")
    if calibrate:
        parts.append("calibrate")
    return "+".join(parts) or "algorithm1"


def _groups(examples: Sequence[Example], indices: Sequence[int]) -> list[list[int]]:
    """``indices`` grouped by label, in first-seen order (one group for generation tasks)."""
    groups: dict[str, list[int]] = {}
    for index in indices:
        groups.setdefault(examples[index].target, []).append(index)
    return list(groups.values())


def holdout_partition(eval_task: EvalTask, holdout: float, seed: int) -> DevPartition:
    """Split a task's dev set into a breeding part and a held-out part, stratified by label.

    ``holdout`` is a share (0 < h < 1) or a count; each part keeps at least one example,
    and each label with two or more examples is represented in both.
    """
    dev = eval_task.dev
    indices = list(range(len(dev)))
    if not holdout:
        return DevPartition(tuple(indices))
    wanted = round(holdout * len(dev)) if holdout < 1 else int(holdout)
    if len(dev) < 2 or not 1 <= wanted < len(dev):
        raise RunError(
            f"task {eval_task.name!r}: selection.holdout {holdout} leaves no examples to breed on or none to hold out "
            f"(dev set: {len(dev)} examples). Use a share between 0 and 1, or a count below {len(dev)}."
        )
    rng = task_rng(seed, eval_task.name, "holdout")
    groups = _groups(dev, indices) if eval_task.task.labels else [indices]
    # every label keeps at least one example to breed on; the held-out part follows the label shares
    quotas = stratified_quotas([len(g) - 1 for g in groups], wanted, floor=1)
    held: list[int] = []
    for group, quota in zip(groups, quotas):
        held.extend(rng.sample(group, quota))
    held_set = set(held)
    return DevPartition(tuple(i for i in indices if i not in held_set), tuple(sorted(held_set)))


def bootstrap_resamples(examples: Sequence[Example], indices: Sequence[int], count: int, seed: int, task: str) -> list[list[int]]:
    """``count`` stratified bootstrap resamples of ``indices`` (each label resampled within itself)."""
    rng = task_rng(seed, task, "bootstrap")
    groups = _groups(examples, indices)
    return [[group[rng.randrange(len(group))] for group in groups for _ in group] for _ in range(count)]


@dataclass(frozen=True)
class Judged:
    """One prompt's numbers: the metric on all of dev, on each part, and its fitness."""

    dev: float
    fitness: float
    breed: float | None = None
    holdout: float | None = None
    stderr: float | None = None


class SelectionPolicy:
    """Turns per-example predictions into fitness, and a final pool into the answer."""

    def __init__(self, config: SelectionConfig, *, top_k: int, seed: int, metrics: MetricLookup) -> None:
        self.config = config
        self.top_k = top_k
        self.seed = seed
        self.metrics = metrics
        self._partitions: dict[str, DevPartition] = {}
        self._resamples: dict[tuple[str, tuple[int, ...]], list[list[int]]] = {}

    # -- what the search needs ----------------------------------------------------
    @property
    def plain(self) -> bool:
        """True when the fitness is the worker's value (no hold-out part, no bound)."""
        return not self.config.holdout and not self.config.lcb

    @property
    def needs_predictions(self) -> bool:
        return not self.plain or self.config.answer == "ensemble" or bool(self.config.beat_manual)

    @property
    def pool_size(self) -> int:
        """How many all-time best prompts a task keeps (its hall of fame)."""
        members = self.config.members
        if self.config.holdout:
            return max(self.top_k, self.config.pool or self.top_k, members)
        return max(self.top_k, members)

    def partition(self, eval_task: EvalTask) -> DevPartition:
        if eval_task.name not in self._partitions:
            self._partitions[eval_task.name] = holdout_partition(eval_task, self.config.holdout, self.seed)
        return self._partitions[eval_task.name]

    def _metric(self, predictions: Sequence[Any], examples: Sequence[Example], indices: Sequence[int], metric: str) -> float:
        return float(self.metrics(metric)([predictions[i] for i in indices], [examples[i].target for i in indices]))

    def judge(self, eval_task: EvalTask, value: float, predictions: Sequence[Any] | None, metric: str | None) -> Judged:
        """The numbers of one prompt scored on ``eval_task``'s dev set (``value`` from the worker)."""
        if self.plain or not math.isfinite(value):
            return Judged(dev=value, fitness=value)
        if predictions is None or metric is None:
            raise RunError(
                f"selection {strategy_name(self.config)!r} needs per-example predictions, but the fitness function "
                "returned only a number. Use a fitness that reports predictions (dev_metric does), or the plain "
                "Algorithm 1 (remove the selection block)."
            )
        dev = eval_task.dev
        if len(predictions) != len(dev):
            raise RunError(f"task {eval_task.name!r}: the fitness returned {len(predictions)} predictions for {len(dev)} dev examples")
        part = self.partition(eval_task)
        breed = self._metric(predictions, dev, part.breed, metric) if part.holdout else value
        holdout = self._metric(predictions, dev, part.holdout, metric) if part.holdout else None
        fitness, stderr = breed, None
        if self.config.lcb:
            resamples = self._bootstrap(eval_task, part.breed)
            stderr = statistics.pstdev(self._metric(predictions, dev, sample, metric) for sample in resamples)
            fitness = breed - self.config.lcb * stderr
        return Judged(dev=value, fitness=fitness, breed=breed if part.holdout else None, holdout=holdout, stderr=stderr)

    # -- the answer ---------------------------------------------------------------
    def rank_final(self, eval_task: EvalTask, pool: Sequence[str], judged: Mapping[str, Judged]) -> list[str]:
        """The final pool in answer order (best first)."""
        if not self.config.holdout:
            return list(pool)  # the hall of fame's order: by fitness
        if self.config.rank_on == "holdout":
            key = {p: judged[p].holdout for p in pool}
        else:
            key = self.debiased(eval_task, pool, judged)
        position = {p: i for i, p in enumerate(pool)}
        return sorted(pool, key=lambda p: (-_finite(key[p]), position[p]))

    def debiased(self, eval_task: EvalTask, pool: Sequence[str], judged: Mapping[str, Judged]) -> dict[str, float]:
        """All-dev scores with the breeding part's average optimism over ``pool`` removed.

        The optimism is the mean, over the pool, of (breeding-part score - held-out
        score): what selection on the breeding part added to it.
        """
        gaps = [judged[p].breed - judged[p].holdout for p in pool if _both_finite(judged[p].breed, judged[p].holdout)]
        optimism = statistics.fmean(gaps) if gaps else 0.0
        part = self.partition(eval_task)
        n_breed, n_held = len(part.breed), len(part.holdout)
        out = {}
        for p in pool:
            j = judged[p]
            ok = _both_finite(j.breed, j.holdout)
            out[p] = (n_held * j.holdout + n_breed * (j.breed - optimism)) / (n_held + n_breed) if ok else -math.inf
        return out

    def ensemble_members(self, ranked: Sequence[str], classification: bool) -> list[str]:
        """The prompts of the answer: the first of ``ranked``, or its top members for an ensemble."""
        if self.config.answer == "ensemble" and classification:
            return list(ranked[: self.config.members])
        return list(ranked[:1])


    def share_better(
        self, eval_task: EvalTask, answer: Sequence[Any], manual: Sequence[Any], metric: str
    ) -> float:
        """In what share of stratified bootstrap resamples of dev the answer's predictions score
        above the handcrafted prompt's (a tie counts half)."""
        dev = eval_task.dev
        resamples = self._bootstrap(eval_task, range(len(dev)))
        wins = 0.0
        for sample in resamples:
            difference = self._metric(answer, dev, sample, metric) - self._metric(manual, dev, sample, metric)
            wins += 1.0 if difference > 0 else 0.5 if difference == 0 else 0.0
        return wins / len(resamples)

    def _bootstrap(self, eval_task: EvalTask, indices: Sequence[int]) -> list[list[int]]:
        """The task's bootstrap resamples of ``indices``, drawn once (lcb and beat_manual share
        them when lcb resamples all of dev)."""
        key = (eval_task.name, tuple(indices))
        if key not in self._resamples:
            self._resamples[key] = bootstrap_resamples(eval_task.dev, indices, self.config.resamples, self.seed, eval_task.name)
        return self._resamples[key]


def ensemble_predictions(members: Sequence[Sequence[Mapping[str, float]]]) -> list[dict[str, float]]:
    """Per example, the ensemble of the members' predictions (``members[m][example]``)."""
    return [ensemble_label_scores([member[i] for member in members]) for i in range(len(members[0]))]


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else -math.inf


def _both_finite(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
