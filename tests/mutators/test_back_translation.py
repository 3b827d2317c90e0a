"""Back-translation with the real Apertium engine, slot protection, and clear errors."""

from __future__ import annotations

import random
import shutil

import pytest

from tests.mutators.conftest import assert_valid_offspring, engine_verdict
from tests.mutators.prompts import EN_PROMPTS, ZH_PROMPTS
from zp_evolve.errors import ConfigError, ModelError
from zp_mutators.apertium import ApertiumTranslator
from zp_mutators.back_translation import BackTranslation
from zp_mutators.languages import codes
from zp_mutators.protect import protect

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (scripts/setup.sh installs it)")


def test_protect_hides_every_slot_and_restores_it():
    hidden = protect('In the sentence: [X1], does the pronoun [X2] refer to [X3]? Answer: _.')
    assert "[" not in hidden.text and "_" not in hidden.text
    assert hidden.slots == ("[X1]", "[X2]", "[X3]", "_")
    moved = hidden.text.replace("Zpq3", "").replace("Answer:", "Answer: zpq3")  # a translator moved and lowercased it
    assert hidden.restore(moved) == "In the sentence: [X1], does the pronoun [X2] refer to [X3]? Answer: _ ."
    assert hidden.restore(hidden.text.replace("Zpq1", "")) is None  # lost
    assert hidden.restore(hidden.text + " Zpq0") is None  # repeated
    assert "[X2]" not in hidden.restore_partial(hidden.text.replace("Zpq1", ""))


def test_language_codes():
    assert codes("spa") == ("es", "spa")
    assert codes("en") == ("en", "eng")
    assert codes("zh") == ("zh", "zho")


@needs_apertium
def test_apertium_translates_a_batch_in_one_call_and_keeps_line_order():
    translator = ApertiumTranslator()
    assert translator.mode("en", "spa") == "eng-spa"
    assert translator.mode("glg", "eng") == "gl-en"
    lines = ["The movie was good.", "What is the topic of this news?", "Is this message spam?"]
    spanish = translator.translate(lines, "eng", "spa")
    assert len(spanish) == 3
    assert "película" in spanish[0]
    assert spanish[2].startswith("Es")  # "Es este mensaje spam?"


@needs_apertium
def test_a_batch_translates_each_line_as_if_alone():
    # with plain newlines, "... follows. [X] Title: _" changed how the next line was tagged
    lines = [protect(p).text for p in ("Write the title of the paper whose abstract follows. [X] Title: _", "[X] Answer type: _")]
    translator = ApertiumTranslator()
    assert translator.translate(lines, "eng", "spa") == [translator.translate([line], "eng", "spa")[0] for line in lines]


@needs_apertium
@pytest.mark.parametrize("pivot", ["spa", "cat", "glg", "epo"])
def test_slots_survive_every_pivot(pivot):
    parents = list(EN_PROMPTS)
    children = BackTranslation(pivots=[pivot], attempts=1).mutate(parents, rng=random.Random(0))
    verdicts = [engine_verdict(kids[0], parent) for parent, kids in zip(parents, children)]
    assert "lost_placeholder" not in verdicts and "lost_blank" not in verdicts and "extra_placeholder" not in verdicts
    # a round trip rewords most prompts (some come back unchanged: counted as duplicates)
    assert verdicts.count(None) >= len(parents) // 2


@needs_apertium
def test_back_translation_rewords_real_prompts(packaged_tasks):
    task = packaged_tasks["rotten_tomatoes"]
    parents = list(task.prompts)
    children = BackTranslation().mutate(parents, rng=random.Random(0), task=task)
    assert_valid_offspring(parents, children)
    assert children[1] == ["Film review: [X] Feeling: _"] or engine_verdict(children[1][0], parents[1]) is None


@needs_apertium
def test_chained_round_trips_and_several_children_are_deterministic():
    parents = list(EN_PROMPTS[:8])
    op = BackTranslation(round_trips=2, children=2, attempts=4)
    first = op.mutate(parents, rng=random.Random(1))
    again = BackTranslation(round_trips=2, children=2, attempts=4).mutate(parents, rng=random.Random(1))
    assert first == again
    assert_valid_offspring(parents, first)
    assert sum(len(kids) == 2 for kids in first) >= len(parents) // 2
    assert all(len(set(kids)) == len(kids) for kids in first)


@needs_apertium
def test_chinese_needs_an_engine_with_chinese():
    parents = list(ZH_PROMPTS)
    with pytest.raises(ModelError, match="no pair for Chinese.*unsupported: skip"):
        BackTranslation().mutate(parents, rng=random.Random(0))
    assert BackTranslation(unsupported="skip").mutate(parents, rng=random.Random(0)) == [[] for _ in parents]


def test_missing_apertium_says_how_to_install():
    op = BackTranslation(command="apertium-not-installed-here")
    with pytest.raises(ModelError, match="sudo apt-get install apertium apertium-eng-spa"):
        op.mutate(["Review: [X] Sentiment: _"], rng=random.Random(0))


@needs_apertium
def test_missing_pair_names_its_debian_package():
    op = BackTranslation(pivots=["spa", "isl"])
    with pytest.raises(ModelError, match="apt-get install apertium-isl-eng"):
        op.mutate(["Review: [X] Sentiment: _"], rng=random.Random(0))


def test_marian_without_a_hub_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    op = BackTranslation(engine="marian", model_template=str(tmp_path / "opus-mt-{src}-{tgt}"))
    with pytest.raises(ModelError, match="engine: apertium"):
        op.mutate(["Review: [X] Sentiment: _"], rng=random.Random(0))


def test_options_are_checked():
    with pytest.raises(ConfigError, match="round_trips"):
        BackTranslation(pivots=["spa"], round_trips=2)
    with pytest.raises(ConfigError, match="engine"):
        BackTranslation(engine="google")  # type: ignore[arg-type]


def test_marian_engine_runs_local_opus_mt_folders(tmp_path):
    """The real Marian code path on tiny random models: batched, seeded sampling, one child per parent.

    A random model cannot keep the slots' nonce words, so its children are the
    partial restorations that the engine then rejects (lost_placeholder) — the point
    here is that the engine loads opus-mt folders and runs end to end.
    """
    import warnings

    import torch

    from tests.mutators.tiny_marian import build_tiny_marian

    torch.set_num_threads(1)
    template = str(tmp_path / "opus-mt-{src}-{tgt}")
    parents = list(EN_PROMPTS[:4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MarianTokenizer recommends sacremoses
        for source, target in (("en", "es"), ("es", "en")):
            build_tiny_marian(tmp_path / f"opus-mt-{source}-{target}", source, target)
        op = BackTranslation(engine="marian", pivots=["spa"], model_template=template, sampling=True, attempts=1)
        children = op.mutate(parents, rng=random.Random(0))
        again = BackTranslation(engine="marian", pivots=["spa"], model_template=template, sampling=True, attempts=1)
        assert again.mutate(parents, rng=random.Random(0)) == children
    assert [len(kids) for kids in children] == [1] * len(parents)
    assert all(isinstance(kid, str) and kid for kids in children for kid in kids)
