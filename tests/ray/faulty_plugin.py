"""Fitness functions that fail the way real workers fail, for the Ray fault tests:
a worker process that dies on some prompts, and a model that cannot be built."""

from __future__ import annotations

import os

from tests.toy_plugin import text_score
from zp_evolve import ModelError, hookimpl


class DieOnMarker:
    """Scores like ``text_fitness``, but the whole process exits on a prompt with ``marker``
    (as a segfault or the OOM killer would end it)."""

    def __init__(self, backend=None, marker: str = "DIE") -> None:
        self.marker = marker

    def evaluate(self, jobs):
        if any(self.marker in job.prompt for job in jobs):
            os._exit(3)
        return [text_score(job.prompt) for job in jobs]


class MissingModel:
    """A fitness whose model cannot be loaded."""

    def __init__(self, backend=None, model: str = "no-such-model") -> None:
        raise ModelError(f"model {model!r} not found; run 'zp-evolve models list' to see the installed ones")

    def evaluate(self, jobs):  # pragma: no cover - never built
        return []


@hookimpl
def zp_register_fitness(register):
    register("die_on_marker", DieOnMarker)
    register("missing_model", MissingModel)
