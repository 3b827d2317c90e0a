"""GPS end to end over prompts with and without answer choices: a tiny causal LM scores a
mixed generation 0, ``answer_choices`` and ``edit`` breed it, and a run cut after its first
generation resumes to the summary of an uninterrupted one, choices kept everywhere (events,
summary, export, predict)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import cut_search, gps_search
from zp_evolve.ensemble import normalised_label_scores
from zp_evolve.prompts import split_choices

G0 = [
    "Review: [X] {{Did the critic like the film?}} _ ||| no ||| yes",
    "Movie review: [X] Sentiment: _",
    "[X] All in all, the film was _ . ||| awful ||| great",
]


def _config(tmp_path) -> dict:
    return {
        "name": "choices_e2e",
        "seed": 2,
        "output_dir": str(tmp_path),
        "tasks": {"providers": [{"name": "packaged"}], "names": ["rotten_tomatoes"], "prompts": {"rotten_tomatoes": G0},
                  "dev": {"size": 8, "per_label": 4}, "test": {"max_examples": 8}},
        "model": {"backend": "hf_causal", "name": "", "batch_size": 16},
        "fitness": {"name": "dev_metric", "metric": "accuracy"},
        "search": {"generations": 2, "top_k": 3, "children_per_parent": 2},
        "selection": {"answer": "best"},  # predict below answers with the best prompt
        "mutators": [{"name": "answer_choices", "sets": [["bad", "good"], ["false", "true"]]}, {"name": "edit"}],
        "executor": {"name": "serial"},
    }


def test_a_mixed_generation_0_searches_resumes_and_exports_its_choices(tmp_path, tiny_causal, catalog, cli):
    raw = _config(tmp_path)
    raw["model"]["name"] = tiny_causal
    whole_search = gps_search(tmp_path / "whole", raw)
    whole = whole_search.run()

    cut_search(tmp_path / "cut", raw, 1)
    resumed = gps_search(tmp_path / "cut", raw).run(resume=True)
    assert resumed == whole

    events = [e for e in whole_search.run_dir.events() if e["split"] == "dev"]
    assert {e["prompt"] for e in events if e["generation"] == 0} == set(G0)
    children = [e for e in events if e["generation"] > 0]
    assert {e["operator"] for e in children} == {"answer_choices", "edit"}
    for child in children:
        template, choices = split_choices(child["prompt"])
        parent_template, parent_choices = split_choices(child["parent"])
        if child["operator"] == "edit":
            assert choices == parent_choices  # reworded templates inherit the answer words
        else:
            assert template == parent_template and choices != parent_choices
            assert choices in {("bad", "good"), ("false", "true"), ("no", "yes"), ("awful", "great"), ()}
    assert any(split_choices(e["prompt"])[1] and e["operator"] == "answer_choices" for e in children)

    task = whole["tasks"]["rotten_tomatoes"]
    assert {m["prompt"] for m in task["manual"]} == set(G0)
    top = [entry["prompt"] for entry in task["top_k"]]
    assert any("|||" in p for p in top)
    assert json.loads((tmp_path / "whole" / "summary.json").read_text())["tasks"]["rotten_tomatoes"]["top_k"] == task["top_k"]

    exported = cli("export", str(tmp_path / "whole"), "--format", "json")
    assert exported.returncode == 0, exported.stderr
    prompts = json.loads(exported.stdout)["tasks"]["rotten_tomatoes"]["prompts"]
    assert [p["prompt"] for p in prompts] == top
    assert all(split_choices(p["text"])[1] == split_choices(p["prompt"])[1] for p in prompts)  # the text without marks too
    text = cli("export", str(tmp_path / "whole")).stdout
    assert all(json.dumps(p, ensure_ascii=False) in text for p in top) and "answer words" in text

    # predict answers with the best prompt's own choices, as the search scored it
    best = task["best"]
    assert "|||" in best["prompt"]
    searched = whole_search.eval_tasks["rotten_tomatoes"]
    test = searched.test  # the rows behind the summary's test score
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({**e.inputs, "label": e.target}) + "\n" for e in test))
    out = tmp_path / "out.jsonl"
    done = cli("predict", str(tmp_path / "whole"), "--input", str(rows), "--output", str(out), "--score", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert f"score: accuracy {best['test']:.4f} on {len(test)} rows" in done.stderr
    from zp_hf.formatting import PredictItem

    backend = whole_search.plugins.build("backends", raw["model"])
    scores = backend.predict([PredictItem(searched.task, best["prompt"], e) for e in test])
    expected = [normalised_label_scores(p) for p in scores]
    predicted = [json.loads(line)["scores"] for line in out.read_text().splitlines()]
    assert predicted == [pytest.approx(p) for p in expected]
