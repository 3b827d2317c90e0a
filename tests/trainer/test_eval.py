"""Zero-shot evaluation of a trained tiny T5 on held-out real tasks, through the backends."""

from __future__ import annotations

import json

import pytest

from zp_hf.placement import placement

from tests.trainer.conftest import SEEN_TYPE_TASK, TRAIN_TASKS, UNSEEN_TASK, gps_on_checkpoint


def _eval_data(checkpoint, mode: str, embedder: str, names=(UNSEEN_TASK, SEEN_TYPE_TASK)) -> dict:
    return {
        "job": "eval",
        "name": f"eval-{mode}",
        "model": {"backend": "hf_seq2seq", "name": str(checkpoint), "batch_size": 16},
        "tasks": {"names": list(names), "max_examples": 12},
        "prompts": "first",
        "soft_prompts": {"mode": mode, "classifier": {"embedder": embedder, "per_task": 12}},
    }


@pytest.mark.parametrize("mode", ["none", "weighted_all", "weighted_sample", "top1", "random"])
def test_every_soft_prompt_init_mode_runs_on_unseen_tasks(mode, trained_t5, tiny_causal, tmp_path, monkeypatch):
    import torch

    from zp_trainer import evaluate
    from zp_trainer.jobs import EvalJob

    built = {}
    original = evaluate.SoftPromptPlanner.__init__

    def keep(self, backend, *args, **kwargs):  # look at the table the backend scores with
        original(self, backend, *args, **kwargs)
        built["planner"], built["backend"] = self, backend

    monkeypatch.setattr(evaluate.SoftPromptPlanner, "__init__", keep)
    # The task classifier reads sentence embeddings; a tiny local encoder keeps the test offline and fast.
    summary = EvalJob(progress=False).run(_eval_data(trained_t5 / "checkpoint", mode, tiny_causal), tmp_path / "eval")
    tasks = summary["tasks"]
    assert set(tasks) == {UNSEEN_TASK, SEEN_TYPE_TASK}
    assert tasks[UNSEEN_TASK]["seen_type"] is False and tasks[SEEN_TYPE_TASK]["seen_type"] is True
    for row in tasks.values():
        assert 0.0 <= row["score"] <= 1.0 and row["n"] == 12 and row["soft_prompt"] == mode
    assert summary["mean"] == pytest.approx((tasks[UNSEEN_TASK]["score"] + tasks[SEEN_TYPE_TASK]["score"]) / 2)
    assert summary["unseen_mean"] == tasks[UNSEEN_TASK]["score"]
    table = built["backend"].soft_prompts
    trained = torch.stack([table.vectors(t) for t in TRAIN_TASKS])
    added = [t for t in table.tasks if t not in TRAIN_TASKS]
    if mode in ("none", "random"):
        assert added == []  # the backend's unseen policy gives nothing, or a seeded random prompt
        assert built["backend"].scorer.unseen == ("none" if mode == "none" else "random")
    elif mode == "weighted_all":
        assert added == [UNSEEN_TASK, SEEN_TYPE_TASK]
        classifier = built["planner"].classifier
        assert classifier.tasks == sorted(TRAIN_TASKS)
        weights = torch.tensor(classifier.probabilities(_test_examples(UNSEEN_TASK))).mean(dim=0)
        order = [TRAIN_TASKS.index(t) for t in classifier.tasks]
        expected = torch.einsum("k,knh->nh", weights, trained[order])
        assert torch.allclose(table.vectors(UNSEEN_TASK), expected, atol=1e-5)
    else:
        per_example = [table.vectors(f"{UNSEEN_TASK}#{i}") for i in range(12)]
        assert len(added) == 24
        classifier = built["planner"].classifier
        order = [TRAIN_TASKS.index(t) for t in classifier.tasks]
        probs = torch.tensor(classifier.probabilities(_test_examples(UNSEEN_TASK)))
        if mode == "top1":  # each example gets the trained prompt of its most likely training task
            assert all(torch.equal(p, trained[order][int(k)]) for p, k in zip(per_example, probs.argmax(dim=1)))
        else:  # weighted_sample: each example's own convex combination of the trained prompts (eq. 3)
            assert torch.allclose(probs.sum(dim=1), torch.ones(len(probs)), atol=1e-5) and bool((probs >= 0).all())
            expected = torch.einsum("xk,knh->xnh", probs, trained[order])
            assert all(torch.allclose(p, e, atol=1e-5) for p, e in zip(per_example, expected))
            assert not all(torch.equal(per_example[0], p) for p in per_example[1:])
    assert (tmp_path / "eval" / "results.md").read_text().count("|") > 20
    assert "MEAN_UNSEEN" in (tmp_path / "eval" / "results.csv").read_text()


def _test_examples(name):
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sampling import sample_test

    catalog = TaskCatalog(load_plugins(), [{"name": "packaged"}])
    return sample_test(catalog.get(name), catalog.examples(name, "test"), 0, 12)


def test_train_eval_through_the_cli_and_resume(tiny_t5, data_sources, tmp_path, cli):
    import yaml

    from tests.trainer.conftest import train_data

    data = train_data(tiny_t5, **{"optim.steps": 3})
    data.update(job="train_eval", name="te")
    data["eval"] = {"tasks": {"names": [UNSEEN_TASK], "max_examples": 8}, "prompts": "all", "soft_prompts": {"mode": "random"}}
    config = tmp_path / "te.yaml"
    config.write_text(yaml.safe_dump(data))
    result = cli("train", str(config), "--run-dir", str(tmp_path / "run"), "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["job"] == "train_eval" and summary["name"] == "te"
    row = summary["tasks"][UNSEEN_TASK]
    assert set(row) >= {"type", "language", "metric", "score", "n", "seen_type"}
    assert row["metric"] == "auc" and len(row["prompt_scores"]) >= 3 and row["seen_type"] is False
    assert summary["train"]["steps"] == 3 and summary["train"]["tasks"] == TRAIN_TASKS
    assert placement(summary["backend"]["use_verbalizers"]) == "before" and summary["backend"]["soft_prompts"] is True
    again = cli("resume", str(tmp_path / "run"), "--no-progress")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["mean"] == summary["mean"]


def test_gps_searches_prompts_for_the_trained_checkpoint(trained_t5, tmp_path, cli):
    best = gps_on_checkpoint(cli, tmp_path, "hf_seq2seq", trained_t5 / "checkpoint")["best"]
    assert 0.0 <= best["dev"] <= 1.0 and best["prompt"]
