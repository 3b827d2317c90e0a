"""Hook implementations of the ``zp_gps`` built-in plugin: the ``gps`` job (the default)
with its reports, the serial executor, the ``length`` objective and the ``patience``
stopping rule."""

from __future__ import annotations

import math
from typing import Any

from zp_evolve import hookimpl
from zp_evolve.executors import SerialExecutor

# The GPS engine's reporters, registered like any plugin's (hook implementations).
from zp_gps.report import zp_report_sections, zp_run_end, zp_summary_scores  # noqa: F401


@hookimpl
def zp_register_executors(register):
    register("serial", SerialExecutor, description="one worker in this process (the default)", default=True)


@hookimpl
def zp_register_objectives(register):
    from zp_gps.length import PromptLength

    register("length", PromptLength, direction="minimize",
             description="prompt length in tokens of the scoring model (words without one)")


@hookimpl
def zp_register_jobs(register):
    from zp_gps.job import GpsJob

    register("gps", GpsJob, description="Genetic Prompt Search (paper Algorithm 1)", default=True)


@hookimpl
def zp_should_stop(run: Any, generation: int, records: list[dict[str, Any]]) -> str | None:
    """Stop when no task's top-K mean has improved for ``search.patience`` generations."""
    patience = run.config.search.patience
    history = run.state.history
    if not patience or len(history) <= patience:
        return None

    def best_by_task(rows: list[dict[str, Any]]) -> dict[str, float]:
        return {r["task"]: r["top_k_mean"] for r in rows if math.isfinite(r["top_k_mean"])}

    before = best_by_task(history[-patience - 1])
    now = best_by_task(history[-1])
    if any(now.get(task, -math.inf) > value for task, value in before.items()):
        return None
    return f"no task improved its top-{run.config.search.top_k} mean in {patience} generations (patience)"
