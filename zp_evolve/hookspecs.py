"""The plugin hooks of zp_evolve (pluggy project name ``zp_evolve``).

Registration hooks receive a ``register(name, factory, **options)`` callback, in the
style of simonw/llm and tox. Each kind has its own typed callback (a ``Register``
protocol below): its keyword-only parameters are the registration options that kind
accepts, and :class:`zp_evolve.plugins.Registry` rejects any other. Lifecycle and
report hooks receive typed objects (``RunInfo``, ``CellsReport``). Every hook here is
documented in docs/plugins.md and exercised in tests.
"""

from __future__ import annotations

import inspect
import random
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Protocol, Sequence

import pluggy

if TYPE_CHECKING:
    import argparse

    from zp_evolve.evaluation import Fitness
    from zp_evolve.executors import Executor
    from zp_evolve.jobs import Job
    from zp_evolve.report.sections import CellsReport, ReportSection, TaskScore
    from zp_evolve.rundir import RunInfo
    from zp_evolve.spans import SpanLists
    from zp_evolve.tasks import Task, TaskProvider

hookspec = pluggy.HookspecMarker("zp_evolve")


class Mutator(Protocol):
    """g_GPS: ``children[i]`` are the offspring of ``parents[i]``. The engine passes ``task``
    (the :class:`~zp_evolve.tasks.Task` searched), ``spans`` (each parent's fixed and
    editable pieces, :class:`zp_evolve.spans.Span`) and ``choices`` (each parent's answer
    choices, ``()`` for none) when ``mutate`` takes them. Parents are templates: no span
    marks, no ``||| choices``; a child without ``|||`` inherits its parent's choices."""

    def mutate(
        self, parents: Sequence[str], *, rng: random.Random, task: Task | None = None, spans: SpanLists | None = None,
        choices: Sequence[tuple[str, ...]] | None = None,
    ) -> list[list[str]]: ...


#: ``metric(predictions, references) -> float``.
Metric = Callable[[Sequence[Any], Sequence[Any]], float]
#: Why a component built with ``options`` cannot handle a task (``None`` when it can);
#: checked by ``zp-evolve validate`` and at the start of a run (:mod:`zp_evolve.task_checks`).
#: Its arguments: the task, the options, and the loaded :class:`zp_evolve.plugins.Plugins`.
TaskCheck = Callable[["Task", Mapping[str, Any], Any], Optional[str]]


class MutatorRegister(Protocol):
    def __call__(self, name: str, factory: Callable[..., Mutator], *, description: str = "",
                 check_task: TaskCheck | None = None) -> None: ...


class MetricRegister(Protocol):
    def __call__(self, name: str, factory: Metric, *, description: str = "", check_task: TaskCheck | None = None) -> None: ...


class FitnessRegister(Protocol):
    """``needs_model``: a config without ``model:`` fails validation. ``task_metric(task, options)``:
    the metric the fitness scores a task with, checked against the task. ``default``: the
    fitness a config without ``fitness:`` gets (one plugin may claim it)."""

    def __call__(self, name: str, factory: Callable[..., Fitness], *, description: str = "", needs_model: bool = False,
                 task_metric: Callable[[Task, Mapping[str, Any]], Optional[str]] | None = None,
                 check_task: TaskCheck | None = None, default: bool = False) -> None: ...


class ObjectiveRegister(Protocol):
    """``direction``: whether larger values are better (``maximize``) or worse (``minimize``).
    ``needs_model``: a config without ``model:`` fails validation."""

    def __call__(self, name: str, factory: Callable[..., Any], *, direction: str = "minimize", needs_model: bool = False,
                 description: str = "") -> None: ...


class BackendRegister(Protocol):
    def __call__(self, name: str, factory: Callable[..., Any], *, description: str = "") -> None: ...


class TaskProviderRegister(Protocol):
    """``default``: the provider of a config without ``tasks.providers``."""

    def __call__(self, name: str, factory: Callable[..., TaskProvider], *, description: str = "",
                 default: bool = False) -> None: ...


class ExecutorRegister(Protocol):
    """``default``: the executor of a config without ``executor:``."""

    def __call__(self, name: str, factory: Callable[..., Executor], *, description: str = "",
                 default: bool = False) -> None: ...


class CommandRegister(Protocol):
    """``name`` is one word, or a group and a command (``"data pull"``)."""

    def __call__(self, name: str, handler: Callable[[argparse.Namespace], int], *,
                 add_arguments: Callable[[argparse.ArgumentParser], None] | None = None, help: str = "") -> None: ...


class JobRegister(Protocol):
    def __call__(self, name: str, factory: Callable[[], Job], *, description: str = "", default: bool = False) -> None: ...


