"""t5_infill and ptm_paraphrase on tiny models built locally (zp_hf.tiny), through the real code paths.

The tiny models are random, so their words are noise; what these tests check is
the machinery: masks never touch slots, fills land where the masks were, every
child is a valid new template, one generate() pass serves a whole batch, and the
same seed gives the same children. tests/mutators/test_smollm2.py runs the real
SmolLM2 paraphraser.
"""

from __future__ import annotations

import random

import pytest

from tests.mutators.conftest import assert_valid_offspring, engine_verdict
from tests.mutators.prompts import EN_PROMPTS, SENTIMENT_EN, ZH_PROMPTS
from zp_evolve.errors import ConfigError
from zp_mutators.cleanup import CandidateFilter, clean_generation
from zp_mutators.segments import slots_of, tokenize
from zp_mutators.t5_infill import T5Infill, assemble, parse_fills


# -- t5_infill ------------------------------------------------------------------------
def test_partial_masks_never_cover_slots_and_respect_the_budget():
    op = T5Infill(model="unused", mode="partial", spans=3, span_words=3, max_fraction=0.5)
    rng = random.Random(0)
    for prompt in [*EN_PROMPTS, *ZH_PROMPTS]:
        masked, pieces = op.mask(prompt, rng)
        assert slots_of(tokenize(masked)) == slots_of(tokenize(prompt))
        words = sum(t.kind == "word" for t in tokenize(prompt))
        kept = sum(t.kind == "word" for t in tokenize("".join(pieces)))
        assert 1 <= words - kept <= max(1, words // 2)
        assert "".join(p + f"<extra_id_{i}>" for i, p in enumerate(pieces[:-1])) + pieces[-1] == masked


def test_full_mode_masks_all_text_around_the_slots():
    op = T5Infill(model="unused", mode="full")
    masked, pieces = op.mask("Is this review good or bad? [X] Answer: _", random.Random(0))
    assert masked == "<extra_id_0> [X] <extra_id_1> _"
    assert assemble(pieces, ["Was the critic happy?", "Reply:"]) == "Was the critic happy? [X] Reply: _"


def test_fills_are_parsed_per_sentinel_and_lose_stray_slots():
    generated = "<pad> <extra_id_0> How was [X] this<extra_id_1> _ verdict</s>"
    assert parse_fills(generated, 3) == ["How was this", "verdict", ""]


def test_t5_infill_on_a_tiny_t5_gives_valid_children_in_both_modes(tiny_t5):
    parents = [*EN_PROMPTS[:6], *ZH_PROMPTS[:2]]
    for mode in ("partial", "full"):
        # a random T5 fills with noise and often no word at all: keep those to test the machinery
        children = T5Infill(model=tiny_t5, mode=mode, spans=2, require_words=False).mutate(parents, rng=random.Random(0))
        for parent, kids in zip(parents, children):
            assert len(kids) == 1
            verdict = engine_verdict(kids[0], parent)
            assert verdict in (None, "duplicate")  # never a lost or extra slot
        assert_valid_offspring(parents, children, at_least=0.5)
    strict = T5Infill(model=tiny_t5, spans=2)
    for parent, kids in zip(parents, strict.mutate(parents, rng=random.Random(0))):
        assert all(engine_verdict(kid, parent) in (None, "duplicate") for kid in kids)
    assert strict.stats["no_words"] > 0  # the wordless fills were dropped, not handed out


def test_t5_infill_is_deterministic_and_beam_search_works(tiny_t5):
    parents = list(SENTIMENT_EN) * 2  # the engine repeats a parent once per child slot
    a = T5Infill(model=tiny_t5, spans=2, require_words=False).mutate(parents, rng=random.Random(3))
    b = T5Infill(model=tiny_t5, spans=2, require_words=False).mutate(parents, rng=random.Random(3))
    assert a == b
    for k in range(3):  # repeated entries of one parent get different children
        assert a[k] != a[k + 3] or engine_verdict(a[k][0], parents[k]) is not None
    beam = T5Infill(model=tiny_t5, decoding="beam", num_beams=2, require_words=False).mutate(parents[:3], rng=random.Random(3))
    assert all(engine_verdict(k[0], p) in (None, "duplicate") for p, k in zip(parents, beam))


def test_t5_infill_options_are_checked():
    with pytest.raises(ConfigError, match="mode"):
        T5Infill(model="x", mode="half")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_fraction"):
        T5Infill(model="x", max_fraction=0.0)


# -- ptm_paraphrase: cleaning and filtering ----------------------------------------------
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('Sure! Here is the rewritten prompt: "What is this review like? [X] Answer: _"\nI kept...', "What is this review like? [X] Answer: _"),
        ("1. Review: [X] Mood: _", "Review: [X] Mood: _"),
        ("**Rewritten:** [X] Overall it was _ .", "[X] Overall it was _ ."),
        ('"[X]", What is the attitude? _', '"[X]", What is the attitude? _'),
        ("Paraphrase: Does this text talk about sports?", "Does this text talk about sports?"),
    ],
)
def test_clean_generation_strips_chatter_quotes_and_numbering(raw, clean):
    assert clean_generation(raw) == clean


