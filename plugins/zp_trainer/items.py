"""Supervised training items: the hard part of the hybrid prompt around the answer.

One item is one example of one task under one handcrafted prompt D (sampled per
example), with the verbalizer candidates V in front, built by the same core
function the backends score with (:func:`zp_evolve.prompts.assemble`), so a trained
model is evaluated on exactly the format it learned. The soft prompt E is added by
the model code from ``task``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from zp_evolve.errors import DataError
from zp_evolve.prompts import BLANK_TOKEN, assemble
from zp_evolve.tasks import Example, Task


@dataclass(frozen=True)
class TrainItem:
    """The model reads ``prefix``, the answer slot, ``suffix``; ``answer`` fills the slot."""

    task: str
    prefix: str
    suffix: str
    answer: str


def bare_template(task: Task) -> str:
    """The template when D is switched off: only the inputs and the blank."""
    joiner = "" if task.language == "zh" else " "
    return joiner.join([*(f"[{name}]" for name in task.input_fields), BLANK_TOKEN])


def candidates_of(task: Task, example: Example) -> tuple[str, ...]:
    """V: the verbalizers of a classification task, an example's options for multiple choice."""
    if task.multiple_choice:
        return tuple(example.candidates)
    return tuple(task.verbalizers)


def answer_of(task: Task, example: Example) -> str:
    """The text that fills the blank: the label's verbalizer, the chosen option, or the reference."""
    if task.kind == "classification" and not task.multiple_choice:
        if example.target not in task.labels:
            raise DataError(f"{example.source or task.name}: label {example.target!r} is not one of {task.labels}")
        return task.verbalizer(example.target)
    return example.target


def build_item(
    task: Task,
    example: Example,
    rng: random.Random,
    *,
    verbalizers: bool = True,
    description: bool = True,
    template: str | None = None,
) -> TrainItem:
    """One training item; D is drawn from the task's prompts with ``rng`` unless ``template`` is given."""
    if template is None:
        template = rng.choice(task.prompts) if description else bare_template(task)
    assembled = assemble(
        template,
        example.inputs,
        candidates=candidates_of(task, example),
        language=task.language,
        use_verbalizers=verbalizers,
    )
    return TrainItem(task=task.name, prefix=assembled.prefix, suffix=assembled.suffix, answer=answer_of(task, example))
