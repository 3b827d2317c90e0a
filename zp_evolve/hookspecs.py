"""The plugin hooks of zp_evolve (pluggy project name ``zp_evolve``).

Registration hooks receive a ``register(name, factory, **meta)`` callback, in the
style of simonw/llm and tox. Lifecycle hooks let reporters and stopping rules follow
a search. Every hook here is documented in docs/plugins.md and exercised in tests.
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

hookspec = pluggy.HookspecMarker("zp_evolve")

Register = Callable[..., None]


@hookspec
def zp_register_mutators(register: Register) -> None:
    """Register mutation operators (g_GPS).

    A factory builds an object with
    ``mutate(parents: Sequence[str], *, rng: random.Random) -> list[list[str]]``
    where ``children[i]`` are the offspring of ``parents[i]``. ``mutate`` may also
    accept a keyword ``task`` to receive the :class:`zp_evolve.tasks.Task` searched, and
    a keyword ``spans`` to receive each parent's fixed and editable pieces
    (:class:`zp_evolve.spans.Span`); parents and children carry no span marks.
    """


@hookspec
def zp_register_metrics(register: Register) -> None:
    """Register metrics ``fn(predictions, references) -> float``.

    For classification tasks each prediction is a mapping from label to score, and
    each reference is a label; for generation tasks both are strings.
    """


@hookspec
def zp_register_fitness(register: Register) -> None:
    """Register fitness functions (f_GPS).

    A factory takes the keyword ``backend`` (the model, or ``None``) plus its own
    options and returns an object with ``evaluate(jobs) -> list[float]``; see
    :class:`zp_evolve.evaluation.Fitness`.
    """


@hookspec
def zp_register_backends(register: Register) -> None:
    """Register model backends that score label candidates and generate text."""


@hookspec
def zp_register_tasks(register: Register) -> None:
    """Register task providers; see :class:`zp_evolve.tasks.TaskProvider`."""


@hookspec
def zp_register_executors(register: Register) -> None:
    """Register executors that map evaluation work over workers."""


@hookspec
def zp_register_commands(register: Register) -> None:
    """Register CLI sub-commands: ``register(name, handler, add_arguments=..., help=...)``.

    ``handler(args) -> int`` runs the command; ``add_arguments(parser)`` declares its
    arguments. A name with a space (``"data pull"``) adds a sub-command to a group.
    """


@hookspec
def zp_register_jobs(register: Register) -> None:
    """Register experiment jobs: what one YAML file (or one sweep cell) runs.

    A factory takes no arguments and returns an object with
    ``validate(data, *, file, lines) -> config`` (raising one ConfigError listing every
    problem) and ``run(data, out_dir, *, resume) -> dict`` (the summary, also written
    to ``out_dir/summary.json``). A file picks its job with ``job: NAME`` (default ``gps``).
    """


@hookspec
def zp_run_start(run: Any) -> None:
    """A search starts (or resumes). ``run`` is a :class:`zp_evolve.engine.gps.RunInfo`."""


@hookspec
def zp_generation_end(run: Any, generation: int, records: list[dict[str, Any]]) -> None:
    """Generation ``generation`` has been scored; ``records`` has one logbook row per task."""


@hookspec(firstresult=True)
def zp_should_stop(run: Any, generation: int, records: list[dict[str, Any]]) -> str | None:
    """Return a reason (a non-empty string) to stop the search after this generation."""


@hookspec
def zp_run_end(run: Any, summary: dict[str, Any]) -> None:
    """A search finished; ``summary`` is what ``summary.json`` holds."""
