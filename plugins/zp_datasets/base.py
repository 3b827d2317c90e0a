"""What the three providers share: example caching, hold-out test parts, bad-row counts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from typing import Iterable, Sequence

from zp_evolve.errors import DataError
from zp_evolve.sampling import holdout_part
from zp_evolve.tasks import Example, Task

from zp_datasets.rows import RowChecker, check_policy

#: The splits a task without its own test split gets: a deterministic hold-out.
HOLDOUT_SPLITS = ("train", "test")


class CachingProvider(ABC):
    """Loads each task's rows once and serves its splits.

    Subclasses implement :meth:`task_list` and :meth:`load`, which returns the
    task's native splits, or ``{"all": [...]}`` when it has none; then ``train``
    and ``test`` are a deterministic hold-out (:func:`zp_evolve.sampling.holdout_part`).
    """

    #: The data sources (``zp_datasets.sources``) whose extracted folders this provider reads.
    #: A provider whose sources are not all ready lists no tasks; :meth:`missing_sources`
    #: names them, so catalogs and splits can skip its tasks and say how to get them.
    data_sources: tuple[str, ...] = ()

    def __init__(self, *, on_bad_rows: str = "error", test_fraction: float = 0.2) -> None:
        self.on_bad_rows = check_policy(on_bad_rows)
        if not 0.0 < test_fraction < 1.0:
            raise DataError(f"test_fraction must be between 0 and 1 (got {test_fraction})")
        self.test_fraction = test_fraction
        self.skipped: dict[str, Counter[str]] = {}
        # Recently loaded tasks only: a trainer walking hundreds of BIG-bench tasks
        # must not keep every one of them in memory.
        self._splits: OrderedDict[str, dict[str, list[Example]]] = OrderedDict()
        self.cache_tasks = 8
        self._tasks: dict[str, Task] | None = None

    # -- to implement ---------------------------------------------------------
    @abstractmethod
    def task_list(self) -> Iterable[Task]:
        """Every task this provider offers."""

    @abstractmethod
    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        """The task's examples by split, every row checked by ``rows``."""

    def holdout_fields(self, task: Task) -> Sequence[str]:
        """Inputs that decide an example's side of the hold-out (all by default)."""
        return ()

    def known_bad(self, task: Task) -> Sequence[str]:
        """``file:line`` suffixes of rows known to be broken in pinned data."""
        return ()

    def missing_sources(self) -> list[str]:
        """The sources of :attr:`data_sources` that are not pulled (or not usable) on this machine."""
        from zp_datasets.sources import source

        return [name for name in self.data_sources if not source(name).ready]

    def missing_sources_help(self) -> str:
        """Why this provider has no data here, with how to get it; empty when it has all it needs."""
        from zp_datasets.sources import source

        return "; ".join(f"data source {n!r} is not pulled ({source(n).how_to_get()})" for n in self.missing_sources())

    # -- TaskProvider ---------------------------------------------------------
    def tasks(self) -> list[Task]:
        if self._tasks is None:
            self._tasks = {t.name: t for t in self.task_list()}
        return list(self._tasks.values())

    def task(self, name: str) -> Task:
        self.tasks()
        assert self._tasks is not None
        if name not in self._tasks:
            raise DataError(f"{type(self).__name__} has no task {name!r}")
        return self._tasks[name]

    def examples(self, task: str, split: str) -> list[Example]:
        meta = self.task(task)
        if split not in meta.splits:
            raise DataError(f"task {task!r} has no split {split!r}; its splits are {list(meta.splits)}")
        return list(self._all_splits(meta)[split])

    def _all_splits(self, task: Task) -> dict[str, list[Example]]:
        if task.name in self._splits:
            self._splits.move_to_end(task.name)
        else:
            rows = RowChecker(task, self.on_bad_rows, self.known_bad(task))
            splits = self.load(task, rows)
            rows.report()
            self.skipped[task.name] = rows.skipped
            if set(splits) == {"all"}:
                everything = splits["all"]
                fields = self.holdout_fields(task)
                splits = {
                    part: holdout_part(everything, part, salt=task.name, test_fraction=self.test_fraction, fields=fields)
                    for part in HOLDOUT_SPLITS
                }
            if not any(splits.values()):
                raise DataError(f"task {task.name!r} has no examples; check its data files")
            self._splits[task.name] = splits
            while len(self._splits) > self.cache_tasks:
                self._splits.popitem(last=False)
        return self._splits[task.name]
