"""``zp-evolve predict`` and ``zp-evolve export`` on a real search with a tiny local model.

A GPS run on real packaged tasks (rotten_tomatoes: classification; ner_finance:
generation, ROUGE-1) is made once; predict, run as a user would (the CLI in a subprocess),
must reproduce the summary's test score of the best prompt on the very rows that
score came from.
"""

from __future__ import annotations

import csv
import json
import math

import pytest
import yaml

from zp_evolve.catalog import TaskCatalog
from zp_evolve.ensemble import ensemble_label_scores, normalised_label_scores
from zp_evolve.plugins import load_plugins
from zp_evolve.rundir import RunDirectory
from zp_evolve.sampling import DevRule
from zp_evolve.spans import strip_marks
from zp_evolve.tasks import Example
from zp_gps.config import validate
from zp_gps.search import GeneticPromptSearch

TASKS = ["rotten_tomatoes", "abstract2title"]


@pytest.fixture(scope="module")
def search(tmp_path_factory, tiny_causal, catalog):
    """A finished search (marked G0 prompts for rotten_tomatoes) and its test rows as files."""
    root = tmp_path_factory.mktemp("predict")
    raw = {
        "name": "predict_e2e",
        "seed": 2,
        "output_dir": str(root),
        "tasks": {
            "providers": [{"name": "packaged"}], "names": TASKS, "dev": {"size": 8, "per_label": 4},
            "test": {"max_examples": 24},
            "prompts": {"rotten_tomatoes": ["Review: [X] {{Is this review good or bad?}} _", "[X] {{All in all, it was}} _ .",
                                            "Movie review: [X] {{Sentiment:}} _"]},
        },
        "model": {"backend": "hf_causal", "name": tiny_causal, "max_new_tokens": 6},
        "fitness": {"name": "dev_metric"},
        "selection": {"answer": "best"},  # the best prompt's test score is what predict reproduces
        "search": {"generations": 1, "top_k": 3, "children_per_parent": 2},
        "mutators": [{"name": "edit"}],
    }
    plugins = load_plugins()
    config = validate(raw, plugins)
    run_dir = RunDirectory(root / "run")
    summary = GeneticPromptSearch(config, raw, run_dir, plugins, progress=False, echo=lambda s: None).run()
    rule = DevRule(config.tasks.dev.size, config.tasks.dev.per_label, config.tasks.dev.max_labels_for_fixed_size)
    files = {}
    for name in TASKS:
        test = catalog.eval_task(name, config.seed, rule, config.tasks.test.max_examples).test
        path = root / f"{name}.jsonl"
        path.write_text("".join(json.dumps({**e.inputs, "label": e.target}) + "\n" for e in test))
        files[name] = (path, test)
    return run_dir.path, summary, files


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_predict_reproduces_the_summary_test_score_of_the_best_prompt(search, cli, tmp_path):
    from zp_hf.fitness import metric_function

    run, summary, files = search
    for name in TASKS:
        path, test = files[name]
        out = tmp_path / f"{name}.out.jsonl"
        done = cli("predict", str(run), "--task", name, "--input", str(path), "--output", str(out), "--score", "--batch-size", "5")
        assert done.returncode == 0, done.stderr
        rows = _rows(out)
        assert len(rows) == len(test)
        best = summary["tasks"][name]["best"]
        assert all(r["prompts"] == [best["prompt"]] for r in rows)
        assert [r["source"] for r in rows] == [f"{path}:{i}" for i in range(1, len(test) + 1)]
        metric = metric_function(summary["tasks"][name]["metric"], load_plugins()["metrics"])
        predictions = [r["scores"] if "scores" in r else r["prediction"] for r in rows]
        if name == "rotten_tomatoes":  # one prompt: its scores are log-probabilities over the labels
            assert all(math.fsum(math.exp(v) for v in r["scores"].values()) == pytest.approx(1.0) for r in rows)
        else:
            # a random tiny model's titles share no word with the real ones (ROUGE-1 0 both ways):
            # the texts themselves must be what the fitness' one big batch generated
            from zp_hf.formatting import PredictItem

            task = TaskCatalog(load_plugins(), [{"name": "packaged"}]).get(name)
            backend = load_plugins().build("backends", yaml.safe_load((run / "config.yaml").read_text())["model"])
            assert [r["prediction"] for r in rows] == backend.predict([PredictItem(task, best["prompt"], e) for e in test])
            assert all("scores" not in r for r in rows) and any(r["prediction"] for r in rows)
        assert best["test"] > 0 and "{{" in best["prompt"] or name != "rotten_tomatoes"  # a real score, a marked prompt
        assert metric(predictions, [r["target"] for r in rows]) == pytest.approx(best["test"], abs=1e-9)
        assert f"score: {summary['tasks'][name]['metric']} {best['test']:.4f} on {len(test)} rows" in done.stderr


