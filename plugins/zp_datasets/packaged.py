"""The ``packaged`` provider: every labelled-data package in RESOURCES.md besides BIG-bench."""

from __future__ import annotations

import difflib
from typing import Literal, Optional

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

from zp_datasets.base import CachingProvider
from zp_datasets.packaged_en import english_specs
from zp_datasets.packaged_multi import multilingual_specs
from zp_datasets.packaged_zh import chinese_specs
from zp_datasets.rows import RowChecker
from zp_datasets.sources import source
from zp_datasets.specs import Spec


def all_specs() -> dict[str, Spec]:
    return {spec.task.name: spec for spec in english_specs() + chinese_specs() + multilingual_specs()}


class PackagedProvider(CachingProvider):
    """Tasks read straight from the pulled data packages (``zp-evolve data pull``).

    Tasks are listed whether or not their data is pulled; loading examples of a
    task whose package is missing raises :class:`DataError` with the pull command.
    """

    def __init__(
        self,
        include: Optional[list[str]] = None,
        exclude: Optional[list[str]] = None,
        on_bad_rows: Literal["error", "skip"] = "error",
        test_fraction: float = 0.2,
        max_chars: int = 512,
    ) -> None:
        """
        Args:
            include: only these tasks (default: all).
            exclude: leave these tasks out.
            on_bad_rows: ``error`` raises on a malformed row; ``skip`` drops and counts it.
            test_fraction: share of a task held out as its test part when the data has no test split.
            max_chars: inputs are cut to this many characters (0: no limit).
        """
        super().__init__(on_bad_rows=on_bad_rows, test_fraction=test_fraction)
        self.specs = all_specs()
        for name in list(include or []) + list(exclude or []):
            if name not in self.specs:
                close = difflib.get_close_matches(name, list(self.specs), n=3, cutoff=0.5)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise DataError(f"packaged provider has no task {name!r}.{hint} Known: {', '.join(sorted(self.specs))}")
        self.include = set(include) if include else None
        self.exclude = set(exclude or [])
        if max_chars < 0:
            raise DataError(f"max_chars must be >= 0 (got {max_chars})")
        self.max_chars = max_chars

    def task_list(self) -> list[Task]:
        return [
            spec.task
            for name, spec in sorted(self.specs.items())
            if (self.include is None or name in self.include) and name not in self.exclude
        ]

    def available(self, name: str) -> bool:
        """Whether the data package of a task is pulled."""
        return source(self.specs[name].source).ready

    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        spec = self.specs[task.name]
        folder = source(spec.source).require()
        try:
            return spec.read(folder, task, rows, self.max_chars)
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(
                f"cannot read the data of task {task.name!r}: {error}. Run: zp-evolve data pull {spec.source} --force"
            ) from None

    def holdout_fields(self, task: Task) -> tuple[str, ...]:
        return self.specs[task.name].holdout_fields

    def known_bad(self, task: Task) -> tuple[str, ...]:
        return self.specs[task.name].known_bad
