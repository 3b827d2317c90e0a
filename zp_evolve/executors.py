"""Executors map evaluation requests over workers. This module holds the interface
and the serial executor; the Ray executor is the ``zp_ray`` plugin."""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

from zp_evolve.evaluation import EvalRequest, EvalResult, FitnessWorker

#: Builds a worker in the process that will use it (:class:`zp_evolve.workers.WorkerFactory`).
WorkerFactory = Callable[[], FitnessWorker]

#: Called with (index into the request batch, result) as soon as a result arrives.
ResultCallback = Callable[[int, EvalResult], None]


@runtime_checkable
class Executor(Protocol):
    """Runs :class:`EvalRequest` batches on workers built by a :class:`WorkerFactory`."""

    def start(self, factory: WorkerFactory) -> None: ...

    def evaluate(self, requests: Sequence[EvalRequest], on_result: ResultCallback | None = None) -> list[EvalResult]:
        """Results in the order of ``requests``."""
        ...

    def close(self) -> None: ...


class SerialExecutor:
    """One worker in this process; requests go to it in chunks of ``batch_size``.

    Args:
        batch_size: requests per call of the worker; larger batches let the fitness
            batch across prompts and tasks.
    """

    def __init__(self, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self._worker: FitnessWorker | None = None

    def start(self, factory: WorkerFactory) -> None:
        self._worker = factory()

    def evaluate(self, requests: Sequence[EvalRequest], on_result: ResultCallback | None = None) -> list[EvalResult]:
        if self._worker is None:
            raise RuntimeError("SerialExecutor.start() must be called before evaluate()")
        results: list[EvalResult] = []
        for begin in range(0, len(requests), self.batch_size):
            chunk = requests[begin : begin + self.batch_size]
            for offset, result in enumerate(self._worker.evaluate(chunk)):
                if on_result is not None:
                    on_result(begin + offset, result)
                results.append(result)
        return results

    def close(self) -> None:
        self._worker = None
