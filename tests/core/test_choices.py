"""A prompt's own answer choices (``template ||| a ||| b``): splitting, joining, normalising,
validation, and what a task answers with."""

from __future__ import annotations

import pytest

from zp_evolve.errors import DataError
from zp_evolve.prompts import (
    assemble, choice_problems, join_choices, normalize, render, split_choices, template_of, template_problems,
    template_wording,
)
from zp_evolve.tasks import Task

PROMPT = "[X1] Question: [X2] True or False? _ ||| True ||| False"


def _task(**changes) -> Task:
    fields = dict(
        name="t", type="NLI", language="en", input_fields=("X1", "X2"), labels=("yes", "no"),
        verbalizers=("yes", "no"), metric="accuracy", prompts=(PROMPT, "[X1] ? _ , [X2]"),
    )
    return Task(**{**fields, **changes})


def test_split_and_join_are_inverse_and_plain_prompts_pass_through():
    assert split_choices(PROMPT) == ("[X1] Question: [X2] True or False? _", ("True", "False"))
    assert split_choices("[X] It was _ .") == ("[X] It was _ .", ())
    assert split_choices("[X] _|||a  b|||  c ") == ("[X] _", ("a b", "c"))  # white space inside a choice collapses
    assert join_choices(*split_choices(PROMPT)) == PROMPT
    assert join_choices("[X] _ ", ()) == "[X] _ "  # no choices: the template, untouched
    assert template_of(PROMPT) == "[X1] Question: [X2] True or False? _"


def test_normalize_keeps_choices_and_marks_canonical():
    assert normalize("  [X]   {{ Good? }} _|||  yes |||no ") == "[X] {{Good?}} _ ||| yes ||| no"
    assert normalize("[X]  _") == "[X] _"
    assert normalize(PROMPT) != normalize(template_of(PROMPT))  # other answer words: another prompt


def test_choice_problems():
    assert choice_problems(()) == [] and choice_problems(("a", "b"), ("x", "y")) == []
    assert "no fixed labels" in choice_problems(("a", "b"), ())[0]
    assert any("empty answer choice" in p for p in choice_problems(("a", "")))
    assert any("repeats answer choice(s) 'a'" in p for p in choice_problems(("a", "a")))
    assert any("placeholder or the blank" in p for p in choice_problems(("[X]", "_")))
    assert any("span marks" in p for p in choice_problems(("{{a}}", "b")))
    assert choice_problems(("a", "b", "c"), ("x", "y")) == [
        "has 3 answer choice(s) for the task's 2 labels ('x', 'y', in this order)"
    ]
    assert choice_problems(("a", "b", "c")) == []  # labels unknown: the count is not checked


def test_template_problems_read_the_template_part_and_the_choices():
    assert template_problems(PROMPT, ["X1", "X2"], labels=("yes", "no")) == []
    assert template_problems("[X1] [X2] ||| a _ ||| b", ["X1", "X2"]) == [
        "must contain the answer blank '_' exactly once (found 0)",
        "has a placeholder or the blank in answer choice(s) 'a _'",
    ]
    assert "3 answer choice(s)" in template_problems(PROMPT + " ||| Maybe", ["X1", "X2"], labels=("yes", "no"))[0]


def test_a_task_answers_with_a_prompts_choices_else_its_verbalizers():
    task = _task()
    assert task.fixed_labels == ("yes", "no")
    assert task.answer_words(PROMPT) == ("True", "False")
    assert task.answer_words("[X1] ? _ , [X2]") == ("yes", "no")
    with pytest.raises(DataError, match=r"task 't': prompt .* has 3 answer choice\(s\) for the task's 2 labels"):
        _task(prompts=(PROMPT + " ||| Maybe",))
    with pytest.raises(DataError, match="no fixed labels"):
        _task(labels=(), verbalizers=())  # a generation task takes no choices
    with pytest.raises(DataError, match="no fixed labels"):
        _task(labels=(), verbalizers=(), multiple_choice=True)


def test_models_never_read_the_choices_as_text():
    inputs = {"X1": "Sky is blue.", "X2": "Is it?"}
    assert render(PROMPT, inputs, answer="True") == "Sky is blue. Question: Is it? True or False? True"
    prompt = assemble(PROMPT, inputs, candidates=("True", "False"), language="en")
    assert "|||" not in prompt.prefix + prompt.suffix and prompt.prefix.startswith("Options: True, False. ")
    assert template_wording(PROMPT) == "Question: True or False?"
