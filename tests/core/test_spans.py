"""Fixed and editable spans: parsing, the canonical form, re-marking children, and that no mark reaches a model."""

from __future__ import annotations

import pytest

from zp_evolve.errors import DataError
from zp_evolve.prompts import assemble, normalize, render, template_problems
from zp_evolve.spans import Span, canonical_template, fixed_pieces, remark, split_spans, strip_marks
from zp_evolve.tasks import Task
from zp_gps.cache import cache_key
from zp_gps.offspring import admit_child

PARENT = "Review: [X] {{Is this review good or bad?}} Answer: _"


def test_a_marked_template_splits_into_fixed_and_editable_pieces():
    assert split_spans(PARENT) == (
        Span("Review: [X] ", False), Span("Is this review good or bad?", True), Span(" Answer: _", False),
    )
    assert strip_marks(PARENT) == "Review: [X] Is this review good or bad? Answer: _"
    assert fixed_pieces(PARENT) == ("Review: [X]", "Answer: _")
    # a template without marks is one editable piece, unchanged
    assert split_spans("Review: [X] Sentiment: _") == (Span("Review: [X] Sentiment: _", True),)
    assert strip_marks("Review: [X]  Sentiment: _") == "Review: [X]  Sentiment: _"


def test_the_canonical_form_moves_spaces_out_of_marks_and_merges_touching_spans():
    assert canonical_template("{{ Read it. }} Review: [X] {{a}}  {{b}} was it good? _") == "{{Read it.}} Review: [X] {{a b}} was it good? _"
    assert normalize("Review: [X]   {{ Is it good? }} _") == "Review: [X] {{Is it good?}} _"
    # an empty span is an insertion point; its text never doubles a space
    assert strip_marks("Review: [X] {{}} _") == "Review: [X] _"
    assert strip_marks("Re{{view}}: [X] _") == "Review: [X] _"


@pytest.mark.parametrize("template", [
    PARENT, "{{Read it.}} Review: [X] {{Tell me:}} was it good? _", "Review: [X] {{}} _", "{{}}Review: [X] _",
    "Re{{view}}: [X] _", "[X] _{{}}", "「[X]」{{这句评论的态度是什么?}}_。",
])
def test_a_copy_of_the_parent_remarks_to_the_parent(template):
    assert remark(strip_marks(template), template) == normalize(template)
    assert strip_marks(remark(strip_marks(template), template)) == strip_marks(template)


@pytest.mark.parametrize("child, expected", [
    ("Review: [X] Good or bad? Answer: _", "Review: [X] {{Good or bad?}} Answer: _"),
    ("Review: [X] Answer: _", "Review: [X] {{}}Answer: _"),  # the editable text deleted: the span stays
    ("Reviews: [X] Good? Answer: _", None),  # a fixed word changed
    ("Review: [X]Good? Answer: _", "Review: [X]{{Good?}} Answer: _"),  # spacing next to a slot joins no words
    ("Review: [X] Good? Answers: _", None),
    ("Hello Review: [X] Good? Answer: _", None),  # text added outside the editable span
    ("Review: [X] Good? _", None),  # fixed text deleted
    ("Review: [X] {{Good?}} Answer: _", None),  # a mutator may not place marks
])
def test_remark_accepts_only_children_that_keep_every_fixed_piece(child, expected):
    assert remark(child, PARENT) == expected


def test_a_new_word_may_not_be_glued_onto_a_fixed_one():
    parent = "Rate the review {{now}} please: [X] _"
    assert remark("Rate the review quickly please: [X] _", parent) == "Rate the review {{quickly}} please: [X] _"
    assert remark("Rate the reviewquickly please: [X] _", parent) is None
    assert remark("Rate the review please: [X] _", parent) == "Rate the review {{}}please: [X] _"
    assert remark("Rate the reviewplease: [X] _", parent) is None
    assert remark("Re{{view}}: [X] _".replace("{{view}}", "port"), "Re{{view}}: [X] _") == "Re{{port}}: [X] _"  # glued by design


def test_a_template_without_marks_accepts_any_child_without_marks():
    assert remark("Totally new [X] _", "Review: [X] Sentiment: _") == "Totally new [X] _"
    assert remark("New {{[X]}} _", "Review: [X] Sentiment: _") is None


def test_the_engine_rejects_a_changed_fixed_span_under_its_own_reason():
    seen = {normalize(PARENT)}
    assert admit_child("Review: [X] Good? Answer: _", PARENT, required=("X",), max_chars=400, seen=seen) == (
        None, "Review: [X] {{Good?}} Answer: _")
    assert admit_child("Critique: [X] Good? Answer: _", PARENT, required=("X",), max_chars=400, seen=seen)[0] == "changed_fixed_span"
    assert admit_child(strip_marks(PARENT), PARENT, required=("X",), max_chars=400, seen=seen)[0] == "duplicate"
    # the length limit counts what the model reads, not the marks
    assert admit_child("Review: [X] Good? Answer: _", PARENT, required=("X",), max_chars=27, seen=seen)[0] is None
    assert admit_child("Review: [X] Good? Answer: _", PARENT, required=("X",), max_chars=26, seen=seen)[0] == "too_long"


def test_broken_marks_are_template_problems_with_a_fix():
    assert "has '{{' without a closing '}}'" in "; ".join(template_problems("Review: {{[X] _", ["X"]))
    assert "without an opening" in "; ".join(template_problems("Review: [X]}} _", ["X"]))
    assert "nests" in "; ".join(template_problems("{{a {{b}} c}} [X] _", ["X"]))
    with pytest.raises(DataError, match="without a closing"):
        Task(name="t", type="SENTI", language="en", input_fields=("X",), labels=("a", "b"), verbalizers=("a", "b"),
             metric="auc", prompts=("Review: {{[X] _",))


def test_marks_never_reach_the_model_and_share_the_cache_key():
    assembled = assemble(PARENT, {"X": "A {{great}} film"}, candidates=("bad", "good"))
    assert assembled.prefix == "Options: bad, good. Review: A {{great}} film Is this review good or bad? Answer: "
    assert render(PARENT, {"X": "fine"}, answer="good") == "Review: fine Is this review good or bad? Answer: good"
    same = [cache_key(p, "t", "dev", "h", "m", "f") for p in (PARENT, strip_marks(PARENT), "Review: [X] {{Is this review}} good or bad? Answer: _")]
    assert len(set(same)) == 1