#: The register callback of each component kind.
REGISTER_PROTOCOLS: Mapping[str, type] = {
    "mutators": MutatorRegister, "metrics": MetricRegister, "fitness": FitnessRegister, "objectives": ObjectiveRegister,
    "backends": BackendRegister,
    "tasks": TaskProviderRegister, "executors": ExecutorRegister, "commands": CommandRegister, "jobs": JobRegister,
}


def registration_options(kind: str) -> tuple[str, ...]:
    """The keyword options ``register`` accepts for ``kind``: its protocol's keyword-only parameters."""
    signature = inspect.signature(REGISTER_PROTOCOLS[kind].__call__)
    return tuple(p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY)


@hookspec
def zp_register_mutators(register: MutatorRegister) -> None:
    """Register mutation operators (g_GPS): factories of :class:`Mutator` objects."""


@hookspec
def zp_register_metrics(register: MetricRegister) -> None:
    """Register metrics ``fn(predictions, references) -> float``.

    For classification tasks each prediction is a mapping from label to score, and
    each reference is a label; for generation tasks both are strings.
    """


@hookspec
def zp_register_fitness(register: FitnessRegister) -> None:
    """Register fitness functions (f_GPS).

    A factory takes the keyword ``backend`` (the model, or ``None``), and ``metrics`` (the
    run's metric registry) if it wants it, plus its own options; it returns an object
    with ``evaluate(jobs) -> list[float]``; see :class:`zp_evolve.evaluation.Fitness`.
    """


@hookspec
def zp_register_objectives(register: ObjectiveRegister) -> None:
    """Register second objectives for ``search.objectives`` (NSGA-II selection).

    The factory receives the keyword ``backend`` (the scoring model's backend, or
    ``None``) and returns an object with ``evaluate(prompts: Sequence[tuple[str, Task]])
    -> list[float]``: one value per (prompt template, task). It runs in the workers,
    beside the fitness.
    """


@hookspec
def zp_register_backends(register: BackendRegister) -> None:
    """Register model backends that score label candidates and generate text."""


@hookspec
def zp_register_tasks(register: TaskProviderRegister) -> None:
    """Register task providers; see :class:`zp_evolve.tasks.TaskProvider`."""


@hookspec
def zp_register_executors(register: ExecutorRegister) -> None:
    """Register executors that map evaluation work over workers; see :class:`zp_evolve.executors.Executor`."""


@hookspec
def zp_register_commands(register: CommandRegister) -> None:
    """Register CLI sub-commands: ``register(name, handler, add_arguments=..., help=...)``.

    ``handler(args) -> int`` runs the command; ``add_arguments(parser)`` declares its
    arguments. A name with a space (``"data pull"``) adds a sub-command to a group.
    """


@hookspec
def zp_register_jobs(register: JobRegister) -> None:
    """Register experiment jobs: what one YAML file (or one sweep cell) runs.

    A factory takes no arguments and returns a :class:`zp_evolve.jobs.Job`:
    ``validate(data, *, file, lines) -> config`` (raising one ConfigError listing every
    problem) and ``run(data, out_dir, *, resume) -> dict`` (the summary, also written
    to ``out_dir/summary.json``). A file picks its job with ``job: NAME``; a file without one gets the job registered
    with ``default=True`` (``gps``, by the zp_gps plugin).
    """


@hookspec
def zp_run_start(run: RunInfo) -> None:
    """A search starts (or resumes)."""


@hookspec
def zp_generation_end(run: RunInfo, generation: int, records: list[dict[str, Any]]) -> None:
    """Generation ``generation`` has been scored; ``records`` has one row per task (best, mean, top-K mean...)."""


@hookspec(firstresult=True)
def zp_should_stop(run: RunInfo, generation: int, records: list[dict[str, Any]]) -> str | None:
    """Return a reason (a non-empty string) to stop the search after this generation."""


@hookspec
def zp_run_end(run: RunInfo, summary: dict[str, Any]) -> None:
    """A search finished; ``summary`` is what ``summary.json`` holds. The GPS engine writes
    its ``report.md`` here, as an outside reporter would."""


@hookspec(firstresult=True)
def zp_summary_scores(summary: dict[str, Any]) -> dict[str, TaskScore] | None:
    """The score per task in a finished run's summary.json, for tables across runs;
    ``None`` when the summary is not of a job you know."""


@hookspec
def zp_report_sections(report: CellsReport) -> list[ReportSection]:
    """Sections for a report over finished runs (a sweep, or ``zp-evolve report --out``):
    tables, CSVs and plots of the runs of your jobs, read from their own files."""
