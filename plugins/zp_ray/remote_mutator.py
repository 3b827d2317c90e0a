"""The ``remote`` mutator: runs a heavy mutator (an LM paraphraser, a T5 infiller) on a
Ray actor, so its model loads once, off the driver, on the CPUs or GPU you choose.

YAML::

    mutators:
      - name: remote
        label: ptm_paraphrase          # the operator's name in reports
        num_gpus: 1
        mutator: {name: ptm_paraphrase, model: smollm2-135m-instruct}

The caller's ``rng`` travels to the actor and its new state comes back, so the
children are exactly those the mutator would make in-process.
"""

from __future__ import annotations

import importlib
import random
import weakref
from typing import Any, Mapping, Sequence

from zp_evolve.errors import ConfigError, ConfigIssue, PluginError, ZpError
from zp_evolve.spans import SpanLists
from zp_evolve.tasks import Task
from zp_ray import session
from zp_ray.actors import MutatorActor, remote_class
from zp_ray.shipping import upload_local_paths


class RemoteMutator:
    """Runs the mutator ``mutator`` on a Ray actor (started on first use).

    Args:
        mutator: the wrapped mutator's spec, as in the ``mutators`` list (``{name: ..., ...}``).
        plugins: import paths of plugin modules the wrapped mutator needs beyond the
            installed ones; they must be importable on the actor too.
        address: the Ray to use if none is connected yet (see the ``ray`` executor).
        num_cpus: CPUs Ray reserves for the actor.
        num_gpus: GPUs Ray reserves for the actor.
        threads: torch/BLAS threads in the actor (default: its CPUs, at least 1).
        runtime_env: Ray runtime env for the actor.
        max_restarts: times Ray restarts the actor after a crash.
        max_task_retries: times Ray retries a call on the restarted actor.
        start_timeout_s: seconds to wait for the actor to build the mutator.
    """

    def __init__(
        self,
        mutator: dict[str, Any],
        plugins: list[str] | None = None,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        threads: int | None = None,
        runtime_env: dict[str, Any] | None = None,
        max_restarts: int = 2,
        max_task_retries: int = 2,
        start_timeout_s: float = 600.0,
    ) -> None:
        from zp_evolve.plugins import load_plugins

        session.check_address(address)
        self.spec = dict(mutator)
        self.plugin_modules = list(plugins or [])
        if self.spec.get("name") == "remote":
            raise ConfigError([ConfigIssue("mutator.name", "a remote mutator cannot wrap another 'remote'")])
        try:
            modules = [importlib.import_module(name) for name in self.plugin_modules]
        except ImportError as error:
            raise ConfigError([ConfigIssue("plugins", f"cannot import plugin module: {error}")]) from None
        issues = load_plugins(modules).check_spec("mutators", self.spec, "mutator")
        if issues:
            raise ConfigError(issues)
        self._modules = modules
        self.address = address
        self.num_cpus = float(num_cpus)
        self.num_gpus = float(num_gpus)
        self.threads = threads or max(1, int(num_cpus))
        self.runtime_env = dict(runtime_env or {})
        self.max_restarts = max_restarts
        self.max_task_retries = max_task_retries
        self.start_timeout_s = start_timeout_s
        self._actor: Any = None
        self._finalizer: weakref.finalize | None = None

    def _ensure_actor(self) -> Any:
        if self._actor is not None:
            return self._actor
        import ray
        from ray.exceptions import GetTimeoutError, RayError

        session.acquire(self.address)
        self._finalizer = weakref.finalize(self, session.release)
        env = upload_local_paths(session.worker_runtime_env(self.runtime_env, plugins=self._modules, threads=self.threads))
        options: dict[str, Any] = {
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "max_restarts": self.max_restarts,
            "max_task_retries": self.max_task_retries,
        }
        if env:
            options["runtime_env"] = env
        actor = remote_class(MutatorActor).options(**options).remote(self.spec, self.plugin_modules, self.threads)
        try:
            ray.get(actor.ready.remote(), timeout=self.start_timeout_s)
        except GetTimeoutError:
            session.kill_actor(actor)
            raise PluginError(
                f"the remote mutator {self.spec['name']!r} did not start within {self.start_timeout_s:g}s: the Ray "
                f"cluster has no room for an actor with {self.num_cpus:g} CPU and {self.num_gpus:g} GPU. Lower "
                "num_cpus/num_gpus of the remote mutator."
            ) from None
        except RayError as error:
            raise PluginError(f"the remote mutator {self.spec['name']!r} could not be built on its actor: {error}") from None
        self._actor = actor
        return actor

    def mutate(
        self, parents: Sequence[str], *, rng: random.Random, task: Task | None = None, spans: SpanLists | None = None,
        choices: Sequence[tuple[str, ...]] | None = None,
    ) -> list[list[str]]:
        """The wrapped mutator's children; ``task``, ``spans`` and ``choices`` reach it if its ``mutate`` takes them."""
        import ray
        from ray.exceptions import RayTaskError

        actor = self._ensure_actor()
        try:
            children, state = ray.get(actor.mutate.remote(list(parents), rng.getstate(), task, spans, choices))
        except RayTaskError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, ZpError):
                raise cause from None
            raise
        rng.setstate(state)
        return children

    def close(self) -> None:
        """Stop the actor; Ray stays up for whoever else holds it."""
        if self._actor is not None:
            session.kill_actor(self._actor)
            self._actor = None
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None


def check_task(task: Any, options: Mapping[str, Any], plugins: Any) -> str | None:
    """The wrapped mutator's own ``check_task`` (registration metadata): wrapping it on an
    actor changes nothing about the tasks it can handle."""
    from zp_evolve.task_checks import task_problem

    inner = options.get("mutator")
    if not isinstance(inner, Mapping) or inner.get("name") not in plugins["mutators"]:
        return None  # a mutator from the wrapper's own plugin modules: checked on the actor
    return task_problem(plugins["mutators"].get(inner["name"]), task, {k: v for k, v in inner.items() if k != "name"}, plugins)
