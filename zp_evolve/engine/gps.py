"""Genetic Prompt Search, the paper's Algorithm 1, for many tasks at once.

For t in 0..T: score G^t on each task's dev set (f_GPS); take the top K as the
reproductive group G*^t; breed G^{t+1} from it with the mutators (g_GPS). The
answer is the top K over G^0..G^T (a DEAP HallOfFame). All tasks' prompts of a
generation go to the executor as one batch, so workers are shared across tasks.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from deap import tools

from zp_evolve.catalog import TaskCatalog
from zp_evolve.config_schema import RunConfig
from zp_evolve.engine.breeding import Operator, breed, build_operators
from zp_evolve.engine.cache import CachedScore, FitnessCache, cache_key, canonical
from zp_evolve.engine.individual import PromptIndividual
from zp_evolve.engine.offspring import OperatorStats
from zp_evolve.engine.rundir import RunDirectory
from zp_evolve.engine.selection import Judged, SelectionPolicy, ensemble_predictions
from zp_evolve.engine.state import SearchState, TaskState
from zp_evolve.engine.summary import FinalChoice, build_summary
from zp_evolve.errors import PluginError
from zp_evolve.evaluation import EvalRequest, EvalResult, WorkerFactory
from zp_evolve.plugins import Plugins
from zp_evolve.sampling import DevRule, label_counts, thin_labels_warning
from zp_evolve.tasks import EvalTask, examples_hash


@dataclass
class RunInfo:
    """What lifecycle hooks see of a run."""

    name: str
    path: Path
    config: RunConfig
    state: SearchState


class GeneticPromptSearch:
    """One run: builds tasks, operators, executor and cache from a validated config."""

    def __init__(
        self,
        config: RunConfig,
        raw_config: dict[str, Any],
        run_dir: RunDirectory,
        plugins: Plugins,
        *,
        extra_plugins: Sequence[object] = (),
        progress: bool = True,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.config = config
        self.raw_config = raw_config
        self.run_dir = run_dir
        self.plugins = plugins
        self.extra_plugins = tuple(extra_plugins)
        self.progress = progress
        self.echo = echo
        self.model_id = canonical(config.model)
        self.fitness_id = canonical(config.fitness)
        self.cache = FitnessCache(config.cache.dir)
        self._written: set[tuple] = set()
        self.selection = SelectionPolicy(config.selection, top_k=config.search.top_k, seed=config.seed, metrics=self._metric)
        self._scores: dict[tuple[str, str, str], CachedScore] = {}
        self._judged: dict[tuple[str, str], Judged] = {}

    # -- set-up ---------------------------------------------------------------
    def _prepare(self) -> None:
        config = self.config
        catalog = TaskCatalog(self.plugins, config.tasks.providers)
        dev = config.tasks.dev
        rule = DevRule(dev.size, dev.per_label, dev.max_labels_for_fixed_size, dev.stratify, dev.min_per_label)
        test_limit = config.tasks.test.max_examples if config.tasks.test.enabled else 0
        self.eval_tasks: dict[str, EvalTask] = {}
        for name in config.tasks.names:
            eval_task = catalog.eval_task(name, config.seed, rule, test_limit)
            if not config.tasks.test.enabled:
                eval_task = EvalTask(eval_task.task, eval_task.dev, (), eval_task.dev_hash)
            self.eval_tasks[name] = eval_task
            warning = thin_labels_warning(eval_task.task, eval_task.dev)
            if warning:
                self.echo(f"warning: {warning}")
        self.data_hash = {(n, "dev"): t.dev_hash for n, t in self.eval_tasks.items()}
        self.data_hash.update({(n, "test"): examples_hash(t.test) for n, t in self.eval_tasks.items()})
        self.operators: list[Operator] = build_operators(config.mutators, self.plugins)
        self.executor = self.plugins.build("executors", config.executor, path="executor")

    def _g0(self, name: str) -> list[str]:
        return list(self.config.tasks.prompts.get(name) or self.eval_tasks[name].task.prompts)

    def _replay_events(self) -> int:
        """Put every score already in events.jsonl into the cache, so none is scored again."""
        count = 0
        for event in self.run_dir.events():
            key = (event["generation"], event["task"], event["split"], event["prompt"])
            self._written.add(key)
            if event.get("error") is None and (event["task"], event["split"]) in self.data_hash:
                predictions = event.get("predictions")
                self.cache.put(
                    self._key(event["prompt"], event["task"], event["split"]), float(event["fitness"]),
                    tuple(predictions) if predictions is not None else None, event.get("metric"),
                )  # fmt: skip
                count += 1
        return count

    def _metric(self, name: str) -> Any:
        registry = self.plugins["metrics"]
        if name not in registry:
            raise PluginError(registry.unknown_message(name))
        return registry.get(name).factory

    def _key(self, prompt: str, task: str, split: str) -> str:
        return cache_key(prompt, task, split, self.data_hash[(task, split)], self.model_id, self.fitness_id)

    # -- scoring --------------------------------------------------------------
    def _score(self, individuals: Sequence[PromptIndividual], split: str, generation: Any) -> Counter:
        """Give every individual its fitness on ``split``.

        Returns counts keyed by ``(task, "new")`` and ``(task, "hits")``.
        """
        pending: list[tuple[PromptIndividual, EvalRequest]] = []
        counts: Counter = Counter()
        need = self._needs_predictions(split)
        for individual in individuals:
            cached = self.cache.get(self._key(individual, individual.task, split), need_predictions=need)
            if cached is None:
                counts[(individual.task, "new")] += 1
                pending.append((individual, EvalRequest(individual.task, str(individual), split)))
            else:
                counts[(individual.task, "hits")] += 1
                result = EvalResult(cached.value, 0.0, predictions=cached.predictions, metric=cached.metric)
                self._record(individual, split, generation, result, cached=True)
        if not pending:
            return counts
        bar = _progress_bar(len(pending), f"gen {generation} {split}", self.progress)

        def arrived(index: int, result: EvalResult) -> None:
            individual = pending[index][0]
            self._record(individual, split, generation, result, cached=False)
            if result.ok:
                self.cache.put(self._key(individual, individual.task, split), result.fitness, result.predictions, result.metric)
            bar.update(1)

        try:
            results = self.executor.evaluate([request for _, request in pending], on_result=arrived)
        finally:
            bar.close()
        for (individual, _), result in zip(pending, results):
            if (individual.task, split, str(individual)) not in self._scores:  # an executor that skipped on_result
                self._record(individual, split, generation, result, cached=False)
        return counts

    def _needs_predictions(self, split: str) -> bool:
        if split == "test":
            return self.config.selection.answer == "ensemble"
        return self.selection.needs_predictions

    def _record(self, individual: PromptIndividual, split: str, generation: Any, result: EvalResult, cached: bool) -> None:
        self._scores[(individual.task, split, str(individual))] = CachedScore(result.fitness, result.predictions, result.metric)
        if split == "dev":
            individual.fitness.values = (self._judge(individual.task, str(individual)).fitness,)
        else:
            self._test_scores[(individual.task, str(individual))] = result.fitness
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
        if self._needs_predictions(split) and result.predictions is not None:
            event["metric"] = result.metric
            event["predictions"] = list(result.predictions)
        self.run_dir.append_event(event)

    def _score_of(self, task: str, split: str, prompt: str) -> CachedScore | None:
        """A prompt's score on a split: from this process, or the cache (a resumed run)."""
        score = self._scores.get((task, split, prompt))
        if score is None:
            score = self.cache.get(self._key(prompt, task, split), need_predictions=self._needs_predictions(split))
            if score is not None:
                self._scores[(task, split, prompt)] = score
        return score

    def _judge(self, task: str, prompt: str) -> Judged:
        """The selection numbers of a prompt scored on ``task``'s dev set."""
        judged = self._judged.get((task, prompt))
        if judged is None:
            score = self._score_of(task, "dev", prompt)
            if score is None:
                return Judged(dev=float("nan"), fitness=float("nan"))
            judged = self.selection.judge(self.eval_tasks[task], score.value, score.predictions, score.metric)
            self._judged[(task, prompt)] = judged
        return judged

    # -- the loop -------------------------------------------------------------
    def run(self, *, resume: bool = False) -> dict[str, Any]:
        self._prepare()
        self._test_scores: dict[tuple[str, str], float] = {}
        if resume:
            state: SearchState = self.run_dir.load_checkpoint()
            replayed = self._replay_events()
            self.echo(f"resuming {self.run_dir.path} at generation {state.generation} ({replayed} scores replayed)")
        else:
            self.run_dir.create(self.raw_config)
            tasks = {n: TaskState.initial(n, self._g0(n), self.selection.pool_size) for n in self.config.tasks.names}
            state = SearchState.initial(self.config.seed, tasks)
            self.run_dir.save_checkpoint(state)
        info = RunInfo(self.config.name, self.run_dir.path, self.config, state)
        self.executor.start(
            WorkerFactory(
                fitness=self.config.fitness,
                tasks=self.eval_tasks,
                model=self.config.model,
                seed=self.config.seed,
                extra_plugins=self.extra_plugins,
            )
        )
        try:
            self.plugins.hook.zp_run_start(run=info)
            while not state.finished:
                self._generation(state, info)
                self.run_dir.save_checkpoint(state)
            choices = self._score_final(state)
            summary = build_summary(self.config, state, self.eval_tasks, self._test_scores, choices)
            self.run_dir.write_summary(summary)
            self.plugins.hook.zp_run_end(run=info, summary=summary)
        finally:
            self.executor.close()
            self.run_dir.close()
            self.cache.close()
        from zp_evolve.report.run_report import write_run_report

        write_run_report(self.run_dir)
        return summary

    def _generation(self, state: SearchState, info: RunInfo) -> None:
        generation = state.generation
        started = time.perf_counter()
        active = state.active
        population = [ind for task in active for ind in task.population]
        counts = self._score(population, "dev", generation)
        records = []
        for task in active:
            task.hall_of_fame.update(task.population)
            record = _record_generation(task, generation, counts[(task.name, "new")], counts[(task.name, "hits")])
            task.logbook.record(**record)
            records.append(record)
        seconds = time.perf_counter() - started
        state.history.append(records)
        self.plugins.hook.zp_generation_end(run=info, generation=generation, records=records)
        reason = self.plugins.hook.zp_should_stop(run=info, generation=generation, records=records)
        rejected_before = sum(sum(s.rejected.values()) for s in state.operator_stats.values())
        if generation >= self.config.search.generations or reason:
            state.finished = True
            state.stop_reason = reason or f"reached generation T={self.config.search.generations}"
        else:
            self._breed(state, generation)
            if not state.active:
                state.finished = True
                state.stop_reason = "no valid offspring left in any task"
        rejected = sum(sum(s.rejected.values()) for s in state.operator_stats.values()) - rejected_before
        self.echo(_summary_line(generation, self.config.search.generations, records, rejected, seconds))

    def _breed(self, state: SearchState, generation: int) -> None:
        generation_seed = state.rng.getrandbits(64)
        for task_state in state.active:
            parents = tools.selBest(task_state.population, self.config.search.top_k)
            for parent in parents:
                state.operator_stats.setdefault(parent.operator, OperatorStats()).in_reproductive_group += 1
            offspring = breed(
                self.eval_tasks[task_state.name].task,
                parents,
                self.operators,
                children_per_parent=self.config.search.children_per_parent,
                max_chars=self.config.search.max_prompt_chars,
                seen=task_state.seen,
                generation=generation + 1,
                generation_seed=generation_seed,
                stats=state.operator_stats,
            )
            task_state.population = offspring
            if not offspring:
                task_state.stopped = f"no valid offspring at generation {generation + 1}"
        state.generation = generation + 1

    def _score_final(self, state: SearchState) -> dict[str, FinalChoice]:
        """Rank each task's final pool, score the answer, the top K and G0 on test."""
        choices: dict[str, FinalChoice] = {}
        finalists: list[PromptIndividual] = []
        for task_state in state.tasks.values():
            eval_task = self.eval_tasks[task_state.name]
            pool = {str(ind): ind for ind in task_state.hall_of_fame}
            judged = {prompt: self._judge(task_state.name, prompt) for prompt in [*pool, *map(str, task_state.manual)]}
            ranked = self.selection.rank_final(eval_task, list(pool), judged)
            members = self.selection.ensemble_members(ranked, eval_task.task.kind == "classification")
            choices[task_state.name] = FinalChoice(
                ranked=[pool[p] for p in ranked[: self.config.search.top_k]],
                members=members,
                judged=judged,
                dev_class_counts=label_counts(eval_task.task, eval_task.dev) if eval_task.task.labels else {},
                partition=self.selection.partition(eval_task) if self.config.selection.holdout else None,
            )
            if not eval_task.test:
                continue
            seen: set[str] = set()
            for individual in [*choices[task_state.name].ranked, *(pool[m] for m in members), *task_state.manual]:
                if str(individual) not in seen:
                    seen.add(str(individual))
                    finalists.append(individual)
        if finalists:
            self._score(finalists, "test", "final")
        for name, choice in choices.items():
            choice.answer = self._answer(name, choice)
        return choices

    def _answer(self, task: str, choice: FinalChoice) -> dict[str, Any]:
        """The prompt(s) the search answers with, and their dev and test scores."""
        members = choice.members
        if not members:
            return {"kind": "best", "prompts": [], "dev": None, "test": None, "dev_test_gap": None}
        if len(members) == 1:
            dev, test = choice.judged[members[0]].dev, self._test_scores.get((task, members[0]))
            kind = "best"
        else:
            kind = "ensemble"
            dev = self._ensemble_score(task, "dev", members)
            test = self._ensemble_score(task, "test", members) if self.eval_tasks[task].test else None
        gap = dev - test if dev is not None and test is not None and math.isfinite(dev) and math.isfinite(test) else None
        return {"kind": kind, "prompts": list(members), "dev": dev, "test": test, "dev_test_gap": gap}

    def _ensemble_score(self, task: str, split: str, members: Sequence[str]) -> float | None:
        scores = [self._score_of(task, split, prompt) for prompt in members]
        if any(s is None or s.predictions is None or not math.isfinite(s.value) for s in scores):
            return None
        combined = ensemble_predictions([s.predictions for s in scores])  # type: ignore[union-attr]
        references = [example.target for example in self.eval_tasks[task].split(split)]
        return float(self._metric(scores[0].metric)(combined, references))  # type: ignore[union-attr]


