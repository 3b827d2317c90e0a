"""All tasks of the configured providers, addressed by unique name."""

from __future__ import annotations

import difflib
import logging
from typing import Any, Mapping, Sequence

from zp_evolve.errors import DataError
from zp_evolve.plugins import Plugins, canonical_json
from zp_evolve.sampling import DevRule, sample_dev, sample_test
from zp_evolve.tasks import EvalTask, Example, Task, TaskProvider

EVAL_POOL_SPLITS = ("dev", "validation", "train")
log = logging.getLogger(__name__)


class TaskCatalog:
    """Tasks from one or more providers; names must be unique across them.

    A provider whose data source is not on this machine (a download that vanished,
    or one not pulled yet) lists no tasks: the catalog goes on without it, warns once
    with the command that gets it, and remembers it in :attr:`absent` so split files
    can skip its task names instead of failing.
    """

    def __init__(self, plugins: Plugins, provider_specs: Sequence[Mapping[str, Any]]) -> None:
        self._providers: dict[str, TaskProvider] = {}
        self._tasks: dict[str, Task] = {}
        self._owner: dict[str, str] = {}
        #: ``{provider label: (name prefix, how to get its data)}`` of providers without (all) their data here.
        self.absent: dict[str, tuple[str, str]] = {}
        for index, spec in enumerate(provider_specs):
            provider = plugins.build("tasks", spec, path=f"tasks.providers.{index}")
            label = str(spec.get("name"))
            self._providers[label] = provider
            prefix = str(getattr(provider, "name_prefix", ""))
            missing = _missing_sources(provider)
            if missing:
                self.absent[label] = (prefix, missing)
                log.warning("task provider %r lists no tasks: %s", label, missing)
                continue
            partial = getattr(provider, "partial_copy", lambda: "")()
            if partial:  # a copy of one's own (--from) may lack tasks that split files name
                self.absent[label] = (prefix, partial)
            for task in provider.tasks():
                if task.name in self._tasks:
                    raise DataError(
                        f"task {task.name!r} is provided twice: by {self._owner[task.name]!r} and by {label!r}"
                    )
                self._tasks[task.name] = task
                self._owner[task.name] = label

    def absent_owner(self, name: str) -> str | None:
        """The absent (or partial) provider whose tasks are named like ``name`` (by prefix), if any."""
        for label, (prefix, _) in self.absent.items():
            if prefix and name.startswith(prefix):
                return label
        return None

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def tasks(self) -> list[Task]:
        return [self._tasks[name] for name in sorted(self._tasks)]

    def unknown_message(self, name: str) -> str:
        owner = self.absent_owner(name)
        if owner is not None:
            return f"task {name!r} belongs to provider {owner!r}, whose data is not here: {self.absent[owner][1]}"
        close = difflib.get_close_matches(name, list(self._tasks), n=5, cutoff=0.6)
        hint = f" Close matches: {', '.join(close)}." if close else ""
        return f"unknown task {name!r}.{hint} Run 'zp-evolve tasks' to list the {len(self._tasks)} tasks available."

    def get(self, name: str) -> Task:
        if name not in self._tasks:
            raise DataError(self.unknown_message(name))
        return self._tasks[name]

    def provider_of(self, name: str) -> TaskProvider:
        """The provider object that serves task ``name``."""
        self.get(name)
        return self._providers[self._owner[name]]

    def examples(self, name: str, split: str) -> list[Example]:
        task = self.get(name)
        return self._providers[self._owner[name]].examples(task.name, split)

    def eval_pool(self, name: str) -> list[Example]:
        """Examples dev sets may be drawn from: every split except ``test``."""
        task = self.get(name)
        pool: list[Example] = []
        for split in task.splits:
            if split != "test":
                pool.extend(self.examples(name, split))
        if not pool:
            raise DataError(f"task {name!r} has no non-test split to draw a dev set from (splits: {task.splits})")
        return pool

    def eval_task(self, name: str, seed: int, dev_rule: DevRule, test_limit: int, test_seed: int | None = None) -> EvalTask:
        """The dev sample (paper rules) and a test sample of one task (drawn with ``test_seed``, else ``seed``)."""
        task = self.get(name)
        dev = sample_dev(task, self.eval_pool(name), seed, dev_rule)
        if not dev:
            raise DataError(f"task {name!r} gave an empty dev set")
        test: list[Example] = []
        if "test" in task.splits and test_limit != 0:
            test = sample_test(task, self.examples(name, "test"), seed if test_seed is None else test_seed, test_limit)
        return EvalTask(task=task, dev=tuple(dev), test=tuple(test))


def _missing_sources(provider: Any) -> str:
    """Why ``provider`` has no data here, with how to get it; empty when it has all it needs.

    A provider explains itself with ``missing_sources_help()``; one that only lists the names of
    its ``missing_sources()`` gets them named. The core knows no data plugin.
    """
    explain = getattr(provider, "missing_sources_help", None)
    if callable(explain):
        return str(explain())
    check = getattr(provider, "missing_sources", None)
    names = check() if callable(check) else []
    return "; ".join(f"data source {n!r} is not pulled" for n in names)


def catalog_of(plugins: Plugins, providers: Sequence[Mapping[str, Any]]) -> TaskCatalog:
    """The task catalog of ``providers``, built once per plugin set: task lists are cheap
    but not free, and a sweep validates many cells over the same providers."""
    key = "catalog:" + canonical_json({"providers": list(providers)})
    if key not in plugins.memo:
        plugins.memo[key] = TaskCatalog(plugins, providers)
    return plugins.memo[key]