def test_csv_input_and_the_top_k_ensemble(search, cli, tmp_path):
    run, summary, files = search
    _, test = files["rotten_tomatoes"]
    source = tmp_path / "reviews.csv"
    with open(source, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["review"])  # no label column: rows to predict usually have none
        writer.writerows([[e.inputs["X"]] for e in test[:7]])
    out = tmp_path / "top2.jsonl"
    done = cli("predict", str(run), "--task", "rotten_tomatoes", "--input", str(source), "--column", "X=review",
               "--top", "2", "--output", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    rows = _rows(out)
    top = [e["prompt"] for e in summary["tasks"]["rotten_tomatoes"]["top_k"][:2]]
    assert len(rows) == 7 and all(r["prompts"] == top for r in rows)
    for row in rows:
        assert set(row["scores"]) == {"rotten", "fresh"} and "target" not in row
        assert row["prediction"] == max(row["scores"], key=row["scores"].get)
    # the ensemble is the mean of each prompt's normalised scores, checked against the backend per prompt
    from zp_hf.formatting import PredictItem

    plugins = load_plugins()
    task = TaskCatalog(plugins, [{"name": "packaged"}]).get("rotten_tomatoes")
    backend = plugins.build("backends", yaml.safe_load((run / "config.yaml").read_text())["model"])
    each = backend.predict([PredictItem(task, prompt, Example({"X": test[0].inputs["X"]}, "")) for prompt in top])
    assert rows[0]["scores"] == pytest.approx(ensemble_label_scores(each), abs=1e-5)
    assert rows[0]["scores"] != pytest.approx(normalised_label_scores(each[0]), abs=1e-5)  # both prompts count


def test_a_bad_row_fails_with_its_file_and_line_before_the_model_loads(search, cli, tmp_path):
    run, _, files = search
    path, test = files["rotten_tomatoes"]
    bad = tmp_path / "bad.jsonl"
    lines = path.read_text().splitlines()
    lines[3] = json.dumps({"X": "fine text", "label": "meh"})
    lines[5] = json.dumps({"X": "", "label": "fresh"})
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "bad.out.jsonl"
    done = cli("predict", str(run), "--task", "rotten_tomatoes", "--input", str(bad), "--output", str(out))
    assert done.returncode == 2
    assert f"{bad}:4: unknown label: 'meh'" in done.stderr and "--on-bad-rows skip" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    skipped = cli("predict", str(run), "--task", "rotten_tomatoes", "--input", str(bad), "--output", str(out),
                  "--on-bad-rows", "skip", "--no-progress")
    assert skipped.returncode == 0, skipped.stderr
    assert len(_rows(out)) == len(test) - 2


def test_predict_and_export_say_what_to_fix(search, cli, tmp_path):
    run, _, files = search
    path, _ = files["rotten_tomatoes"]
    several = cli("predict", str(run), "--input", str(path))
    assert several.returncode == 2 and "pick one with --task" in several.stderr
    top = cli("predict", str(run), "--task", "rotten_tomatoes", "--input", str(path), "--top", "9")
    assert top.returncode == 2 and "--top must be between 1 and 3" in top.stderr
    setting = cli("predict", str(run), "--task", "rotten_tomatoes", "--input", str(path), "--set", "seed=3")
    assert setting.returncode == 2 and "model options only" in setting.stderr
    missing = cli("export", str(tmp_path))
    assert missing.returncode == 2 and "not a run directory" in missing.stderr


def test_export_gives_a_prompts_block_and_json_with_scores(search, cli, tmp_path):
    run, summary, _ = search
    done = cli("export", str(run))
    assert done.returncode == 0, done.stderr
    block = yaml.safe_load(done.stdout)["prompts"]
    for name in TASKS:
        assert block[name] == [e["prompt"] for e in summary["tasks"][name]["top_k"]]
    best = summary["tasks"]["rotten_tomatoes"]["best"]
    assert f"# dev {best['dev']:.4f}, test {best['test']:.4f}" in done.stdout
    # one task: a task card's prompts: list, which a search accepts as its G0
    card = yaml.safe_load(cli("export", str(run), "--task", "rotten_tomatoes").stdout)["prompts"]
    assert card == [e["prompt"] for e in summary["tasks"]["rotten_tomatoes"]["top_k"]]
    raw = yaml.safe_load((run / "config.yaml").read_text())
    raw["tasks"]["prompts"] = {"rotten_tomatoes": card}
    validate(raw, load_plugins())
    out = tmp_path / "export.json"
    assert cli("export", str(run), "--format", "json", "--strip-marks", "--output", str(out)).returncode == 0
    data = json.loads(out.read_text())
    entry = data["tasks"]["rotten_tomatoes"]["prompts"][0]
    assert entry["prompt"] == entry["text"] == strip_marks(best["prompt"]) and "{{" not in entry["text"]
    assert entry["dev"] == pytest.approx(best["dev"]) and entry["test"] == pytest.approx(best["test"])
    assert data["model"] == summary["model"] and data["tasks"]["abstract2title"]["metric"] == "rouge1"


def test_predict_answers_like_the_run_a_calibrated_ensemble_included(tmp_path, tiny_causal, catalog, cli):
    """A run that answered with a calibrated ensemble: predict's default is that answer, and
    its score on the test rows is the summary's answer test score."""
    from zp_hf.fitness import metric_function

    raw = {
        "name": "predict_ensemble", "seed": 4, "output_dir": str(tmp_path),
        "tasks": {"providers": [{"name": "packaged"}], "names": ["trec_coarse"], "dev": {"size": 12, "per_label": 2},
                  "test": {"max_examples": 30}},
        "model": {"backend": "hf_causal", "name": tiny_causal},
        "fitness": {"name": "dev_metric", "calibrate": True},
        "selection": {"answer": "ensemble", "ensemble_size": 3},
        "search": {"generations": 1, "top_k": 3, "children_per_parent": 1},
        "mutators": [{"name": "edit"}],
    }
    plugins = load_plugins()
    config = validate(raw, plugins)
    summary = GeneticPromptSearch(config, raw, RunDirectory(tmp_path / "run"), plugins, progress=False, echo=lambda s: None).run()
    answer = summary["tasks"]["trec_coarse"]["answer"]
    assert answer["kind"] == "ensemble" and len(answer["prompts"]) == 3
    rule = DevRule(config.tasks.dev.size, config.tasks.dev.per_label, config.tasks.dev.max_labels_for_fixed_size)
    test = catalog.eval_task("trec_coarse", config.seed, rule, 30).test
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({**e.inputs, "label": e.target}) + "\n" for e in test))
    out = tmp_path / "out.jsonl"
    done = cli("predict", str(tmp_path / "run"), "--input", str(path), "--output", str(out), "--score")
    assert done.returncode == 0, done.stderr
    assert "3 prompt(s), calibrated" in done.stderr
    rows = _rows(out)
    assert all(r["prompts"] == answer["prompts"] for r in rows)
    metric = metric_function("micro_f1", plugins["metrics"])
    assert metric([r["scores"] for r in rows], [r["target"] for r in rows]) == pytest.approx(answer["test"], abs=1e-9)
