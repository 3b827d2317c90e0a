"""Supervised training items: the hard part of the hybrid prompt around the answer.

One item is one example of one task under one handcrafted prompt D (sampled per
example), with the verbalizer candidates V in front. The query is built by the very
function the backends score with (:func:`zp_hf.formatting.make_query`, on top of
:func:`zp_evolve.prompts.assemble`), so a trained model is evaluated on exactly the
format it learned. The soft prompt E is added by the model code from ``task``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from zp_evolve.errors import DataError
from zp_evolve.prompts import AssembledPrompt
from zp_evolve.tasks import Example, Task


@dataclass(frozen=True)
class TrainItem:
    """The model reads ``prompt`` (prefix, answer slot, suffix); ``answer`` fills the slot."""

    task: str
    language: str
    prompt: AssembledPrompt
    answer: str


def build_item(
    task: Task,
    example: Example,
    rng: random.Random,
    *,
    verbalizers: bool = True,
    description: bool = True,
    max_input_chars: int = 0,
    template: str | None = None,
) -> TrainItem:
    """One training item; D is drawn from the task's prompts with ``rng`` unless ``template`` is given.

    With ``description`` off the backends' bare template (inputs, then the blank) is used;
    ``max_input_chars`` cuts each input as the backends' option of the same name does.
    """
    from zp_hf.formatting import PredictItem, make_query

    if template is None:
        template = rng.choice(task.prompts)
    query = make_query(
        PredictItem(task, template, example),
        use_verbalizers=verbalizers,
        use_description=description,
        max_input_chars=max_input_chars,
    )
    if query.candidates:
        if example.target not in query.keys:
            raise DataError(f"{example.source or task.name}: target {example.target!r} is not one of {query.keys}")
        answer = query.candidates[query.keys.index(example.target)]
    else:
        answer = example.target
    return TrainItem(task=task.name, language=task.language, prompt=query.prompt, answer=answer)
