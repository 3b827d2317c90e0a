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
from zp_evolve.engine.cache import FitnessCache, cache_key, canonical
from zp_evolve.engine.individual import PromptIndividual
from zp_evolve.engine.offspring import OperatorStats
from zp_evolve.engine.rundir import RunDirectory
from zp_evolve.engine.state import SearchState, TaskState
from zp_evolve.engine.summary import build_summary
from zp_evolve.evaluation import EvalRequest, EvalResult, WorkerFactory
from zp_evolve.plugins import Plugins
from zp_evolve.sampling import DevRule
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

    # -- set-up ---------------------------------------------------------------
    def _prepare(self) -> None:
        config = self.config
        catalog = TaskCatalog(self.plugins, config.tasks.providers)
        rule = DevRule(config.tasks.dev.size, config.tasks.dev.per_label, config.tasks.dev.max_labels_for_fixed_size)
        test_limit = config.tasks.test.max_examples if config.tasks.test.enabled else 0
        self.eval_tasks: dict[str, EvalTask] = {}
        for name in config.tasks.names:
            eval_task = catalog.eval_task(name, config.seed, rule, test_limit)
            if not config.tasks.test.enabled:
                eval_task = EvalTask(eval_task.task, eval_task.dev, (), eval_task.dev_hash)
            self.eval_tasks[name] = eval_task
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
                self.cache.put(self._key(event["prompt"], event["task"], event["split"]), float(event["fitness"]))
                count += 1
        return count

    def _key(self, prompt: str, task: str, split: str) -> str:
        return cache_key(prompt, task, split, self.data_hash[(task, split)], self.model_id, self.fitness_id)

    # -- scoring --------------------------------------------------------------
    def _score(self, individuals: Sequence[PromptIndividual], split: str, generation: Any) -> Counter:
        """Give every individual its fitness on ``split``.

        Returns counts keyed by ``(task, "new")`` and ``(task, "hits")``.
        """
        pending: list[tuple[PromptIndividual, EvalRequest]] = []
        counts: Counter = Counter()
        for individual in individuals:
            cached = self.cache.get(self._key(individual, individual.task, split))
            if cached is None:
                counts[(individual.task, "new")] += 1
                pending.append((individual, EvalRequest(individual.task, str(individual), split)))
            else:
                counts[(individual.task, "hits")] += 1
                self._record(individual, split, generation, EvalResult(cached, 0.0), cached=True)
        if not pending:
            return counts
        bar = _progress_bar(len(pending), f"gen {generation} {split}", self.progress)

        def arrived(index: int, result: EvalResult) -> None:
            individual = pending[index][0]
            self._record(individual, split, generation, result, cached=False)
            if result.ok:
                self.cache.put(self._key(individual, individual.task, split), result.fitness)
            bar.update(1)

        try:
            results = self.executor.evaluate([request for _, request in pending], on_result=arrived)
        finally:
            bar.close()
        for (individual, _), result in zip(pending, results):
            if split == "dev":
                individual.fitness.values = (result.fitness,)
        return counts

    def _record(self, individual: PromptIndividual, split: str, generation: Any, result: EvalResult, cached: bool) -> None:
        if split == "dev":
            individual.fitness.values = (result.fitness,)
        else:
            self._test_scores[(individual.task, str(individual))] = result.fitness
        key = (generation, individual.task, split, str(individual))
        if key in self._written:
            return
        self._written.add(key)
        self.run_dir.append_event(
            {
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
        )

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
            tasks = {n: TaskState.initial(n, self._g0(n), self.config.search.top_k) for n in self.config.tasks.names}
            state = SearchState.initial(self.config.seed, tasks)
            self.run_dir.save_checkpoint(state)
        info = RunInfo(self.config.name, self.run_dir.path, self.config, state)
        self.executor.start(
            WorkerFactory(
                fitness=self.config.fitness,
                tasks=self.eval_tasks,
                model=self.config.model,
                extra_plugins=self.extra_plugins,
            )
        )
        try:
            self.plugins.hook.zp_run_start(run=info)
            while not state.finished:
                self._generation(state, info)
                self.run_dir.save_checkpoint(state)
            self._score_final(state)
            summary = build_summary(self.config, state, self.eval_tasks, self._test_scores)
            self.run_dir.write_summary(summary)
            self.plugins.hook.zp_run_end(run=info, summary=summary)
        finally:
            self.executor.close()
            self.run_dir.close()
            self.cache.close()
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

    def _score_final(self, state: SearchState) -> None:
        """Score the final top K (and G0, for comparison) on each task's test sample."""
        finalists: list[PromptIndividual] = []
        for task_state in state.tasks.values():
            if not self.eval_tasks[task_state.name].test:
                continue
            seen: set[str] = set()
            for individual in [*task_state.hall_of_fame, *task_state.manual]:
                if str(individual) not in seen:
                    seen.add(str(individual))
                    finalists.append(individual)
        if finalists:
            self._score(finalists, "test", "final")


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
