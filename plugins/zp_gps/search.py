"""Genetic Prompt Search, the paper's Algorithm 1, for many tasks at once.

For t in 0..T: score G^t on each task's dev set (f_GPS); take the top K as the
reproductive group G*^t; breed G^{t+1} from it with the mutators (g_GPS). The
answer is the top K over G^0..G^T (a DEAP HallOfFame), chosen by the run's selection
strategy (:mod:`zp_gps.selection`). All tasks' prompts of a generation go to
the executor as one batch, so workers are shared across tasks.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any, Callable, Sequence

from deap import tools

from zp_evolve.catalog import catalog_of
from zp_evolve.plugins import Plugins, canonical_json
from zp_evolve.rundir import RunDirectory, RunInfo
from zp_evolve.sampling import DevRule, thin_labels_warning
from zp_evolve.tasks import EvalTask
from zp_evolve.workers import WorkerFactory
from zp_gps.breeding import Operator, breed, build_operators
from zp_gps.budget import BUDGET_STOP, BudgetClock
from zp_gps.cache import FitnessCache
from zp_gps.final import choose_answers
from zp_gps.individual import PromptIndividual
from zp_gps.offspring import OperatorStats
from zp_gps.pareto import nsga2_select, weights
from zp_gps.schema import RunConfig
from zp_gps.scoring import Scoring
from zp_gps.selection import SelectionPolicy
from zp_gps.state import SearchState, TaskState, load_state
from zp_gps.summary import build_summary


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
        self.cache = FitnessCache(config.cache.dir)
        self.selection = SelectionPolicy(config.selection, top_k=config.search.top_k, seed=config.seed, metrics=self._metric)
        self.objectives = tuple(config.search.objectives[1:])  # beyond the metric: NSGA-II parents
        self.objective_weights = weights(config.search.objectives, plugins) if self.objectives else ()

    # -- set-up ---------------------------------------------------------------
    def _prepare(self) -> None:
        config = self.config
        catalog = catalog_of(self.plugins, config.tasks.providers)
        dev = config.tasks.dev
        rule = DevRule(dev.size, dev.per_label, dev.max_labels_for_fixed_size, dev.stratify, dev.min_per_label)
        test_limit = config.tasks.test.max_examples if config.tasks.test.enabled else 0
        self.eval_tasks: dict[str, EvalTask] = {}
        for name in config.tasks.names:
            eval_task = catalog.eval_task(name, config.seed, rule, test_limit, config.tasks.test.seed)
            if not config.tasks.test.enabled:
                eval_task = EvalTask(eval_task.task, eval_task.dev, (), eval_task.dev_hash)
            self.eval_tasks[name] = eval_task
            warning = thin_labels_warning(eval_task.task, eval_task.dev)
            if warning:
                self.echo(f"warning: {warning}")
        self.scoring = Scoring(
            eval_tasks=self.eval_tasks, cache=self.cache, run_dir=self.run_dir, selection=self.selection,
            model_id=canonical_json(config.model), fitness_id=canonical_json(config.fitness),
            test_predictions=config.selection.answer == "ensemble", objectives=self.objectives, progress=self.progress,
        )  # fmt: skip
        self.operators: list[Operator] = build_operators(config.mutators, self.plugins)
        self.executor = self.plugins.build("executors", config.executor, path="executor")

    def _g0(self, name: str) -> list[str]:
        return list(self.config.tasks.prompts.get(name) or self.eval_tasks[name].task.prompts)

    def _metric(self, name: str) -> Any:
        return self.plugins["metrics"].get(name).factory  # an unknown name: PluginError listing the known ones

    # -- the loop -------------------------------------------------------------
    def run(self, *, resume: bool = False) -> dict[str, Any]:
        self._prepare()
        scored_pairs = 0
        if resume:
            state = load_state(self.run_dir)
            replayed, scored_pairs = self.scoring.replay_events()
            self.echo(f"resuming {self.run_dir.path} at generation {state.generation} ({replayed} scores replayed)")
        else:
            self.run_dir.create(self.raw_config)
            tasks = {n: TaskState.initial(n, self._g0(n), self.selection.pool_size) for n in self.config.tasks.names}
            state = SearchState.initial(self.config.seed, tasks)
            self.run_dir.save_checkpoint(state)
        self.budget = BudgetClock(self.config.search.budget, scored_pairs, state.seconds)
        if state.finished and state.stop_reason == BUDGET_STOP and not self.budget.exhausted(state.generation):
            state.finished, state.stop_reason = False, None  # resumed under a larger budget
            self.echo(f"budget raised: going on from generation {state.generation}")
        info = RunInfo(self.config.name, self.run_dir.path, self.config, state)
        self.executor.start(
            WorkerFactory(
                fitness=self.config.fitness,
                tasks=self.eval_tasks,
                model=self.config.model,
                extra_plugins=self.extra_plugins,
                objectives=self.objectives,
            )
        )
        self.budget.start()  # searching time: the workers have their models now
        try:
            self.plugins.hook.zp_run_start(run=info)
            while not state.finished:
                self._generation(state, info)
                self.run_dir.save_checkpoint(state)
            choices = choose_answers(
                state, self.scoring, self.selection, executor=self.executor,
                metrics=self._metric, objective_weights=self.objective_weights,
                test_top_k=self.config.tasks.test.prompts == "top_k",
            )  # fmt: skip
            summary = build_summary(self.config, state, self.eval_tasks, self.scoring.test_scores, choices)
            if self.config.search.budget.evaluations or self.config.search.budget.seconds:
                summary["budget"] = self.budget.summary()
            usage = self.scoring.usage_total()
            if usage:  # a served model: tokens and requests of the whole run
                summary["usage"] = usage
            self.run_dir.write_summary(summary)
            self.plugins.hook.zp_run_end(run=info, summary=summary)
        finally:
            self.executor.close()
            self.run_dir.close()
            self.cache.close()
        return summary

    def _stop_for_budget(self, state: SearchState) -> None:
        state.finished, state.stop_reason = True, BUDGET_STOP
        state.seconds = self.budget.seconds
        left = self.budget.evaluations_left()
        spent = f"{self.budget.evaluations} scored pairs" + (f" of {self.config.search.budget.evaluations}" if left is not None else "")
        self.echo(f"budget reached at generation {state.generation} ({spent}, {self.budget.seconds:.0f}s): answering with the best so far")

    def _generation(self, state: SearchState, info: RunInfo) -> None:
        generation = state.generation
        if self.budget.exhausted(generation):
            self._stop_for_budget(state)
            return
        started = time.perf_counter()
        usage_before = dict(self.scoring.usage)
        active = state.active
        population = [ind for task in active for ind in task.population]
        counts, complete = self.scoring.score(population, "dev", generation, self.executor, self.budget)
        if not complete:  # the rest of this generation is scored when the budget is raised
            self._stop_for_budget(state)
            return
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
        usage = {key: count - usage_before.get(key, 0) for key, count in self.scoring.usage.items()}
        self.echo(_summary_line(generation, self.config.search.generations, records, rejected, seconds, usage))

    def _parents(self, population: list[PromptIndividual]) -> list[PromptIndividual]:
        """G*^t: the top K by fitness (Algorithm 1), or NSGA-II's K over every objective."""
        if not self.objectives:
            return tools.selBest(population, self.config.search.top_k)
        by_text = {str(ind): ind for ind in population}
        candidates = [(str(ind), (ind.score, *ind.objectives)) for ind in population]
        return [by_text[p] for p in nsga2_select(candidates, self.config.search.top_k, self.objective_weights)]

    def _breed(self, state: SearchState, generation: int) -> None:
        generation_seed = state.rng.getrandbits(64)
        for task_state in state.active:
            parents = self._parents(task_state.population)
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
                cache=self.cache if self.config.cache.mutations else None,
            )
            task_state.population = offspring
            if not offspring:
                task_state.stopped = f"no valid offspring at generation {generation + 1}"
        state.generation = generation + 1


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


def _summary_line(
    generation: int, total: int, records: list[dict], rejected: int, seconds: float, usage: dict[str, int] | None = None
) -> str:
    bests = [r["best"] for r in records if math.isfinite(r["best"])]
    means = [r["mean"] for r in records if math.isfinite(r["mean"])]
    best = statistics.fmean(bests) if bests else float("nan")
    mean = statistics.fmean(means) if means else float("nan")
    tasks = f"{len(records)} task{'s' if len(records) != 1 else ''}"
    new = sum(r["new"] for r in records)
    hits = sum(r["cache_hits"] for r in records)
    line = (
        f"gen {generation}/{total} | {tasks} | best {best:.4f} | mean {mean:.4f} | new {new} | "
        f"cache hits {hits} | rejected {rejected} | {seconds:.1f}s"
    )
    if usage and any(usage.values()):  # a served model
        tokens = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
        line += f" | tokens {tokens} | requests {usage.get('requests', 0)}"
    return line
