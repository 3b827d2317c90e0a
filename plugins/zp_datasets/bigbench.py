"""The ``bigbench`` provider: every BIG-bench JSON task or subtask with >= 32 examples.

Multiple-choice tasks (``target_scores``) become rank classification: fixed
``labels`` when every example has the same options, else ``multiple_choice`` with
per-example ``candidates``; the target is the best-scored option. Generative tasks
(``target``) keep the first reference and use ROUGE-1 or string F1. Type and
language come from the task's name and keywords (:mod:`zp_datasets.bigbench_types`).
BIG-bench has no train/test split, so each task gets a deterministic hold-out.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Literal, Mapping, Optional

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

from zp_datasets.base import CachingProvider
from zp_datasets.bigbench_index import load_task_json, read_index
from zp_datasets.bigbench_types import long_answers, task_language, task_type
from zp_datasets.rows import RowChecker, clip
from zp_datasets.sources import source
from zp_datasets.specs import default_metric, make_task
from zp_datasets.templates import task_instruction, task_prompts

PREFIX = "bb_"

#: Examples broken in the pinned archive (no target, empty input, one option):
#: skipped under any ``on_bad_rows`` policy. Found by loading every task.
KNOWN_BAD = (
    "contextual_parametric_knowledge_conflicts.json.gz:example 9744",
    "gem/wikilingua_multilingual.json.gz:example 1173",
    "gem/wikilingua_multilingual.json.gz:example 1653",
    "gem/wikilingua_multilingual.json.gz:example 1804",
    "subtask044_essential_terms_identifying_essential_words.json.gz:example 996",
    "physics_questions.json.gz:example 0",
    "polish_sequence_labeling.json.gz:example 80",
    "polish_sequence_labeling.json.gz:example 10232",
)


def task_name(path: str) -> str:
    """``multiemo/all_text_zh`` -> ``bb_multiemo__all_text_zh`` (no dots or slashes: names go in key paths)."""
    return PREFIX + path.replace("/", "__")


def build_task(entry: Mapping[str, Any]) -> Task:
    """The :class:`Task` of one index entry."""
    kind = task_type(entry)
    language = task_language(entry)
    options = entry.get("options")
    fixed = bool(entry.get("multiple_choice") and options)
    per_example = bool(entry.get("multiple_choice") and not options)
    labels = tuple(dict.fromkeys(_option(o) for o in options)) if fixed else ()
    generation = not entry.get("multiple_choice")
    return make_task(
        task_name(entry["path"]),
        kind,
        language,
        ("X",),
        labels=labels,
        verbalizers=labels,
        metric=default_metric(kind, labels, multiple_choice=per_example, long_answers=long_answers(entry)),
        prompts=task_prompts(kind, language, task_instruction(entry.get("task_prefix") or entry.get("description") or "", language), generation),
        provider="bigbench",
        description=str(entry.get("description", ""))[:300],
        size=int(entry.get("examples", 0)),
        multiple_choice=per_example,
    )


class BigBenchProvider(CachingProvider):
    """BIG-bench JSON tasks from the pulled archive (``zp-evolve data pull bigbench``).

    Without the pulled source it lists no tasks (:meth:`missing_sources` says why).
    """

    data_sources = ("bigbench",)
    name_prefix = PREFIX

    def __init__(
        self,
        include: Optional[list[str]] = None,
        exclude: Optional[list[str]] = None,
        types: Optional[list[str]] = None,
        languages: Optional[list[str]] = None,
        min_examples: int = 32,
        on_bad_rows: Literal["error", "skip"] = "error",
        test_fraction: float = 0.2,
        max_chars: int = 0,
    ) -> None:
        """
        Args:
            include: task names or shell patterns (``bb_multiemo__*``) to keep (default: all).
            exclude: names or patterns to leave out.
            types: only tasks of these types.
            languages: only tasks in these languages (``en``, ``zh``, ``mul``...).
            min_examples: tasks with fewer examples are left out (the paper's dev and test need 32+).
            on_bad_rows: ``error`` raises on a malformed example; ``skip`` drops and counts it.
            test_fraction: share of each task held out as its test part.
            max_chars: inputs are cut to this many characters (0: no limit).
        """
        super().__init__(on_bad_rows=on_bad_rows, test_fraction=test_fraction)
        self.include = list(include or [])
        self.exclude = list(exclude or [])
        self.types = {t.upper() for t in types} if types else None
        self.languages = set(languages) if languages else None
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
        folder = source("bigbench").require()
        out = []
        for entry in read_index(folder)["tasks"]:
            name = task_name(entry["path"])
            if entry["examples"] < self.min_examples:
                continue
            if self.include and not self._match(name, self.include):
                continue
            if self.exclude and self._match(name, self.exclude):
                continue
            task = build_task(entry)
            if self.types is not None and task.type not in self.types:
                continue
            if self.languages is not None and task.language not in self.languages:
                continue
            self._entries[name] = entry
            out.append(task)
        return sorted(out, key=lambda t: t.name)

    def available(self, name: str) -> bool:
        return source("bigbench").ready

    def partial_copy(self) -> str:
        """Why some named BIG-bench tasks may be missing: the data came from a copy, not the pinned sdist."""
        item = source("bigbench")
        marker = item.marker() or {}
        if item.ready and marker.get("sha256") != item.file.sha256:
            return f"BIG-bench was pulled from {marker.get('origin')}, which may lack tasks of bigbench-1.0.0"
        return ""

    def known_bad(self, task: Task) -> tuple[str, ...]:
        return KNOWN_BAD

    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        self.tasks()
        entry = self._entries[task.name]
        folder = source("bigbench").require()
        data = load_task_json(folder, entry["path"])
        where = f"{folder}/tasks/{entry['path']}.json.gz"
        out = []
        for index, raw in enumerate(data.get("examples") or []):
            example = self._example(task, raw, rows, f"{where}:example {index}")
            if example is not None:
                out.append(example)
        return {"all": out}

    def _example(self, task: Task, raw: Any, rows: RowChecker, source_ref: str) -> Example | None:
        if not isinstance(raw, dict):
            rows.bad(source_ref, "missing label: the example is not a JSON object")
            return None
        text = clip(raw.get("input", ""), self.max_chars) if isinstance(raw.get("input"), str) else ""
        if not text and task.kind == "classification":
            # Some tasks only ask to pick the sensible option (cause_and_effect): the
            # question is the task's prefix, so it becomes the input.
            entry = self._entries[task.name]
            text = " ".join(str(entry.get("task_prefix") or entry.get("description") or "").split())
        scores = raw.get("target_scores")
        if task.kind == "classification":
            if not isinstance(scores, dict) or not scores:
                rows.bad(source_ref, "missing label: no target_scores")
                return None
            # Options differ from the label set by stray spaces and newlines ("'50 hours '").
            best_score: dict[str, float] = {}
            for option, score in scores.items():
                key = _option(option)
                best_score[key] = max(best_score.get(key, float("-inf")), _number(score))
            best = max(best_score, key=lambda o: best_score[o])  # first best on ties
            candidates = tuple(best_score) if task.multiple_choice else ()
            return rows.example({"X": text}, best, source_ref, candidates)
        target = raw.get("target")
        if isinstance(target, list):
            target = next((t for t in target if isinstance(t, str) and t.strip()), None)
        return rows.example({"X": text}, target if isinstance(target, str) else None, source_ref)


def _option(value: Any) -> str:
    return " ".join(str(value).split())


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("-inf")
