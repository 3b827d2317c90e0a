"""The handcrafted prompt library (paper Tables 9-17)."""

from __future__ import annotations

import pytest

from zp_evolve.errors import DataError
from zp_evolve.prompts import BLANK, template_problems

from zp_datasets import templates


def test_every_template_is_valid_and_in_its_language():
    for (task_type, language, count), prompts in templates._T.items():
        fields = ("X",) if count == 1 else ("X1", "X2", "X3")[:count]
        filled = templates.prompts_for(task_type, language, fields, topic="评论" if language == "zh" else "review")
        assert len(filled) >= 3
        for prompt in filled:
            assert not template_problems(prompt, fields), (task_type, prompt)
            assert ("{" not in prompt) and ("}" not in prompt)
            if language == "zh":
                assert any("\u4e00" <= c <= "\u9fff" for c in prompt)
        # Both of the paper's styles: a cloze prompt (text after the blank) and a prefix one.
        cloze = [any(c.isalnum() for c in BLANK.split(p, maxsplit=1)[1]) for p in filled]
        assert any(cloze) and not all(cloze), (task_type, language)


def test_generic_prompts_carry_a_sanitised_instruction():
    prompts = templates.prompts_for("CODE", "en", ("X",), instruction="Fill the _ in [X] with a number.")
    assert prompts[0].startswith("Fill the __ in X with a number.\n")
    assert all(not template_problems(p, ("X",)) for p in prompts)
    assert templates.sanitize_instruction("x" * 301) == ""


def test_missing_pair_templates_say_so():
    with pytest.raises(DataError, match="give the task its own prompts"):
        templates.prompts_for("CODE", "en", ("X1", "X2"))
