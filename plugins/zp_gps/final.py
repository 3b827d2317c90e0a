"""The end of a search: rank each task's final pool, score it on test, and build the answer."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Sequence

from zp_evolve.executors import Executor
from zp_evolve.sampling import label_counts
from zp_evolve.tasks import EvalTask
from zp_gps.individual import PromptIndividual
from zp_gps.pareto import pareto_front
from zp_gps.scoring import Scoring
from zp_gps.selection import SelectionPolicy, ensemble_predictions
from zp_gps.state import SearchState, TaskState
from zp_gps.summary import FinalChoice


def final_pool(task_state: TaskState) -> list[PromptIndividual]:
    """The all-time best of a task: its hall of fame, merged with the scored part of the
    current population (which a budget stop can leave out of the hall of fame)."""
    hall = copy.deepcopy(task_state.hall_of_fame)
    hall.update([ind for ind in task_state.population if ind.fitness.valid])
    return list(hall)


def choose_answers(
    state: SearchState,
    scoring: Scoring,
    selection: SelectionPolicy,
    *,
    executor: Executor,
    metrics: Callable[[str], Any],
    objective_weights: Sequence[float] = (),
    test_top_k: bool = True,
) -> dict[str, FinalChoice]:
    """Per task: the ranked top K (``selection.top_k``: ``search.top_k``), the answer's members,
    and every score the summary shows.

    The answer's members, the handcrafted prompts, the top K (unless ``test_top_k`` is
    off: ``tasks.test.prompts: answer``) and, with several objectives, the Pareto front
    over every prompt scored, are scored on test.
    """
    choices: dict[str, FinalChoice] = {}
    finalists: list[PromptIndividual] = []
    for task_state in state.tasks.values():
        eval_task = scoring.eval_tasks[task_state.name]
        pool = {str(ind): ind for ind in final_pool(task_state)}
        judged = {prompt: scoring.judgement(task_state.name, prompt) for prompt in [*pool, *map(str, task_state.manual)]}
        ranked = selection.rank_final(eval_task, list(pool), judged)
        members = selection.ensemble_members(ranked, eval_task.task.kind == "classification")
        guard = None
        if selection.config.beat_manual:
            members, guard = _guarded(scoring, selection, eval_task, members, task_state)
        front = _front(scoring, task_state.name, objective_weights) if objective_weights else []
        judged.update({prompt: scoring.judgement(task_state.name, prompt) for prompt in front})
        choices[task_state.name] = FinalChoice(
            ranked=[pool[p] for p in ranked[: selection.top_k]],
            members=members,
            judged=judged,
            dev_class_counts=label_counts(eval_task.task, eval_task.dev) if eval_task.task.labels else {},
            partition=selection.partition(eval_task) if selection.config.holdout else None,
            pareto_front=[(p, scoring.objective_values(scoring.score_of(task_state.name, "dev", p))) for p in front],  # type: ignore[arg-type]
            guard=guard,
        )
        if not eval_task.test:
            continue
        seen: set[str] = set()
        front_individuals = [PromptIndividual(p, task=task_state.name, generation=-1) for p in front]
        top = choices[task_state.name].ranked if test_top_k else []
        # a guarded answer (beat_manual) may be a handcrafted prompt: those are scored on test anyway
        for individual in [*(pool[m] for m in members if m in pool), *top, *task_state.manual, *front_individuals]:
            if str(individual) not in seen:
                seen.add(str(individual))
                finalists.append(individual)
    if finalists:
        scoring.score(finalists, "test", "final", executor)
    for name, choice in choices.items():
        choice.answer = answer(scoring, scoring.eval_tasks[name], choice, metrics)
        if choice.guard is not None:
            choice.answer["beat_manual"] = choice.guard
    return choices


def _guarded(
    scoring: Scoring, selection: SelectionPolicy, eval_task: EvalTask, members: list[str], task_state: TaskState
) -> tuple[list[str], dict[str, Any] | None]:
    """``selection.beat_manual``: the members, or the best handcrafted prompt on dev where the
    members do not beat it often enough in paired dev resamples; and what was decided."""
    task = eval_task.name
    manual = {str(p): scoring.score_of(task, "dev", str(p)) for p in task_state.manual}
    manual = {p: s for p, s in manual.items() if s is not None and math.isfinite(s.value)}
    if not manual or not members or set(members) & set(manual):
        return members, None
    best_manual = max(manual, key=lambda p: manual[p].value)  # type: ignore[union-attr]
    scores = [*(scoring.score_of(task, "dev", p) for p in members), manual[best_manual]]
    if any(s is None or s.predictions is None or s.metric is None for s in scores):
        return members, None  # a fitness without per-example predictions: nothing to pair
    mine = scores[0].predictions if len(members) == 1 else ensemble_predictions([s.predictions for s in scores[:-1]])  # type: ignore[union-attr, misc]
    share = selection.share_better(eval_task, mine, scores[-1].predictions, scores[-1].metric)  # type: ignore[arg-type, union-attr]
    kept = share >= selection.config.beat_manual
    decision = {"manual": best_manual, "share_better": round(share, 4), "kept_search_answer": kept}
    return (members if kept else [best_manual]), decision


def _front(scoring: Scoring, task: str, objective_weights: Sequence[float]) -> list[str]:
    """The non-dominated prompts among every prompt scored on ``task``'s dev set."""
    candidates = []
    for prompt in scoring.scored[task]:
        score = scoring.score_of(task, "dev", prompt)
        if score is not None:
            candidates.append((prompt, (scoring.judgement(task, prompt).fitness, *scoring.objective_values(score))))
    return pareto_front(candidates, objective_weights)


def answer(scoring: Scoring, eval_task: EvalTask, choice: FinalChoice, metrics: Callable[[str], Any]) -> dict[str, Any]:
    """The prompt(s) the search answers with, and their dev and test scores."""
    members, task = choice.members, eval_task.name
    if not members:
        return {"kind": "best", "prompts": [], "dev": None, "test": None, "dev_test_gap": None}
    note = None
    dev = ensemble_score(scoring, eval_task, "dev", members, metrics) if len(members) > 1 else None
    if len(members) > 1 and dev is None:
        # an ensemble needs each member's per-example predictions on dev: answer with the best prompt
        members = members[:1]
        choice.members = members
        note = ("no ensemble: the fitness gave no per-example predictions for every member "
                "(or a member failed), so the answer is the best prompt")
    if len(members) == 1:
        dev, test = choice.judged[members[0]].dev, scoring.test_scores.get((task, members[0]))
        kind = "best"
    else:
        kind = "ensemble"
        test = ensemble_score(scoring, eval_task, "test", members, metrics) if eval_task.test else None
    gap = dev - test if dev is not None and test is not None and math.isfinite(dev) and math.isfinite(test) else None
    out = {"kind": kind, "prompts": list(members), "dev": dev, "test": test, "dev_test_gap": gap}
    if note:
        out["note"] = note
    return out


def ensemble_score(
    scoring: Scoring, eval_task: EvalTask, split: str, members: Sequence[str], metrics: Callable[[str], Any]
) -> float | None:
    """The metric of the members' ensemble on ``split`` (``None`` if a member has no predictions)."""
    scores = [scoring.score_of(eval_task.name, split, prompt) for prompt in members]
    if any(s is None or s.predictions is None or not math.isfinite(s.value) for s in scores):
        return None
    combined = ensemble_predictions([s.predictions for s in scores])  # type: ignore[union-attr]
    references = [example.target for example in eval_task.split(split)]
    return float(metrics(scores[0].metric)(combined, references))  # type: ignore[union-attr]


