"""Every kind of bad input exits 2 with a message naming file, line, key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests import toy_plugin


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def _good(tmp_path: Path) -> dict:
    return toy_plugin.toy_config(tmp_path, generations=1)


def _check(result, *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def test_malformed_yaml_names_file_and_line(tmp_path, cli):
    path = _write(tmp_path, "name: x\ntasks: {names: [a, b}\n")
    _check(cli("validate", str(path)), f"{path}:2", "malformed YAML")


def test_missing_file(tmp_path, cli):
    _check(cli("run", str(tmp_path / "missing.yaml")), "file not found", "missing.yaml")


def test_all_config_errors_are_reported_at_once_with_lines(tmp_path, cli):
    raw = _good(tmp_path)
    raw["search"]["top_k"] = 0  # out of range
    raw["search"]["generatoins"] = 3  # unknown key (typo)
    raw["mutators"][0]["wordz"] = ["x"]  # unknown plugin option
    raw["mutators"].append({"name": "append_wrod"})  # unknown plugin name
    raw["executor"] = {"name": "serial", "batch_size": "many"}  # wrong type
    raw["seed"] = "zero"  # wrong type
    path = _write(tmp_path, yaml.safe_dump(raw, sort_keys=False))
    result = cli("validate", str(path), plugins="tests.toy_plugin")
    _check(
        result,
        "6 configuration errors",
        "search.top_k: Input should be greater than or equal to 1 (got 0)",
        "search.generatoins: unknown key 'generatoins'. Allowed: generations, top_k",
        "mutators.0.wordz: unknown option 'wordz' for mutator 'append_word'. Accepted: words",
        "mutators.2.name: unknown mutator 'append_wrod'. Did you mean 'append_word'?",
        "executor.batch_size:",
        "seed:",
    )
    lines = yaml.safe_dump(raw, sort_keys=False).splitlines()
    top_k_line = next(i for i, line in enumerate(lines, 1) if "top_k" in line)
    assert f"bad.yaml:{top_k_line}: search.top_k" in result.stderr


def test_bad_components_and_bad_tasks_are_reported_in_one_pass(tmp_path, cli):
    raw = _good(tmp_path)
    raw["mutators"].append({"name": "append_wrod"})
    raw["tasks"]["names"] = ["toy_sentimnet"]
    _check(cli("validate", str(_write(tmp_path, yaml.safe_dump(raw))), plugins="tests.toy_plugin"),
           "2 configuration errors", ".name: unknown mutator 'append_wrod'",
           "tasks.names.0: unknown task 'toy_sentimnet'")


def test_unknown_task_lists_close_matches(tmp_path, cli):
    raw = _good(tmp_path)
    raw["tasks"]["names"] = ["toy_sentimnet"]
    _check(cli("validate", str(_write(tmp_path, yaml.safe_dump(raw))), plugins="tests.toy_plugin"),
           "tasks.names.0: unknown task 'toy_sentimnet'. Close matches: toy_sentiment")


def test_prompt_without_placeholders(tmp_path, cli):
    raw = _good(tmp_path)
    raw["tasks"]["prompts"] = {"toy_pair": ["[X1] and nothing else _", "[X1] [X2] no blank"]}
    _check(
        cli("validate", str(_write(tmp_path, yaml.safe_dump(raw))), plugins="tests.toy_plugin"),
        "tasks.prompts.toy_pair.0: prompt '[X1] and nothing else _' lacks placeholder(s) [X2]",
        "tasks.prompts.toy_pair.1:",
        "answer blank '_' exactly once",
    )


def test_missing_required_sections_and_bad_weight(tmp_path, cli):
    path = _write(tmp_path, "name: x\nmutators: [{name: append_word, weight: -1}]\n")
    _check(cli("validate", str(path), plugins="tests.toy_plugin"), "tasks: required key is missing", "mutators.0.weight: must be a positive number")


def test_bad_override(tmp_path, cli):
    path = _write(tmp_path, yaml.safe_dump(_good(tmp_path)))
    _check(cli("validate", str(path), "--set", "search.top_k", plugins="tests.toy_plugin"), "key.path=value")
    _check(cli("validate", str(path), "--set", "search.top_k=-3", plugins="tests.toy_plugin"), "search.top_k")


def test_valid_config_passes_and_debug_shows_traceback(tmp_path, cli):
    path = _write(tmp_path, yaml.safe_dump(_good(tmp_path)))
    ok = cli("validate", str(path), plugins="tests.toy_plugin")
    assert ok.returncode == 0 and "ok:" in ok.stdout
    debug = cli("--debug", "run", str(tmp_path / "missing.yaml"))
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_unknown_plugin_module_in_environment(cli):
    _check(cli("plugins", plugins="no_such_module_xyz"), "cannot import plugin module 'no_such_module_xyz'")


def test_a_mutator_that_breaks_its_contract_is_a_plugin_error(tmp_path, cli):
    raw = _good(tmp_path)
    raw["mutators"] = [{"name": "append_word", "words": []}]  # rng.choice on an empty list raises
    path = _write(tmp_path, yaml.safe_dump(raw))
    result = cli("run", str(path), "--run-dir", str(tmp_path / "r"), plugins="tests.toy_plugin")
    _check(result, "mutator 'append_word' failed on task")
    # what was scored before the failure is kept, and the run can be resumed
    assert (tmp_path / "r" / "events.jsonl").read_text().count("\n") == 6
    assert (tmp_path / "r" / "checkpoint.pkl").exists()


def test_a_fitness_that_needs_a_model_without_one(tmp_path, cli):
    raw = _good(tmp_path)
    raw["fitness"] = {"name": "dev_metric"}
    _check(cli("validate", str(_write(tmp_path, yaml.safe_dump(raw))), plugins="tests.toy_plugin"),
           "model: fitness 'dev_metric' scores prompts with a model")


def _search(tmp_path: Path, tasks: list[str], mutators: list[dict], fitness: dict | None = None, providers: list | None = None) -> Path:
    """A search over packaged tasks (their metadata: no data is read) with a model that does not
    exist: a run that got as far as loading it would fail with a model error instead."""
    raw = {
        "name": "checks",
        "tasks": {"providers": providers or [{"name": "packaged"}], "names": tasks},
        "model": {"backend": "hf_causal", "name": str(tmp_path / "no_model_here")},
        "fitness": fitness or {"name": "dev_metric"},
        "mutators": mutators,
    }
    return _write(tmp_path, yaml.safe_dump(raw, sort_keys=False))


def _validate_and_run(cli, tmp_path: Path, path: Path, *fragments: str) -> None:
    _check(cli("validate", str(path)), *fragments)
    _check(cli("run", str(path), "--run-dir", str(tmp_path / "run"), "--no-progress"), *fragments)
    assert not (tmp_path / "run").exists()  # stopped before anything was written, let alone a model loaded


def test_a_mutator_that_cannot_handle_a_task_language(tmp_path, cli):
    path = _search(tmp_path, ["rotten_tomatoes", "inews_sentiment"], [{"name": "edit"}, {"name": "back_translation", "engine": "apertium"}])
    line = path.read_text().splitlines().index("- name: back_translation") + 1
    _validate_and_run(
        cli, tmp_path, path,
        f"bad.yaml:{line}: mutators.1: mutator 'back_translation' cannot handle task 'inews_sentiment' (zh, classification with 3 labels): "
        "Apertium has no pair for 'zh' prompts; use engine: marian",
    )
    assert "rotten_tomatoes" not in cli("validate", str(path)).stderr  # English is fine
    skip = _search(tmp_path, ["inews_sentiment"], [{"name": "back_translation", "unsupported": "skip"}])
    assert cli("validate", str(skip)).returncode == 0
    remote = _search(tmp_path, ["thucnews"], [{"name": "remote", "mutator": {"name": "back_translation"}}])
    _check(cli("validate", str(remote)), "mutators.0: mutator 'remote' cannot handle task 'thucnews' (zh")


@pytest.mark.parametrize(
    "task, metric, fragment",
    [
        ("trec_coarse", "auc", "with metric 'auc', which needs exactly two labels, and the task has 6; use micro_f1"),
        ("rotten_tomatoes", "rouge1", "with metric 'rouge1', which compares generated text, and the task is a classification task"),
        ("msra_ner", "micro_f1", "with metric 'micro_f1', which reads label scores, and the task generates text"),
        ("quartz", "auc", "with metric 'auc', which compares two fixed labels, and the task has options per example"),
        ("sms_spam", "acuracy", "with metric 'acuracy', which is not registered: unknown metric 'acuracy'. Did you mean 'accuracy'"),
    ],
)
def test_a_metric_that_cannot_score_a_task(tmp_path, cli, task, metric, fragment):
    path = _search(tmp_path, [task], [{"name": "edit"}], fitness={"name": "dev_metric", "metric": metric})
    _validate_and_run(cli, tmp_path, path, f"fitness: fitness 'dev_metric' scores task '{task}'", fragment)


def test_auc_named_by_a_card_with_three_labels(tmp_path, cli):
    card = {"name": "three_way", "type": "SENTI", "inputs": {"X": "text"}, "labels": ["neg", "neu", "pos"],
            "metric": "auc", "splits": {"train": "train.jsonl", "test": "test.jsonl"}}
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(card))
    path = _search(tmp_path, ["three_way"], [{"name": "edit"}], providers=[{"name": "files", "cards": [str(tmp_path / "card.yaml")]}])
    _check(cli("validate", str(path)),
           "fitness 'dev_metric' scores task 'three_way' (en, classification with 3 labels) with metric 'auc', which needs exactly two labels")


def test_an_evaluation_metric_that_cannot_score_a_task(tmp_path, cli):
    raw = {"job": "eval", "name": "ev", "model": {"backend": "hf_seq2seq", "name": str(tmp_path / "no_model_here")},
           "tasks": {"names": ["rotten_tomatoes", "thucnews"]}, "metric": "auc"}
    path = _write(tmp_path, yaml.safe_dump(raw, sort_keys=False))
    _check(cli("validate", str(path)),
           "metric: task 'thucnews' (zh, classification with 10 labels) is scored with metric 'auc', which needs exactly two labels")
    _check(cli("run", str(path), "--run-dir", str(tmp_path / "run")), "which needs exactly two labels")
    assert not (tmp_path / "run").exists()
