"""What the configured components can do with the configured tasks, known before any model loads.

A mutator that cannot translate a task's language, or a metric that cannot score a
task's kind, would otherwise fail minutes into a run, after generation 0 was scored.
Components say what they need through registration options (typed in
:mod:`zp_evolve.hookspecs`), so the core never knows component names:

- ``check_task(task, options, plugins) -> str | None``: why this component, built
  with ``options``, cannot handle ``task`` (``None`` when it can). Any kind may
  declare it; metrics get empty ``options``, and their message completes
  "metric 'auc', which ..." (e.g. "needs exactly two labels, and the task has 10").
- ``task_metric(task, options) -> str | None`` (fitness only): the metric the fitness
  scores ``task`` with, so the metric's own ``check_task`` runs against that task.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from zp_evolve.errors import ConfigIssue
from zp_evolve.plugins import Component, ComponentSpec, Plugins
from zp_evolve.tasks import Task

def describe(task: Task) -> str:
    """``'thucnews' (zh, classification with 10 labels)``: what checks talk about."""
    if task.multiple_choice:
        shape = "multiple choice"
    elif task.kind == "classification":
        shape = f"classification with {len(task.labels)} labels"
    else:
        shape = "generation"
    return f"{task.name!r} ({task.language}, {shape})"


def task_problem(component: Component, task: Task, options: Mapping[str, Any], plugins: Plugins) -> str | None:
    """Why ``component`` (with ``options``) cannot handle ``task``, from its ``check_task`` metadata."""
    check = component.meta.get("check_task")
    return check(task, options, plugins) if callable(check) else None


def metric_problem(name: str, task: Task, plugins: Plugins) -> str | None:
    """Why metric ``name`` cannot score ``task``, completing "metric 'auc', which ..."."""
    registry = plugins["metrics"]
    if name not in registry:
        return f"is not registered: {registry.unknown_message(name)}"
    return task_problem(registry.get(name), task, {}, plugins)


def fitness_issues(spec: Mapping[str, Any], tasks: Sequence[Task], plugins: Plugins, path: str = "fitness") -> list[ConfigIssue]:
    """The fitness's own checks, and those of the metric it scores each task with."""
    fitness = ComponentSpec.parse("fitness", spec)
    component = plugins["fitness"].get(fitness.name)
    options = fitness.options
    choose = component.meta.get("task_metric")
    problems: dict[str, list[Task]] = {}
    for task in tasks:
        problem = task_problem(component, task, options, plugins)
        if problem is not None:
            problems.setdefault(f"cannot score {{tasks}}: {problem}", []).append(task)
            continue
        metric = choose(task, options) if callable(choose) else None
        why = metric_problem(metric, task, plugins) if metric else None
        if why is not None:
            problems.setdefault(f"scores {{tasks}} with metric {metric!r}, which {why}", []).append(task)
    return [ConfigIssue(path, f"fitness {spec['name']!r} " + text.format(tasks=_tasks(group))) for text, group in problems.items()]


def mutator_issues(specs: Sequence[ComponentSpec], tasks: Sequence[Task], plugins: Plugins) -> list[ConfigIssue]:
    """Each mutator's checks against each task; tasks failing alike are named together."""
    issues = []
    for index, spec in enumerate(specs):
        component = plugins["mutators"].get(spec.name)
        options = spec.options
        problems: dict[str, list[Task]] = {}
        for task in tasks:
            problem = task_problem(component, task, options, plugins)
            if problem:
                problems.setdefault(problem, []).append(task)
        issues += [
            ConfigIssue(f"mutators.{index}", f"mutator {spec.name!r} cannot handle {_tasks(group)}: {problem}")
            for problem, group in problems.items()
        ]
    return issues


def _tasks(group: Sequence[Task]) -> str:
    shown = ", ".join(describe(t) for t in group[:5])
    more = f" and {len(group) - 5} more" if len(group) > 5 else ""
    return f"task{'s' if len(group) > 1 else ''} {shown}{more}"
