"""The task model: examples, labels with verbalizers, a metric and handcrafted prompts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping, Protocol, Sequence, runtime_checkable

from zp_evolve.errors import DataError
from zp_evolve.prompts import split_choices, template_problems

#: The paper's task types (Table 2). Providers may add types their data brings.
PAPER_TASK_TYPES = ("SENTI", "NEWS", "INTENT", "NLI", "STS", "PARA", "QAM", "MRC", "NER", "SUMM", "KEYS", "WSC", "APP")

TaskKind = Literal["classification", "generation"]


@dataclass(frozen=True)
class Example:
    """One labelled example.

    ``inputs`` maps placeholder names (``"X"``, ``"X1"``...) to text. ``target`` is a
    label of the task for classification, or the reference text for generation.
    ``source`` says where the row came from (``file:line``), for error messages.
    ``candidates`` are per-example answer options of multiple-choice tasks
    (BIG-bench ``target_scores``); ``target`` is then one of them.
    """

    inputs: Mapping[str, str]
    target: str
    source: str = ""
    candidates: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"inputs": dict(self.inputs), "target": self.target, "source": self.source}
        if self.candidates:
            data["candidates"] = list(self.candidates)
        return data


@dataclass(frozen=True)
class Task:
    """Everything about a task except its examples, which providers load lazily."""

    name: str
    type: str
    language: str
    input_fields: tuple[str, ...]
    labels: tuple[str, ...]
    verbalizers: tuple[str, ...]
    metric: str
    prompts: tuple[str, ...]
    splits: tuple[str, ...] = ("train", "test")
    provider: str = ""
    description: str = ""
    size: int = 0
    multiple_choice: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.labels and len(self.verbalizers) != len(self.labels):
            problems.append(f"{len(self.labels)} labels but {len(self.verbalizers)} verbalizers")
        if len(self.prompts) == 0:
            problems.append("no handcrafted prompts")
        for prompt in self.prompts:
            for problem in template_problems(prompt, self.input_fields, labels=self.fixed_labels):
                problems.append(f"prompt {prompt!r} {problem}")
        if problems:
            raise DataError(f"task {self.name!r}: " + "; ".join(problems))

    @property
    def kind(self) -> TaskKind:
        return "classification" if self.labels or self.multiple_choice else "generation"

    def verbalizer(self, label: str) -> str:
        return self.verbalizers[self.labels.index(label)]

    @property
    def fixed_labels(self) -> tuple[str, ...]:
        """The labels every example shares (none for generation and multiple choice)."""
        return () if self.multiple_choice else self.labels

    def answer_words(self, prompt: str) -> tuple[str, ...]:
        """The words that answer the labels under ``prompt``: its own answer choices
        (``template ||| a ||| b``), else the task's verbalizers."""
        choices = split_choices(prompt)[1]
        return choices if choices and self.fixed_labels else self.verbalizers

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.type,
            "language": self.language,
            "kind": self.kind,
            "input_fields": list(self.input_fields),
            "labels": list(self.labels),
            "verbalizers": list(self.verbalizers),
            "metric": self.metric,
            "prompts": list(self.prompts),
            "splits": list(self.splits),
            "provider": self.provider,
            "size": self.size,
            "multiple_choice": self.multiple_choice,
            "description": self.description,
        }


@runtime_checkable
class TaskProvider(Protocol):
    """A source of tasks, registered with ``zp_register_tasks``.

    ``tasks()`` must be cheap (metadata only); ``examples()`` loads one split.
    A provider whose data is not downloaded raises :class:`DataError` naming the
    ``zp-evolve data pull`` command that fetches it.
    """

    def tasks(self) -> Iterable[Task]: ...

    def examples(self, task: str, split: str) -> list[Example]: ...


@dataclass(frozen=True)
class EvalTask:
    """A task with the examples fitness needs: the tiny dev set and a test sample.

    It is plain data, so it pickles to Ray workers.
    """

    task: Task
    dev: tuple[Example, ...]
    test: tuple[Example, ...] = ()
    dev_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.dev_hash:
            object.__setattr__(self, "dev_hash", examples_hash(self.dev))

    @property
    def name(self) -> str:
        return self.task.name

    def split(self, name: str) -> tuple[Example, ...]:
        if name == "dev":
            return self.dev
        if name == "test":
            return self.test
        raise DataError(f"unknown evaluation split {name!r}; use 'dev' or 'test'")


def examples_hash(examples: Sequence[Example]) -> str:
    """A short, stable hash of examples, part of every fitness cache key."""
    payload = json.dumps([[sorted(e.inputs.items()), e.target, list(e.candidates)] for e in examples], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def unique_task_names(names: list[str]) -> list[str]:
    """``names`` unchanged, or a ValueError naming the tasks listed twice."""
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"task names repeat: {', '.join(duplicates)}")
    return names
