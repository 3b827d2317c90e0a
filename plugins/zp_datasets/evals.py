"""The ``evals`` provider: every usable eval of the OpenAI evals registry (``ev_`` tasks).

The registry is normalised at pull time (:mod:`zp_datasets.evals_index`). Evals
whose answers are a few fixed labels (``Y``/``N``, ``A``-``D``, ``[True]``...) are
classification tasks scored by rank classification over the labels (AUC when
binary, micro-F1 otherwise); evals whose options are written in each prompt
(``A. ...`` lines, ``Choices: ...``) rank those per-example ``candidates``
(micro-F1); the others are generation tasks scored with string
F1, or ROUGE-1 when the answers are long. Every eval has one ``all`` part, held
out deterministically into train and test.
"""

from __future__ import annotations

from typing import Any, Mapping

from zp_evolve.tasks import Task

from zp_datasets import evals_index
from zp_datasets.indexed import IndexedProvider
from zp_datasets.specs import default_metric, make_task
from zp_datasets.templates import task_instruction, task_prompts

PREFIX = "ev_"
#: Mean words of the reference above which generation is scored with ROUGE-1.
LONG_ANSWER_WORDS = 5.0


def build_task(entry: Mapping[str, Any]) -> Task:
    """The :class:`Task` of one index entry."""
    kind, language = entry["type"], entry["language"]
    labels = tuple(entry.get("labels") or ())
    generation = entry["kind"] == "generation"
    per_example = entry["kind"] == "multiple_choice"
    prompt_language = language if language in ("en", "zh") else "en"
    instruction = task_instruction(entry.get("instruction") or entry.get("description", ""), prompt_language)
    return make_task(
        PREFIX + entry["name"],
        kind,
        language,
        ("X",),
        labels=labels,
        verbalizers=tuple(entry.get("verbalizers") or labels),
        metric=default_metric(kind, labels, multiple_choice=per_example,
                              long_answers=float(entry.get("mean_target_words", 0.0)) > LONG_ANSWER_WORDS),
        prompts=task_prompts(kind, prompt_language, instruction, generation),
        provider="evals",
        description=str(entry.get("description", ""))[:300],
        size=int(entry.get("examples", 0)),
        multiple_choice=per_example,
    )


class EvalsProvider(IndexedProvider):
    """The OpenAI evals registry from the pulled wheel (``zp-evolve data pull evals``).

    Without the pulled source it lists no tasks (:meth:`missing_sources` says why).
    """

    data_sources = ("evals",)
    name_prefix = PREFIX
    index_module = evals_index

    def build_task(self, entry: Mapping[str, Any]) -> Task:
        return build_task(entry)