def test_candidate_filter_reasons():
    f = CandidateFilter()
    parent, fields = "Is this review good or bad? [X] Answer: _", ("X",)
    assert f.reason("Is the review positive or negative? [X] Answer: _", parent, fields) is None
    assert f.reason("is this review good or bad ? [X] answer: _", parent, fields) == "copy"
    assert f.reason("Is this review good? Answer: _", parent, fields) == "lost_slot"
    assert f.reason("Is [X] good? [X] Answer: _", parent, fields) == "lost_slot"
    assert f.reason("[X] _", parent, fields) == "length"
    assert f.reason("I'm sorry, I cannot rewrite [X] _", parent, fields) == "chatter"
    assert f.reason("Does the text mention [X]?", "Is this about sports?", None) == "lost_slot"
    assert f.reason("This review is great. [X] Answer: _", parent, fields) == "answered"
    assert f.reason("Is the critic pleased? [X] Reply: _", parent, fields) == "unrelated"
    assert CandidateFilter(min_overlap=0).reason("Is the critic pleased? [X] Reply: _", parent, fields) is None
    assert CandidateFilter(avoid=["What is this article about? [X] Answer: _"]).reason(
        "What is this article about? [X] Answer: _", parent, fields) == "copy"  # a few-shot example repeated
    assert f.keep("Is the review positive or not? [X] Reply: _", parent, fields)
    assert f.summary()["kept"] == 1


# -- ptm_paraphrase on a tiny causal LM --------------------------------------------------
def test_paraphrase_on_a_tiny_causal_lm(tiny_causal):
    from zp_mutators.paraphrase import PTMParaphrase

    parents = [*SENTIMENT_EN, ZH_PROMPTS[0]]
    # a random model writes noise: the overlap and answer checks rightly drop it, so the
    # machinery is tested with them off, and then once with them on
    lenient = dict(model=tiny_causal, candidates=2, max_new_tokens=8, drop_answers=False, min_overlap=0)
    op = PTMParaphrase(**lenient)
    children = op.mutate(parents, rng=random.Random(0))
    assert_valid_offspring(parents, children, at_least=0.75)
    stats = op.stats
    # round 1 rewrote whole prompts, round 2 sentences of the parents left without a child
    assert stats["generated"] >= len(parents) * 2
    assert stats["kept"] >= 3
    again = PTMParaphrase(**lenient).mutate(parents, rng=random.Random(0))
    assert again == children
    strict = PTMParaphrase(model=tiny_causal, candidates=2, max_new_tokens=8)
    strict.mutate(parents, rng=random.Random(0))
    assert strict.stats.get("unrelated", 0) + strict.stats.get("answered", 0) > 0


def test_paraphrase_requests_use_examples_and_the_chat_template(tiny_causal):
    from zp_mutators.paraphrase import PTMParaphrase

    plain = PTMParaphrase(model=tiny_causal, few_shot=2)._request(
        "Review: [X] Sentiment: _", {"en": "Rewrite.", "zh": "改写。"}, {"en": (("a [X] _", "b [X] _"),) * 2, "zh": ()}
    )
    assert plain.endswith("Original: Review: [X] Sentiment: _\nRewritten:")
    assert plain.count("Rewritten: b [X] _") == 2
    op = PTMParaphrase(model=tiny_causal, chat=True, few_shot=1)
    _, tokenizer = op._model()
    tokenizer.chat_template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}<assistant>"
    try:
        chat = op._request("Review: [X] Sentiment: _", {"en": "Rewrite.", "zh": ""}, {"en": (("a [X] _", "b [X] _"),), "zh": ()})
    finally:
        tokenizer.chat_template = None
    assert chat == "<system>Rewrite.\n<user>a [X] _\n<assistant>b [X] _\n<user>Review: [X] Sentiment: _\n<assistant>"


def test_paraphrase_options_are_checked():
    from zp_mutators.paraphrase import PTMParaphrase

    with pytest.raises(ConfigError, match="unit"):
        PTMParaphrase(unit="word")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="few_shot"):
        PTMParaphrase(few_shot=5)
