"""The model-free operators (edit, crossover) and the segmentation they share, on real prompts."""

from __future__ import annotations

import random

import pytest

from tests.mutators.conftest import assert_valid_offspring, engine_verdict
from tests.mutators.prompts import EN_PROMPTS, SENTIMENT_EN, ZH_PROMPTS
from zp_evolve.errors import ConfigError
from zp_evolve.prompts import blank_count, normalize, placeholders
from zp_mutators.crossover import SentenceCrossover
from zp_mutators.edit import PhraseEdit, donor_phrases
from zp_mutators.segments import detokenize, phrases, sentences, slots_of, tokenize


@pytest.mark.parametrize("prompt", [*EN_PROMPTS, *ZH_PROMPTS, "é_ x", "a_b _ [X]", "__ _x x_ _-", "[X] 总之，感觉_。"])
def test_tokens_round_trip_and_agree_with_the_engine_on_slots(prompt):
    tokens = tokenize(prompt)
    assert "".join(t.text for t in tokens) == prompt
    slots = slots_of(tokens)
    assert slots.count("_") == blank_count(prompt)
    assert [s[1:-1] for s in slots if s != "_"] == placeholders(prompt)


def test_phrases_and_sentences_never_hold_a_slot():
    tokens = tokenize("Is this review good or bad? [X] Answer: _")
    assert ["".join(t.text for t in tokens[a:b]) for a, b in phrases(tokens)] == ["Is this review good or bad?", "Answer:"]
    assert ["".join(t.text for t in s).strip() for s in sentences(tokens)] == ["Is this review good or bad?", "[X] Answer:", "_"]
    assert detokenize(tokens) == "Is this review good or bad? [X] Answer: _"


def test_edit_gives_every_real_prompt_a_valid_new_child():
    parents = [*EN_PROMPTS, *ZH_PROMPTS]
    children = PhraseEdit().mutate(parents, rng=random.Random(0))
    assert_valid_offspring(parents, children)
    assert all(len(kids) == 1 for kids in children)


def test_edit_is_deterministic_under_a_seed_and_varies_across_seeds():
    parents = list(EN_PROMPTS)
    first = PhraseEdit(edits_per_child=2).mutate(parents, rng=random.Random(7))
    again = PhraseEdit(edits_per_child=2).mutate(parents, rng=random.Random(7))
    other = PhraseEdit(edits_per_child=2).mutate(parents, rng=random.Random(8))
    assert first == again
    assert first != other


@pytest.mark.parametrize("operation", ["delete", "swap", "add"])
def test_each_edit_operation_alone(operation):
    parent = "Is this review good or bad? [X] Answer: _"
    children = PhraseEdit(operations=[operation], children=3).mutate([parent], rng=random.Random(1), task=None)
    kids = children[0]
    if operation == "add":  # add borrows phrases from other prompts; a batch of one has none
        assert kids == []
        return
    assert all(engine_verdict(kid, parent) is None for kid in kids)
    if operation == "delete":
        assert len(kids) == 3 and all(len(kid.split()) < len(parent.split()) for kid in kids)
    else:  # two phrases swap one way only; further tries repeat it, so one child
        assert kids == ["Answer: [X] Is this review good or bad? _"]


def test_add_borrows_phrases_from_sibling_prompts_of_the_task(packaged_tasks):
    task = packaged_tasks["rotten_tomatoes"]
    parent = task.prompts[1]  # "Movie review: [X] Sentiment: _"
    kids = PhraseEdit(operations=["add"], children=4).mutate([parent], rng=random.Random(3), task=task)[0]
    donors = donor_phrases(task.prompts)
    assert len(kids) == 4
    for kid in kids:
        assert engine_verdict(kid, parent) is None
        assert any(d in kid and d not in parent for d in donors)


def test_edit_options_are_checked():
    with pytest.raises(ConfigError, match="operations"):
        PhraseEdit(operations=["paraphrase"])
    with pytest.raises(ConfigError, match="whole_phrase"):
        PhraseEdit(whole_phrase=2.0)


def _words(text: str) -> set[str]:
    return {t.text.lower() for t in tokenize(normalize(text)) if t.kind == "word"}


def _wordy_sentences(text: str) -> list[str]:
    return [normalize("".join(t.text for t in s)) for s in sentences(tokenize(normalize(text))) if any(t.kind == "word" for t in s)]


def test_crossover_combines_two_prompts_of_the_same_task(packaged_tasks):
    children_seen = 0
    for name in ("rotten_tomatoes", "logiqa", "thucnews", "msra_ner"):
        task = packaged_tasks[name]
        parents = list(task.prompts)
        children = SentenceCrossover().mutate(parents, rng=random.Random(0), task=task)
        good = assert_valid_offspring(parents, children, at_least=0.5)
        assert good >= 1
        pool_words = set().union(*(_words(p) for p in task.prompts))
        for parent, kids in zip(parents, children):
            for kid in kids:
                children_seen += 1
                # a child keeps a sentence of its parent, is neither its parent nor another prompt of
                # the task, and holds no word that no prompt of the task has: its change is a recombination
                assert any(sentence in kid for sentence in _wordy_sentences(parent)), (parent, kid)
                assert kid not in task.prompts and normalize(kid) != normalize(parent)
                assert _words(kid) <= pool_words, (kid, _words(kid) - pool_words)
    assert children_seen >= 8


def test_crossover_one_point_child_mixes_both_parents():
    a, b = SENTIMENT_EN[0], SENTIMENT_EN[2]  # "Review: [X] Sentiment: _", "Is this review good or bad? [X] Answer: _"
    kids = SentenceCrossover(children=5, use_task_prompts=False).mutate([a, b], rng=random.Random(0))
    assert "Review: [X] Answer: _" in kids[0]
    assert "Is this review good or bad? [X] Sentiment: _" in kids[1]


def test_crossover_without_a_mate_gives_no_children_and_is_deterministic():
    lonely = SentenceCrossover().mutate(["Review: [X] Sentiment: _"], rng=random.Random(0))
    assert lonely == [[]]
    parents = list(EN_PROMPTS[:3]) * 2
    assert SentenceCrossover().mutate(parents, rng=random.Random(4)) == SentenceCrossover().mutate(parents, rng=random.Random(4))
