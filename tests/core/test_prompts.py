from __future__ import annotations

import pytest

from zp_evolve.errors import DataError
from zp_evolve.prompts import assemble, blank_count, placeholders, render, template_problems


def test_placeholders_and_blank_detection():
    assert placeholders("Corpus: [X1] Question: [X2] Answer: _") == ["X1", "X2"]
    assert blank_count("What is the attitude of this car review ?_ [X]") == 1
    assert blank_count("my_variable [X] __ _") == 1
    assert blank_count("“[X]” 这句汽车评论的态度是什么? _。") == 1


def test_render_fills_inputs_and_never_treats_input_underscores_as_the_blank():
    text = render("Review: [X] Sentiment: _", {"X": "a snake_case _ mess"}, answer="good")
    assert text == "Review: a snake_case _ mess Sentiment: good"


def test_render_requires_every_placeholder():
    with pytest.raises(DataError, match=r"lacks placeholder\(s\) \[X2\]"):
        render("[X1] _", {"X1": "a", "X2": "b"})


def test_template_problems():
    assert template_problems("[X] _", ["X"]) == []
    assert "lacks placeholder(s) [X2]" in template_problems("[X1] _", ["X1", "X2"])[0]
    assert any("exactly once" in p for p in template_problems("[X] no blank", ["X"]))


def test_assemble_puts_verbalizers_first_and_splits_at_the_blank():
    cloze = assemble("[X] All in all, it was _ .", {"X": "Great fun."}, candidates=["good", "bad"], language="en")
    assert cloze.prefix == "Options: good, bad. Great fun. All in all, it was "
    assert cloze.suffix == " ."
    assert not cloze.is_cloze  # only punctuation after the blank
    prefix = assemble("What is the topic? _ News: [X]", {"X": "Stocks fell."}, candidates=["sport"], use_verbalizers=False)
    assert prefix.prefix == "What is the topic? " and prefix.suffix == " News: Stocks fell."
    assert prefix.is_cloze
    zh = assemble("“[X]” 这句评论的态度是什么? _。", {"X": "很好"}, candidates=["积极", "消极"], language="zh")
    assert zh.prefix.startswith("选项：积极，消极。“很好”")
