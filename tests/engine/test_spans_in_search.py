"""A search over marked prompts: children keep the fixed text, the marks stay in the run's files,
and a child that changed fixed text is counted under ``changed_fixed_span``."""

from __future__ import annotations

from tests import toy_plugin
from zp_evolve.spans import fixed_pieces

MARKED = ["Review: [X] {{Sentiment:}} _", "{{Tell me.}} [X] It was _ ."]


def test_a_search_keeps_fixed_spans_and_counts_children_that_changed_them(tmp_path, run_gps):
    raw = toy_plugin.toy_config(tmp_path, generations=3, top_k=2, children_per_parent=3)
    raw["tasks"]["names"] = ["toy_sentiment"]
    raw["tasks"]["prompts"] = {"toy_sentiment": MARKED}
    # append_word writes before " _": inside the editable span of the first prompt, into the
    # fixed text of the second. It knows nothing of spans; the engine checks its children.
    raw["mutators"] = [{"name": "append_word"}]
    toy_plugin.TextFitness.calls.clear()
    summary, run_dir = run_gps(raw=raw)

    events = list(run_dir.events())
    assert len({e["prompt"] for e in events}) > len(MARKED)  # the search bred and scored children
    fixed = {fixed_pieces(p) for p in MARKED}
    for event in events:
        assert fixed_pieces(event["prompt"]) in fixed, event["prompt"]  # every scored prompt kept a parent's fixed text
        assert "{{" in event["prompt"]  # the marks stay in the run's record
    rejected = summary["operators"]["append_word"]["rejected"]
    assert rejected.get("changed_fixed_span", 0) > 0
    top = summary["tasks"]["toy_sentiment"]["top_k"]
    assert all("{{" in entry["prompt"] for entry in top)  # a resumed or exported search keeps its spans
