"""The ``ray`` executor: fitness evaluation on a pool of Ray actors.

Each actor builds the backend and fitness once, from the picklable
:class:`~zp_evolve.evaluation.WorkerFactory` (seeded with the run seed), and keeps
them for the whole run. A batch of requests is cut into chunks of similar cost
(:mod:`zp_ray.chunking`); idle actors take the largest chunk left; results go back
to the engine as each chunk arrives and are returned in request order, so the run
is the same as with the serial executor.

Faults: Ray restarts a crashed actor (``max_restarts``) and retries its call
(``max_task_retries``). When that is not enough, the executor replaces the actor and
sends the chunk again, up to ``chunk_retries`` times, then stops with the chunk and
the last error. An actor whose whole node was lost leaves the pool instead: the run
carries on with the others, its chunk goes back in the queue, and the executor logs
``lost node`` (:mod:`zp_ray.nodes`). The pool never grows: a node that joins later gets
no actor. Results reach the engine only once a whole chunk is done, so a retried
chunk never scores a prompt twice in ``events.jsonl``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Sequence

from zp_evolve.errors import ConfigError, ConfigIssue, ExecutorError, ZpError
from zp_evolve.evaluation import EvalRequest, EvalResult
from zp_evolve.executors import ResultCallback
from zp_evolve.workers import WorkerFactory
from zp_ray import session
from zp_ray.actors import EvaluationActor, remote_class
from zp_ray.chunking import Chunk, plan_chunks, request_cost
from zp_ray.messages import creation_error, describe_chunk, first_lines
from zp_ray.nodes import NodeWatch
from zp_ray.shipping import upload_local_paths
from zp_ray.sizing import default_pool_size

__all__ = ["RayExecutor", "default_pool_size"]

log = logging.getLogger(__name__)


class RayExecutor:
    """Scores prompts on a pool of Ray actors: a local Ray (default) or a cluster.

    Args:
        address: None starts a private local Ray (or joins ``$RAY_ADDRESS`` if set);
            ``auto`` joins the cluster this machine belongs to; ``HOST:PORT`` or
            ``ray://HOST:PORT`` joins that cluster.
        num_actors: actors in the pool; default: as many as the cluster's CPUs (and GPUs)
            allow at the per-actor amounts.
        num_cpus: CPUs of the local Ray (default: all cores); ignored when joining.
        num_gpus: GPUs of the local Ray (default: all detected); ignored when joining.
        num_cpus_per_actor: CPUs Ray reserves for each actor.
        num_gpus_per_actor: GPUs Ray reserves for each actor: whole GPUs, or a fraction to
            share one (0.25: four actors, each with its own model, on one GPU).
        threads_per_actor: torch/BLAS threads in each actor (default: its CPUs, at least 1).
        chunk_size: at most this many requests per actor call (default: no limit).
        chunks_per_actor: chunks a batch is cut into per actor; more balance load better,
            fewer batch better.
        spread: place the actors over as many nodes as possible (Ray's ``SPREAD`` strategy),
            rather than packing them onto few.
        runtime_env: Ray runtime env for the actors (``pip``, ``working_dir``,
            ``py_modules``, ``env_vars``), so plugins reach machines that lack them.
        max_restarts: times Ray restarts a crashed actor.
        max_task_retries: times Ray retries a call on a restarted actor.
        chunk_retries: times a chunk is sent again, to a fresh actor, after Ray gave up.
        log_to_driver: show the actors' output in this terminal.
        start_timeout_s: seconds to wait for the actors to start (models load meanwhile).
        connect_timeout_s: seconds to wait for a cluster's address to answer.
        node_check_s: seconds without a result after which the executor asks Ray which
            nodes it lost.
    """

    #: The least value of each numeric option (``None`` always passes: "as the cluster has").
    LOWER_BOUNDS = {
        "num_actors": 1, "num_cpus": 0, "num_gpus": 0, "num_cpus_per_actor": 0, "num_gpus_per_actor": 0,
        "threads_per_actor": 1, "chunk_size": 1, "chunks_per_actor": 1, "max_restarts": -1, "max_task_retries": -1,
        "chunk_retries": 0, "node_check_s": 0.1,
    }

    @classmethod
    def check_options(cls, **options: Any) -> list[str]:
        """What is wrong with these options, one sentence each (``zp-evolve validate`` calls it too)."""
        problems = [
            f"{name} must be at least {low} (got {options[name]})"
            for name, low in cls.LOWER_BOUNDS.items()
            if isinstance(options.get(name), (int, float)) and options[name] < low
        ]
        gpus = options.get("num_gpus_per_actor")
        if isinstance(gpus, (int, float)) and gpus > 1 and float(gpus) != int(gpus):
            # Ray's rule: a fraction of one GPU shares it; more than one must be whole GPUs.
            problems.append(f"num_gpus_per_actor above 1 must be a whole number (got {gpus:g}); "
                            "use a fraction such as 0.25 to put several actors on one GPU")  # fmt: skip
        return problems

    def __init__(
        self,
        address: str | None = None,
        num_actors: int | None = None,
        num_cpus: int | None = None,
        num_gpus: int | None = None,
        num_cpus_per_actor: float = 1.0,
        num_gpus_per_actor: float = 0.0,
        threads_per_actor: int | None = None,
        chunk_size: int | None = None,
        chunks_per_actor: int = 4,
        spread: bool = False,
        runtime_env: dict[str, Any] | None = None,
        max_restarts: int = 2,
        max_task_retries: int = 2,
        chunk_retries: int = 2,
        log_to_driver: bool = False,
        start_timeout_s: float = 600.0,
        connect_timeout_s: float = 10.0,
        node_check_s: float = 2.0,
    ) -> None:
        problems = self.check_options(
            num_actors=num_actors, num_cpus=num_cpus, num_gpus=num_gpus, num_cpus_per_actor=num_cpus_per_actor,
            num_gpus_per_actor=num_gpus_per_actor, threads_per_actor=threads_per_actor, chunk_size=chunk_size,
            chunks_per_actor=chunks_per_actor, max_restarts=max_restarts, max_task_retries=max_task_retries,
            chunk_retries=chunk_retries, node_check_s=node_check_s,
        )
        if problems:
            raise ConfigError([ConfigIssue(f"executor.{p.split()[0]}", p) for p in problems])
        session.check_address(address)
        self.address = address
        self.num_actors = num_actors
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.num_cpus_per_actor = float(num_cpus_per_actor)
        self.num_gpus_per_actor = float(num_gpus_per_actor)
        self.threads = threads_per_actor or max(1, int(num_cpus_per_actor))
        self.chunk_size = chunk_size
        self.chunks_per_actor = chunks_per_actor
        self.spread = spread
        self.runtime_env = dict(runtime_env or {})
        self.max_restarts = max_restarts
        self.max_task_retries = max_task_retries
        self.chunk_retries = chunk_retries
        self.log_to_driver = log_to_driver
        self.start_timeout_s = start_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._actors: list[Any] = []  # None where an actor was lost with its node
        self._nodes = NodeWatch(node_check_s)
        self._factory: WorkerFactory | None = None
        self._actor_env: dict[str, Any] = {}
        self._holding = False

    # -- life cycle -----------------------------------------------------------
    def start(self, factory: WorkerFactory) -> None:
        """Connect to Ray and start the actors; returns when every worker is built."""
        session.acquire(
            self.address,
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
            log_to_driver=self.log_to_driver,
            connect_timeout_s=self.connect_timeout_s,
        )
        self._holding = True
        try:
            self._factory = factory
            self._actor_env = upload_local_paths(
                session.worker_runtime_env(self.runtime_env, plugins=factory.extra_plugins, threads=self.threads)
            )
            count = self._pool_size()
            self._actors = [self._new_actor() for _ in range(count)]
            self._wait_ready()
            for slot, actor in enumerate(self._actors):
                self._nodes.track(slot, actor)
            self._nodes.resolve(timeout_s=30.0)
        except BaseException:
            self.close()
            raise
        log.info("ray executor: %d actors ready (%s)", len(self._actors), self._nodes.summary())

    def close(self) -> None:
        """Stop the actors and, if this executor opened Ray, shut it down. Safe to repeat."""
        for actor in self._actors:
            if actor is not None:
                session.kill_actor(actor)
        self._actors = []
        if self._holding:
            self._holding = False
            session.release()

    def actor_pids(self) -> list[int]:
        """The process id of each actor (for monitoring, and for tests that kill one)."""
        import ray

        return list(ray.get([actor.ready.remote() for actor in self._actors if actor is not None]))

    def placement(self) -> dict[int, dict[str, Any]]:
        """Each live actor's process id, node id and node IP, by slot."""
        self._nodes.resolve(timeout_s=10.0)
        return {slot: dict(self._nodes.placement[slot]) for slot in self._live() if slot in self._nodes.placement}

    # -- scoring --------------------------------------------------------------
    def evaluate(self, requests: Sequence[EvalRequest], on_result: ResultCallback | None = None) -> list[EvalResult]:
        """Score ``requests`` on the pool; results in request order."""
        import ray
        from ray.exceptions import RayError, RayTaskError, RuntimeEnvSetupError

        if not self._actors or self._factory is None:
            raise ExecutorError("RayExecutor.start() must be called before evaluate()")
        if not requests:
            return []
        chunks = self.plan(requests)
        queue: deque[Chunk] = deque(chunks)
        idle = self._live()
        running: dict[Any, tuple[int, Chunk]] = {}
        failures: dict[int, int] = {}
        lost: set[int] = set()  # slots whose node died: their pending calls end in errors
        results: list[EvalResult | None] = [None] * len(requests)
        while queue or running:
            if not idle and not running:
                raise ExecutorError(
                    f"every Ray actor was lost with its node; {len(queue)} chunks of this batch are unscored. "
                    "Check the cluster ('ray status'), then 'zp-evolve resume RUN_DIR'."
                )
            while queue and idle:
                slot, chunk = idle.pop(0), queue.popleft()
                batch = [requests[i] for i in chunk.indices]
                running[self._actors[slot].evaluate.remote(batch)] = (slot, chunk)
            done, _ = ray.wait(list(running), num_returns=1, timeout=self._nodes.check_every_s)
            if not done or self._nodes.due():
                idle = self._drop_lost_nodes({s for s, _ in running.values()} | set(idle), lost, idle)
            for ref in done:
                slot, chunk = running.pop(ref)
                try:
                    values = ray.get(ref)
                except RayTaskError as error:  # the fitness itself raised: retrying will not help
                    cause = error.cause if isinstance(getattr(error, "cause", None), BaseException) else None
                    if isinstance(cause, ZpError):
                        raise cause from None
                    raise ExecutorError(f"{describe_chunk(chunk, requests)} failed on a Ray actor: {error}") from None
                except RuntimeEnvSetupError as error:
                    raise ExecutorError(
                        f"Ray could not set up the actors' runtime_env {self._actor_env!r}: {error}. "
                        "Fix executor.runtime_env."
                    ) from None
                except RayError as error:  # the actor or its node died
                    if slot not in lost:
                        idle = self._drop_lost_nodes({slot}, lost, idle)
                    if slot in lost:  # its node is gone: the chunk goes to the actors left, no retry counted
                        log.warning(
                            "%s goes back in the queue: its actor was lost with its node", describe_chunk(chunk, requests)
                        )
                        queue.appendleft(chunk)
                        continue
                    failures[chunk.number] = failures.get(chunk.number, 0) + 1
                    if failures[chunk.number] > self.chunk_retries:
                        raise ExecutorError(
                            f"{describe_chunk(chunk, requests)} failed {failures[chunk.number]} times because its Ray "
                            f"actor died (Ray restarts each actor up to {self.max_restarts} times). Last error: "
                            f"{first_lines(error)}. A worker that keeps dying often runs out of memory: lower "
                            "executor.num_actors, or give each more memory or GPU."
                        ) from None
                    log.warning(
                        "%s lost its actor (%s); retrying on a fresh actor", describe_chunk(chunk, requests), type(error).__name__
                    )
                    self._replace(slot)
                    queue.appendleft(chunk)
                    idle.append(slot)
                    continue
                if len(values) != len(chunk.indices):
                    raise ExecutorError(
                        f"{describe_chunk(chunk, requests)}: the worker returned {len(values)} results for "
                        f"{len(chunk.indices)} requests; the fitness must return one value per job"
                    )
                if values and values[0].node != self._nodes.placement.get(slot, {}).get("ip", values[0].node):
                    self._nodes.track(slot, self._actors[slot])  # Ray restarted it on another node
                for index, result in zip(chunk.indices, values):
                    results[index] = result
                    if on_result is not None:
                        on_result(index, result)
                idle.append(slot)
        return [r for r in results if r is not None]  # every slot is filled: chunks cover all requests

    def plan(self, requests: Sequence[EvalRequest]) -> list[Chunk]:
        """Cut ``requests`` into chunks of balanced cost (examples x prompt length)."""
        tasks = self._factory.tasks if self._factory is not None else {}
        costs = [
            request_cost(len(tasks[r.task].split(r.split)) if r.task in tasks else 1, len(r.prompt)) for r in requests
        ]
        groups = [(r.task, r.split) for r in requests]
        actors = max(len(self._live()), 1)
        return plan_chunks(costs, groups, num_chunks=actors * self.chunks_per_actor, max_size=self.chunk_size)

    # -- actors ---------------------------------------------------------------
    def _live(self) -> list[int]:
        return [slot for slot, actor in enumerate(self._actors) if actor is not None]

    def _drop_lost_nodes(self, slots: set[int], lost: set[int], idle: list[int]) -> list[int]:
        """Take the actors of ``slots`` whose node Ray reports dead out of the pool, for good.

        Killing them (no restart) ends their pending calls with an error, so their chunks
        come back to the queue; the idle ones simply leave. Returns the idle slots left.
        """
        dead = self._nodes.on_dead_nodes(slots - lost)
        for node_id in sorted({where["node_id"] for where in dead.values()}):
            ip = next(where["ip"] for where in dead.values() if where["node_id"] == node_id)
            gone = sorted(s for s, where in dead.items() if where["node_id"] == node_id)
            left = len(self._live()) - len(dead)
            log.warning(
                "ray executor: lost node %s (%s) with actor(s) %s; carrying on with %d actor(s)",
                node_id[:12], ip, ", ".join(map(str, gone)), left,
            )
        for slot in dead:
            lost.add(slot)
            session.kill_actor(self._actors[slot])
            self._actors[slot] = None
            self._nodes.forget(slot)
        return [slot for slot in idle if slot not in dead]

    def _new_actor(self) -> Any:
        options: dict[str, Any] = {
            "num_cpus": self.num_cpus_per_actor,
            "num_gpus": self.num_gpus_per_actor,
            "max_restarts": self.max_restarts,
            "max_task_retries": self.max_task_retries,
        }
        if self.spread:
            options["scheduling_strategy"] = "SPREAD"
        if self._actor_env:
            options["runtime_env"] = self._actor_env
        return remote_class(EvaluationActor).options(**options).remote(self._factory, self.threads)

    def _replace(self, slot: int) -> None:
        session.kill_actor(self._actors[slot])
        self._actors[slot] = self._new_actor()
        self._nodes.track(slot, self._actors[slot])

    def _pool_size(self) -> int:
        import ray

        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
        count = self.num_actors
        if count is None:
            count = default_pool_size(cpus, gpus, self.num_cpus_per_actor, self.num_gpus_per_actor)
        need_cpus, need_gpus = count * self.num_cpus_per_actor, count * self.num_gpus_per_actor
        if need_cpus > cpus + 1e-9 or need_gpus > gpus + 1e-9:
            message = (
                f"{count} actors x ({self.num_cpus_per_actor:g} CPU, {self.num_gpus_per_actor:g} GPU) need "
                f"{need_cpus:g} CPUs and {need_gpus:g} GPUs, but the Ray cluster has {cpus:g} CPUs and {gpus:g} GPUs. "
                "Lower executor.num_actors or the per-actor amounts"
            )
            if self.address is None:
                raise ExecutorError(message + ", or raise executor.num_cpus / num_gpus of the local Ray.")
            log.warning("%s; waiting for the cluster to grow (autoscaler).", message)
        return count

    def _wait_ready(self) -> None:
        import ray
        from ray.exceptions import RayError, RuntimeEnvSetupError

        refs = {actor.ready.remote(): index for index, actor in enumerate(self._actors)}
        started = time.monotonic()
        done, pending = ray.wait(list(refs), num_returns=len(refs), timeout=self.start_timeout_s)
        for ref in done:
            try:
                ray.get(ref)
            except RuntimeEnvSetupError as error:
                raise ExecutorError(
                    f"Ray could not set up the actors' runtime_env {self._actor_env!r}: {first_lines(error)}. "
                    "Fix executor.runtime_env."
                ) from None
            except RayError as error:
                raise ExecutorError(
                    f"Ray actor {refs[ref]} could not build the fitness worker (model and fitness): "
                    f"{creation_error(error)}"
                ) from None
        if pending:
            available = ray.available_resources()
            raise ExecutorError(
                f"{len(pending)} of {len(refs)} Ray actors did not start within {time.monotonic() - started:.0f}s "
                f"(start_timeout_s). Free resources now: {available.get('CPU', 0):g} CPUs, "
                f"{available.get('GPU', 0):g} GPUs; each actor asks for {self.num_cpus_per_actor:g} CPU and "
                f"{self.num_gpus_per_actor:g} GPU. Lower executor.num_actors, or add machines to the cluster."
            )
