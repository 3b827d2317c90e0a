"""Several workers sharing one device, each with its own model, for ``zp-evolve bench``.

Ray's ``num_gpus_per_actor: 0.25`` places four actors on one GPU: four processes, each
holding a model and scoring its chunks of a generation at the same time. This module
measures that arrangement at the scorer level, with the items of one call split into
contiguous shares (as the executor's chunks are): by spawned processes (no Ray
needed), or by Ray actors with a fractional GPU each where Ray is installed. Each
round starts all workers together; its time is from the first start to the last end.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any, Mapping, Sequence

from zp_evolve.errors import ZpError
from zp_hf.batching import TokenItem


def shares(count: int, workers: int) -> list[range]:
    """``workers`` contiguous index ranges covering ``range(count)``, sizes differing by at most one."""
    bounds = [count * w // workers for w in range(workers + 1)]
    return [range(bounds[w], bounds[w + 1]) for w in range(workers)]


class ShareScorer:
    """One worker: a backend built from ``options``, scoring token items (a Ray actor class too)."""

    def __init__(self, model_dir: str, options: Mapping[str, Any], threads: int) -> None:
        import torch

        from zp_hf.backends import HFCausalBackend

        torch.set_num_threads(threads)
        self.backend = HFCausalBackend(model_dir, **dict(options))
        self.cuda = str(options.get("device", "cpu")).startswith("cuda")

    def score(self, items: Sequence[TokenItem]) -> tuple[float, float, list[list[float]]]:
        """``(start, end, scores)``: wall-clock times around one scoring call."""
        start = time.time()
        scores = self.backend.scorer.score(items)
        if self.cuda:
            import torch

            torch.cuda.synchronize()
        return start, time.time(), scores


def _process_worker(index, model_dir, options, threads, items, rounds, barrier, queue) -> None:
    try:
        worker = ShareScorer(model_dir, options, threads)
        worker.score(items)  # warm-up: allocator, kernels, graph capture
        times = []
        for _ in range(rounds):
            barrier.wait()
            start, end, scores = worker.score(items)
            times.append((start, end))
        queue.put(("ok", index, times, scores))
    except BaseException as error:  # reported to the parent, which fails the stage with it
        queue.put(("error", index, f"{type(error).__name__}: {error}", None))
        barrier.abort()


def _summary(rounds: list[list[tuple[float, float]]], count: int, scores: list[list[float]]) -> dict[str, Any]:
    walls = [max(end for _, end in workers) - min(start for start, _ in workers) for workers in zip(*rounds)]
    best = min(walls)
    return {"seconds": round(best, 4), "examples_per_s": round(count / best, 1), "scores": scores}


def score_in_processes(
    model_dir: str, options: Mapping[str, Any], items: Sequence[TokenItem], *, workers: int, rounds: int = 3,
    threads: int = 1, timeout_s: float = 300.0,
) -> dict[str, Any]:  # fmt: skip
    """Score ``items`` split over ``workers`` spawned processes at once; the best round."""
    context = multiprocessing.get_context("spawn")  # CUDA cannot be forked
    barrier = context.Barrier(workers, timeout=timeout_s)
    queue = context.Queue()
    parts = shares(len(items), workers)
    processes = [
        context.Process(target=_process_worker, args=(w, model_dir, dict(options), threads, list(items[p.start : p.stop]),
                                                      rounds, barrier, queue), daemon=True)
        for w, p in enumerate(parts)
    ]  # fmt: skip
    for process in processes:
        process.start()
    deadline = time.monotonic() + timeout_s
    results = []
    try:
        for _ in processes:
            results.append(queue.get(timeout=max(1.0, deadline - time.monotonic())))
    except Exception as error:  # queue.Empty: a worker hung or died without a word
        raise ZpError(f"{workers} scoring processes gave no result within {timeout_s:.0f} s ({type(error).__name__})") from None
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    errors = [message for status, _, message, _ in results if status == "error"]
    if errors:
        raise ZpError(f"a scoring process failed: {errors[0]}")
    ordered = sorted(results, key=lambda result: result[1])  # results arrive in completion order
    return {"workers": workers, **_summary([times for _, _, times, _ in ordered], len(items),
                                           [row for _, _, _, scores in ordered for row in scores])}  # fmt: skip


def score_on_ray_actors(
    model_dir: str, options: Mapping[str, Any], items: Sequence[TokenItem], *, workers: int, gpus_per_worker: float,
    rounds: int = 3, address: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Score ``items`` split over ``workers`` Ray actors holding ``gpus_per_worker`` GPU each."""
    import ray

    started = not ray.is_initialized()
    if started:
        cuda = str(options.get("device", "cpu")).startswith("cuda")
        ray.init(address=address, num_gpus=None if address else (1 if not cuda else None),
                 num_cpus=None if address else max(workers, os.cpu_count() or 1), include_dashboard=False,
                 log_to_driver=False, logging_level="WARNING")  # fmt: skip
    try:
        actor = ray.remote(ShareScorer)
        env = {"env_vars": {"PYTHONPATH": _code_roots()}}  # the actors import this code, whatever is installed
        handles = [
            actor.options(num_gpus=gpus_per_worker, num_cpus=0.5, runtime_env=env).remote(model_dir, dict(options), 1)
            for _ in range(workers)
        ]
        parts = [list(items[p.start : p.stop]) for p in shares(len(items), workers)]
        ray.get([h.score.remote(part) for h, part in zip(handles, parts)])  # warm-up
        rounds_out = []
        for _ in range(rounds):
            rounds_out.append(ray.get([h.score.remote(part) for h, part in zip(handles, parts)]))
        times = [[(start, end) for start, end, _ in workers_out] for workers_out in rounds_out]
        scores = [row for _, _, part in rounds_out[-1] for row in part]
        for handle in handles:
            ray.kill(handle)
        return {"workers": workers, "gpus_per_worker": gpus_per_worker, **_summary(list(map(list, zip(*times))), len(items), scores)}
    finally:
        if started:
            ray.shutdown()


def _code_roots() -> str:
    """``PYTHONPATH`` for workers: the folders this process imports zp_evolve and zp_hf from."""
    from pathlib import Path

    import zp_evolve
    import zp_hf

    roots = [str(Path(module.__file__).resolve().parents[1]) for module in (zp_evolve, zp_hf)]
    return os.pathsep.join(dict.fromkeys(roots))
