"""The classes Ray runs as actors. Plain classes here; :func:`remote_class` wraps them
with ``ray.remote`` on first use, so importing this module does not import Ray."""

from __future__ import annotations

import dataclasses
import inspect
import os
import random
import sys
from typing import Any, Mapping, Sequence

from zp_evolve.evaluation import EvalRequest, EvalResult
from zp_evolve.workers import WorkerFactory


def limit_threads(threads: int | None) -> None:
    """Cap torch's intra-op threads, so actors sharing a machine do not fight over cores.

    The OpenMP/BLAS variables are set through the runtime env before Python starts;
    torch reads its own setting, which may only be set once torch is imported.
    """
    if threads is None:
        return
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class EvaluationActor:
    """Holds one fitness worker (backend + fitness) for the whole run.

    Ray calls ``__init__`` again when it restarts the actor after a crash, so the worker
    is rebuilt from the same factory and seed.
    """

    def __init__(self, factory: WorkerFactory, threads: int | None) -> None:
        limit_threads(threads)
        self.worker = factory()
        limit_threads(threads)  # the backend may have imported torch just now
        self.placement = where()

    def ready(self) -> int:
        """The actor's process id, once the worker is built."""
        return os.getpid()

    def where(self) -> dict[str, Any]:
        """The actor's process id, and the id and IP of its Ray node."""
        return self.placement

    def evaluate(self, requests: Sequence[EvalRequest]) -> list[EvalResult]:
        """Score ``requests``; each result names this actor's node (for ``events.jsonl``)."""
        node = self.placement["ip"]
        return [dataclasses.replace(result, node=node) for result in self.worker.evaluate(requests)]


def where() -> dict[str, Any]:
    """This process's id, and the id and IP of the Ray node it runs on."""
    import ray

    context = ray.get_runtime_context()
    return {"pid": os.getpid(), "node_id": context.get_node_id(), "ip": ray.util.get_node_ip_address()}


class MutatorActor:
    """Holds one heavy mutator (e.g. an LM paraphraser) built from its config spec."""

    def __init__(self, spec: Mapping[str, Any], plugin_modules: Sequence[str], threads: int | None) -> None:
        import importlib

        from zp_evolve.plugins import load_plugins

        limit_threads(threads)
        extra = [importlib.import_module(name) for name in plugin_modules]
        self.mutator = load_plugins(extra).build("mutators", dict(spec), path="mutators.mutator")
        limit_threads(threads)
        try:
            parameters = set(inspect.signature(self.mutator.mutate).parameters)
        except (TypeError, ValueError):
            parameters = set()
        self.takes_task = "task" in parameters
        self.takes_spans = "spans" in parameters
        self.takes_choices = "choices" in parameters

    def ready(self) -> int:
        return os.getpid()

    def mutate(
        self, parents: list[str], rng_state: tuple, task: Any, spans: Any = None, choices: Any = None
    ) -> tuple[list[list[str]], tuple]:
        """Mutate with a copy of the caller's rng; return the children and the rng's new state,
        so the caller's rng advances exactly as if the mutator had run locally."""
        rng = random.Random()
        rng.setstate(rng_state)
        kwargs: dict[str, Any] = {"rng": rng}
        if self.takes_task:
            kwargs["task"] = task
        if self.takes_spans and spans is not None:
            kwargs["spans"] = spans
        if self.takes_choices and choices is not None:
            kwargs["choices"] = choices
        children = self.mutator.mutate(parents, **kwargs)
        return children, rng.getstate()


_remote: dict[type, Any] = {}


def remote_class(cls: type) -> Any:
    """``ray.remote(cls)``, made once per process."""
    if cls not in _remote:
        import ray

        _remote[cls] = ray.remote(cls)
    return _remote[cls]
