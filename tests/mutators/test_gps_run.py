"""A short, real GPS run with every operator of this plugin, scored by the toy fitness.

The toy fitness (tests/toy_plugin.py) is a pure function of the prompt text, so
the run is cheap; the operators are the real ones: Apertium back-translation,
GrIPS edits, crossover, T5 infilling on a tiny local T5 and the paraphraser on a
tiny local causal LM. The engine's per-operator statistics must show each one.
"""

from __future__ import annotations

import shutil

import pytest

from tests import toy_plugin

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


def _run(run_gps, tmp_path, name: str, mutators: list[dict]) -> tuple[dict, list[dict]]:
    raw = toy_plugin.toy_config(tmp_path, generations=2, top_k=2, children_per_parent=5)
    raw["mutators"] = mutators
    raw["seed"] = 0  # operators are drawn per child slot; with seed 0 each of the five gets slots
    summary, run_dir = run_gps(name, raw=raw)
    return summary, list(run_dir.events())


def test_gps_run_with_every_operator(tmp_path, run_gps):
    import torch

    from zp_hf.tiny import tiny_model

    torch.set_num_threads(1)
    # The tiny models are random: their quality filters (words in fills, overlap with the
    # original) would drop nearly everything, so they are off here; test_model_operators checks them.
    mutators = [
        {"name": "back_translation", "pivots": ["spa", "cat"]},
        {"name": "edit"},
        {"name": "crossover"},
        {"name": "t5_infill", "model": tiny_model("t5"), "spans": 2, "require_words": False},
        {"name": "ptm_paraphrase", "model": tiny_model("causal"), "candidates": 2, "max_new_tokens": 8,
         "drop_answers": False, "min_overlap": 0},
    ]
    summary, events = _run(run_gps, tmp_path, "run", mutators)
    stats = {k: v for k, v in summary["operators"].items() if k != "manual"}
    assert set(stats) == {m["name"] for m in mutators}
    for name, row in stats.items():
        assert row["proposed"] > 0, name
        assert row["accepted"] > 0, name
        # slots are protected by every operator: nothing is lost on the way
        assert not {"lost_placeholder", "extra_placeholder", "lost_blank"} & set(row["rejected"]), (name, row)
    children = [e for e in events if e["split"] == "dev" and e["generation"] > 0]
    assert {e["operator"] for e in children} == set(stats)
    # the offspring improved on the handcrafted prompts: the best prompt of every task is a child
    # (the hall of fame holds G0 too, so a search that bred nothing better would keep a manual prompt)
    for task in summary["tasks"].values():
        assert task["best"]["operator"] != "manual" and task["best"]["generation"] > 0, task["best"]
        assert task["best"]["dev"] > max(m["dev"] for m in task["manual"])

    again, _ = _run(run_gps, tmp_path, "again", mutators)
    assert again["operators"] == summary["operators"]
    assert {k: v["top_k"] for k, v in again["tasks"].items()} == {k: v["top_k"] for k, v in summary["tasks"].items()}
