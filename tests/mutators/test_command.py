"""``zp-evolve mutate`` through the real CLI, in a subprocess."""

from __future__ import annotations

import json


def test_mutate_shows_children_of_a_packaged_task_with_the_engine_verdicts(cli):
    result = cli("mutate", "--task", "rotten_tomatoes", "-m", "edit", "-m", "{name: crossover, children: 1}",
                 "--children", "2", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["operator"] for r in rows} == {"edit", "crossover"}
    assert {r["parent"] for r in rows} == {
        '"[X]" What is the attitude of this movie review? _.', "Movie review: [X] Sentiment: _",
        "[X] All in all, it was _.", "What is the sentiment of the following movie review? _. Text: [X]",
    }
    assert all(r["verdict"] == "accepted" for r in rows if r["operator"] == "edit")
    assert all("[X]" in r["child"] and r["child"] != r["parent"] for r in rows)


def test_mutate_on_given_prompts_and_its_errors(cli):
    result = cli("mutate", "-p", "Premise: [X1] Hypothesis: [X2] Entailed: _", "-p", "[X1] ? _ , [X2]", "-m", "edit")
    assert result.returncode == 0, result.stderr
    assert "== edit on prompts" in result.stdout and "verdicts: {'accepted': 2}" in result.stdout
    missing = cli("mutate", "-m", "edit")
    assert missing.returncode == 2 and "--task NAME or at least one --prompt" in missing.stderr
    broken = cli("mutate", "-p", "Review: [X] Sentiment:", "-m", "edit")
    assert broken.returncode == 2 and "answer blank" in broken.stderr
    unknown = cli("mutate", "-p", "Review: [X] Sentiment: _", "-m", "{name: edit, operations: [paraphrase]}")
    assert unknown.returncode == 2 and "mutators.0.operations" in unknown.stderr
