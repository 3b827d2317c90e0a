"""Scoring individuals through the executor, never twice.

:class:`Scoring` owns what a scored prompt leaves behind: the fitness cache (with
per-example predictions), ``events.jsonl``, the test scores, and the selection
numbers of every prompt scored on dev (:class:`~zp_gps.selection.Judged`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from zp_evolve.evaluation import EvalRequest, EvalResult
from zp_evolve.executors import Executor
from zp_evolve.rundir import RunDirectory
from zp_evolve.tasks import EvalTask, examples_hash
from zp_gps.budget import BudgetClock
from zp_gps.cache import CachedScore, FitnessCache, cache_key
from zp_gps.individual import PromptIndividual
from zp_gps.selection import Judged, SelectionPolicy


class Scoring:
    """The scores of one run: what is known, what is still to score, and where it is written."""

    def __init__(
        self,
        *,
        eval_tasks: Mapping[str, EvalTask],
        cache: FitnessCache,
        run_dir: RunDirectory,
        selection: SelectionPolicy,
        model_id: str,
        fitness_id: str,
        test_predictions: bool,
        objectives: Sequence[str] = (),
        progress: bool = True,
    ) -> None:
        self.eval_tasks = eval_tasks
        self.cache = cache
        self.run_dir = run_dir
        self.selection = selection
        self.model_id = model_id
        self.fitness_id = fitness_id
        self.test_predictions = test_predictions
        self.objectives = tuple(objectives)
        self.progress = progress
        #: every prompt scored on a task's dev set, in order (for the Pareto front)
        self.scored: dict[str, dict[str, None]] = {name: {} for name in eval_tasks}
        self.data_hash = {(n, "dev"): t.dev_hash for n, t in eval_tasks.items()}
        self.data_hash.update({(n, "test"): examples_hash(t.test) for n, t in eval_tasks.items()})
        self.test_scores: dict[tuple[str, str], float] = {}
        self._scores: dict[tuple[str, str, str], CachedScore] = {}
        self._judged: dict[tuple[str, str], Judged] = {}
        self._written: set[tuple] = set()
        #: tokens and requests of what this process scored (served backends), for the generation lines
        self.usage: Counter = Counter()

    def key(self, prompt: str, task: str, split: str) -> str:
        return cache_key(prompt, task, split, self.data_hash[(task, split)], self.model_id, self.fitness_id)

    def needs_predictions(self, split: str) -> bool:
        return self.test_predictions if split == "test" else self.selection.needs_predictions

    def replay_events(self) -> tuple[int, int]:
        """Put every score already in events.jsonl into the cache, so none is scored again.

        Returns the number of scores replayed and the (prompt, dev example) pairs the
        run has scored so far (what ``search.budget.evaluations`` counts).
        """
        count = pairs = 0
        for event in self.run_dir.events():
            self._written.add((event["generation"], event["task"], event["split"], event["prompt"]))
            if event["split"] == "dev" and event["task"] in self.eval_tasks:
                pairs += 0 if event.get("cached") else len(self.eval_tasks[event["task"]].dev)
                if event.get("error") is None:
                    self.scored[event["task"]][event["prompt"]] = None
            if event.get("error") is None and (event["task"], event["split"]) in self.data_hash:
                predictions = event.get("predictions")
                self.cache.put(
                    self.key(event["prompt"], event["task"], event["split"]), float(event["fitness"]),
                    tuple(predictions) if predictions is not None else None, event.get("metric"), event.get("objectives"),
                )  # fmt: skip
                count += 1
        return count, pairs

    def score(
        self,
        individuals: Sequence[PromptIndividual],
        split: str,
        generation: Any,
        executor: Executor,
        budget: BudgetClock | None = None,
    ) -> tuple[Counter, bool]:
        """Give every individual its fitness on ``split``.

        Returns counts keyed by ``(task, "new")`` and ``(task, "hits")``, and whether
        everything was scored: with a ``budget``, only the requests that fit in what is
        left are sent (in order), and the rest stay unscored.
        """
        pending: list[tuple[PromptIndividual, EvalRequest]] = []
        counts: Counter = Counter()
        need = self.needs_predictions(split)
        objectives = self.objectives if split == "dev" else ()
        for individual in individuals:
            cached = self.cache.get(self.key(individual, individual.task, split), need_predictions=need, need_objectives=objectives)
            if cached is None:
                pending.append((individual, EvalRequest(individual.task, str(individual), split)))
            else:
                counts[(individual.task, "hits")] += 1
                result = EvalResult(cached.value, 0.0, predictions=cached.predictions, metric=cached.metric, objectives=cached.objectives)
                self._record(individual, split, generation, result, cached=True)
        complete = True
        if budget is not None:
            costs = [len(self.eval_tasks[ind.task].split(split)) for ind, _ in pending]
            fitting = budget.fit(costs)
            complete = fitting == len(pending)
            pending = pending[:fitting]
            budget.evaluations += sum(costs[:fitting])
        for individual, _ in pending:
            counts[(individual.task, "new")] += 1
        if not pending:
            return counts, complete
        bar = _progress_bar(len(pending), f"gen {generation} {split}", self.progress)

        def arrived(index: int, result: EvalResult) -> None:
            individual = pending[index][0]
            self._record(individual, split, generation, result, cached=False)
            self.usage.update(result.usage or {})
            if result.ok:
                self.cache.put(
                    self.key(individual, individual.task, split), result.fitness, result.predictions, result.metric, result.objectives
                )  # fmt: skip
            bar.update(1)

        try:
            results = executor.evaluate([request for _, request in pending], on_result=arrived)
        finally:
            bar.close()
        for (individual, _), result in zip(pending, results):
            if (individual.task, split, str(individual)) not in self._scores:  # an executor that skipped on_result
                self._record(individual, split, generation, result, cached=False)
        return counts, complete

    def _record(self, individual: PromptIndividual, split: str, generation: Any, result: EvalResult, cached: bool) -> None:
        score = CachedScore(result.fitness, result.predictions, result.metric, result.objectives)
        self._scores[(individual.task, split, str(individual))] = score
        if split == "dev":
            individual.fitness.values = (self.judgement(individual.task, str(individual)).fitness,)
            if self.objectives:
                individual.objectives = self.objective_values(score)
            if result.ok:
                self.scored[individual.task][str(individual)] = None
        else:
            self.test_scores[(individual.task, str(individual))] = result.fitness
        key = (generation, individual.task, split, str(individual))
        if key in self._written:
            return
        self._written.add(key)
        event = {
            "generation": generation,
            "task": individual.task,
            "split": split,
            "prompt": str(individual),
            "fitness": result.fitness,
            "operator": individual.operator,
            "parent": individual.parent,
            "seconds": round(result.seconds, 6),
            "cached": cached,
            "error": result.error,
        }
        if self.needs_predictions(split) and result.predictions is not None:
            event["metric"] = result.metric
            event["predictions"] = list(result.predictions)
        if result.usage and not cached:
            event["usage"] = dict(result.usage)
        if split == "dev" and self.objectives and result.objectives:
            event["objectives"] = {name: result.objectives[name] for name in self.objectives}
        if result.node is not None and not cached:
            event["node"] = result.node
        self.run_dir.append_event(event)

    def objective_values(self, score: CachedScore) -> tuple[float, ...]:
        """The values of the extra objectives, in ``search.objectives`` order (NaN when missing)."""
        values = score.objectives or {}
        return tuple(float(values.get(name, float("nan"))) for name in self.objectives)

    def score_of(self, task: str, split: str, prompt: str) -> CachedScore | None:
        """A prompt's score on a split: from this process, or the cache (a resumed run)."""
        score = self._scores.get((task, split, prompt))
        if score is None:
            score = self.cache.get(
                self.key(prompt, task, split), need_predictions=self.needs_predictions(split),
                need_objectives=self.objectives if split == "dev" else (),
            )  # fmt: skip
            if score is not None:
                self._scores[(task, split, prompt)] = score
        return score

    def judgement(self, task: str, prompt: str) -> Judged:
        """The selection numbers of a prompt scored on ``task``'s dev set."""
        judged = self._judged.get((task, prompt))
        if judged is None:
            score = self.score_of(task, "dev", prompt)
            if score is None:
                return Judged(dev=float("nan"), fitness=float("nan"))
            judged = self.selection.judge(self.eval_tasks[task], score.value, score.predictions, score.metric)
            self._judged[(task, prompt)] = judged
        return judged

    def usage_total(self) -> dict[str, int]:
        """Tokens and requests of every prompt the run scored, from events.jsonl: a resumed
        run counts what it scored before the stop once, as an uninterrupted one does."""
        total: Counter = Counter()
        for event in self.run_dir.events():
            if not event.get("cached"):
                total.update(event.get("usage") or {})
        return dict(sorted(total.items()))

    @property
    def judged(self) -> Mapping[tuple[str, str], Judged]:
        return self._judged


def _progress_bar(total: int, description: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="prompt", leave=False, disable=None if enabled else True)