def _record_generation(task: TaskState, generation: int, new: int, hits: int) -> dict[str, Any]:
    values = [ind.score for ind in task.population if math.isfinite(ind.score)]
    top = [ind.score for ind in task.hall_of_fame]
    best = max(task.population, key=lambda ind: ind.fitness.values[0]) if task.population else None
    return {
        "gen": generation,
        "task": task.name,
        "size": len(task.population),
        "new": new,
        "cache_hits": hits,
        "best": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
        "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
        "top_k_mean": statistics.fmean(top) if top else float("nan"),
        "best_prompt": str(best) if best is not None else "",
        "best_operator": best.operator if best is not None else "",
    }


def _summary_line(generation: int, total: int, records: list[dict], rejected: int, seconds: float) -> str:
    bests = [r["best"] for r in records if math.isfinite(r["best"])]
    means = [r["mean"] for r in records if math.isfinite(r["mean"])]
    best = statistics.fmean(bests) if bests else float("nan")
    mean = statistics.fmean(means) if means else float("nan")
    tasks = f"{len(records)} task{'s' if len(records) != 1 else ''}"
    new = sum(r["new"] for r in records)
    hits = sum(r["cache_hits"] for r in records)
    return (
        f"gen {generation}/{total} | {tasks} | best {best:.4f} | mean {mean:.4f} | new {new} | "
        f"cache hits {hits} | rejected {rejected} | {seconds:.1f}s"
    )


def _progress_bar(total: int, description: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="prompt", leave=False, disable=None if enabled else True)
