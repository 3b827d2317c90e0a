"""Building blocks of packaged tasks: a task spec and the default metric rule."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from zp_evolve.tasks import Example, Task

from zp_datasets.rows import RowChecker
from zp_datasets.templates import prompts_for

#: The paper's metric per kind of task (appendix A.2).
GENERATION_METRICS = {"NER": "pos_f1", "SUMM": "rouge1", "MRC": "string_f1", "KEYS": "string_f1"}

Reader = Callable[[Path, Task, RowChecker, int], dict[str, list[Example]]]


def default_metric(task_type: str, labels: Sequence[str], *, multiple_choice: bool = False, long_answers: bool = False) -> str:
    """AUC for binary tasks, micro-F1 for more labels or options; by type for generation."""
    if multiple_choice:
        return "micro_f1"
    if labels:
        return "auc" if len(labels) == 2 else "micro_f1"
    if task_type in GENERATION_METRICS:
        return GENERATION_METRICS[task_type]
    return "rouge1" if long_answers else "string_f1"


def make_task(
    name: str,
    task_type: str,
    language: str,
    fields: Sequence[str],
    *,
    labels: Sequence[str] = (),
    verbalizers: Sequence[str] = (),
    metric: str = "",
    prompts: Sequence[str] = (),
    topic: str = "",
    splits: Sequence[str] = ("train", "test"),
    provider: str = "packaged",
    description: str = "",
    size: int = 0,
    multiple_choice: bool = False,
) -> Task:
    """A :class:`Task` with the type's handcrafted prompts unless ``prompts`` are given."""
    generation = not labels and not multiple_choice
    return Task(
        name=name,
        type=task_type,
        language=language,
        input_fields=tuple(fields),
        labels=tuple(labels),
        verbalizers=tuple(verbalizers or labels),
        metric=metric or default_metric(task_type, labels, multiple_choice=multiple_choice),
        prompts=tuple(prompts) or prompts_for(task_type, language, fields, topic=topic, generation=generation),
        splits=tuple(splits),
        provider=provider,
        description=description,
        size=size,
        multiple_choice=multiple_choice,
    )


@dataclass(frozen=True)
class Spec:
    """One packaged task: its metadata, the data source it reads and how."""

    task: Task
    source: str
    read: Reader
    #: Inputs that decide the hold-out side (e.g. the sentence of NER queries).
    holdout_fields: tuple[str, ...] = ()
    #: ``file:line`` suffixes of rows known to be broken in the pinned file; skipped
    #: (and counted) under any ``on_bad_rows`` policy. Any other bad row follows the policy.
    known_bad: tuple[str, ...] = ()
