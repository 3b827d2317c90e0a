"""Fixed spans survive every built-in operator, through the engine's own operator wrapper.

Each operator makes at least 100 children of marked prompts (tiny local models for
T5 and the paraphraser, real Apertium and a tiny local Marian for back-translation);
every child must keep each fixed piece of its parent verbatim and in order, which is
the engine's ``changed_fixed_span`` check. A share of them must also be accepted
outright, so the operators still do their job inside the editable spans.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter

import pytest

from zp_evolve.prompts import normalize, placeholders
from zp_evolve.spans import fixed_pieces, parse, remark, strip_marks
from zp_evolve.tasks import Task
from zp_gps.breeding import Operator
from zp_gps.offspring import admit_child

MARKED_EN = (
    "Review: [X] {{Is this review good or bad?}} Answer: _",
    "{{Read the review below, then judge it.}} Review: [X] {{All in all, the movie was}} _ .",
    "What is the topic of the following news? {{Please answer with one word. Be brief.}} _. News text: [X]",
    "Premise: [X1] Hypothesis: [X2] {{Does the premise entail the hypothesis? Think about it.}} _",
    '{{In the general context,}} what is the relationship between "[X1]" and "[X2]"? {{Give the answer now.}} _.',
    "Is this message spam? [X] {{}} Answer: _",  # an empty span: operators may only insert there
)
MARKED_ZH = ("{{以下这篇新闻是关于什么主题的?}} _。新闻: [X]", "这句话: [X]。{{上文是否体现了客户对公司不信任?}} 回答: _")
CHILDREN = 100


def _task(prompts: tuple[str, ...], language: str = "en") -> Task:
    fields = tuple(dict.fromkeys(placeholders(prompts[0])))
    return Task(name="spans", type="ANY", language=language, input_fields=fields, labels=("no", "yes"),
                verbalizers=("no", "yes"), metric="accuracy", prompts=prompts)


def _groups(prompts: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Prompts grouped by their placeholders, as one task's prompts share them."""
    by_fields: dict[tuple[str, ...], list[str]] = {}
    for prompt in prompts:
        by_fields.setdefault(tuple(sorted(set(placeholders(prompt)))), []).append(prompt)
    return [tuple(group) for group in by_fields.values()]


def survive(mutator, prompts: tuple[str, ...], *, language: str = "en", repeat: int = 2, max_rounds: int = 60) -> Counter:
    """Breed until ``CHILDREN`` children; assert each keeps its parent's fixed text. Returns verdicts."""
    operator = Operator("under_test", 1.0, mutator)
    verdicts: Counter = Counter()
    made = 0
    for round_ in range(max_rounds):
        for group in _groups(prompts):
            task = _task(group, language)
            parents = [normalize(p) for p in group for _ in range(repeat)]  # as the engine repeats a parent per slot
            children = operator.mutate(parents, random.Random(round_), task)
            for parent, kids in zip(parents, children):
                for kid in kids:
                    made += 1
                    marked = remark(kid, parent)
                    assert marked is not None, f"{kid!r} changed a fixed span of {parent!r}"
                    assert fixed_pieces(marked) == fixed_pieces(parent)
                    assert "{{" not in kid and "}}" not in kid  # operators see and return text without marks
                    reason, _ = admit_child(kid, parent, required=task.input_fields, max_chars=400, seen={parent})
                    verdicts[reason or "accepted"] += 1
        if made >= CHILDREN:
            break
    assert made >= CHILDREN, f"only {made} children in {max_rounds} rounds: {verdicts}"
    assert verdicts["changed_fixed_span"] == 0
    return verdicts


def test_edit_keeps_fixed_spans():
    from zp_mutators.edit import PhraseEdit

    verdicts = survive(PhraseEdit(edits_per_child=2), MARKED_EN + MARKED_ZH)
    assert verdicts["accepted"] >= 50


def test_crossover_keeps_fixed_spans():
    from zp_mutators.crossover import SentenceCrossover

    verdicts = survive(SentenceCrossover(children=2), MARKED_EN + MARKED_ZH, repeat=1)
    assert verdicts["accepted"] >= 50


@pytest.mark.parametrize("mode", ["partial", "full"])
def test_t5_infill_keeps_fixed_spans(mode, tiny_t5):
    from zp_mutators.t5_infill import T5Infill

    # a random T5 often fills with bare punctuation: keep those, the machinery is what is tested
    verdicts = survive(T5Infill(model=tiny_t5, mode=mode, spans=2, require_words=False), MARKED_EN + MARKED_ZH)
    assert verdicts["accepted"] >= 30


def test_ptm_paraphrase_keeps_fixed_spans(tiny_causal):
    from zp_mutators.paraphrase import PTMParaphrase

    lenient = PTMParaphrase(model=tiny_causal, candidates=2, max_new_tokens=8, drop_answers=False, min_overlap=0,
                            min_ratio=0.01, max_ratio=50.0)
    verdicts = survive(lenient, MARKED_EN + MARKED_ZH)
    assert verdicts["accepted"] >= 30
    # the model never saw fixed text: every request was a sentence of an editable span
    assert lenient.stats["generated"] >= CHILDREN


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (scripts/setup.sh installs it)")
def test_back_translation_with_apertium_keeps_fixed_spans():
    from zp_mutators.back_translation import BackTranslation

    verdicts = survive(BackTranslation(pivots=["spa", "cat", "glg", "epo"], round_trips=2, attempts=4, children=2), MARKED_EN)
    assert verdicts["accepted"] >= 20


def test_back_translation_with_marian_keeps_fixed_spans(tmp_path):
    from tests.mutators.tiny_marian import build_tiny_marian
    from zp_mutators.back_translation import BackTranslation

    for source, target in (("en", "es"), ("es", "en")):
        build_tiny_marian(tmp_path / f"opus-mt-{source}-{target}", source, target)
    op = BackTranslation(engine="marian", pivots=["spa"], model_template=str(tmp_path / "opus-mt-{src}-{tgt}"),
                         sampling=True, attempts=1)
    survive(op, MARKED_EN)  # random weights rarely keep the nonce words: the check is that fixed text never changes


def test_an_operator_that_ignores_spans_is_caught_not_trusted():
    class Shout:
        def mutate(self, parents, *, rng):
            return [[p.upper()] for p in parents]

    operator = Operator("shout", 1.0, Shout())
    parent = normalize(MARKED_EN[0])
    (kid,), = operator.mutate([parent], random.Random(0), _task((MARKED_EN[0],)))
    assert kid == strip_marks(parent).upper()  # it saw no marks
    assert admit_child(kid, parent, required=("X",), max_chars=400, seen=set())[0] == "changed_fixed_span"


def test_spans_reach_operators_that_ask_for_them_and_only_those():
    seen: dict[str, object] = {}

    class Aware:
        def mutate(self, parents, *, rng, spans):
            seen["aware"] = (list(parents), spans)
            return [[] for _ in parents]

    class Unaware:
        def mutate(self, parents, *, rng):
            seen["unaware"] = list(parents)
            return [[] for _ in parents]

    task = _task((MARKED_EN[0],))
    Operator("a", 1.0, Aware()).mutate([MARKED_EN[0]], random.Random(0), task)
    Operator("u", 1.0, Unaware()).mutate([MARKED_EN[0]], random.Random(0), task)
    parents, spans = seen["aware"]
    assert parents == seen["unaware"] == [strip_marks(MARKED_EN[0])]
    assert [s.editable for s in spans[0]] == [False, True, False]
    assert "".join(s.text for s in spans[0]) == parents[0]
    assert parse(MARKED_EN[0]) is not None
