"""The default answer (an ensemble of the top three, issue 22) and the run folders started before it."""

from __future__ import annotations

import yaml

from tests import toy_plugin
from tests.conftest import cut_search
from zp_evolve.plugins import load_plugins
from zp_gps.config import validate
from zp_gps.defaults import pin_changed_defaults, with_defaults_of_its_folder
from zp_gps.job import GpsJob


def _raw(tmp_path, fitness="example_fitness"):
    raw = toy_plugin.toy_config(tmp_path, generations=2, top_k=2)
    raw["fitness"] = {"name": fitness}
    raw["mutators"] = [{"name": "append_word"}]
    del raw["selection"]  # the engine's default
    return raw


def _job(monkeypatch):
    monkeypatch.setenv("ZP_EVOLVE_PLUGINS", "tests.toy_plugin")
    return GpsJob(load_plugins(refresh=True), progress=False)


def test_the_default_answer_is_an_ensemble_of_three_and_the_folder_names_it(tmp_path, monkeypatch):
    summary = _job(monkeypatch).run(_raw(tmp_path), tmp_path / "run")
    assert summary["selection"]["strategy"] == "ensemble"
    for task in summary["tasks"].values():
        assert task["answer"]["kind"] == "ensemble" and len(task["answer"]["prompts"]) == 3
    written = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert written["selection"] == {"answer": "ensemble", "ensemble_size": 3}


def test_a_default_run_resumed_gives_the_summary_of_an_uninterrupted_one(tmp_path, monkeypatch):
    job = _job(monkeypatch)
    raw = _raw(tmp_path)
    reference = job.run(raw, tmp_path / "reference")
    # killed after generation 0, its config.yaml written as `zp-evolve run` writes it
    cut_search(tmp_path / "cut", pin_changed_defaults(raw, validate(raw, job.plugins)), 1, extra=[toy_plugin])
    resumed = job.run(raw, tmp_path / "cut", resume=True)
    assert reference["selection"]["ensemble_size"] == 3
    assert resumed["selection"] == reference["selection"] and resumed["tasks"] == reference["tasks"]


def test_a_fitness_without_predictions_answers_with_the_best_prompt_and_says_why(tmp_path, monkeypatch):
    summary = _job(monkeypatch).run(_raw(tmp_path, fitness="text_fitness"), tmp_path / "run")
    for task in summary["tasks"].values():
        answer = task["answer"]
        assert answer["kind"] == "best" and answer["prompts"] == [task["top_k"][0]["prompt"]]
        assert answer["dev"] == task["top_k"][0]["dev"] and "no per-example predictions" in answer["note"]


def test_a_folder_from_before_the_change_resumes_with_the_answer_of_its_time(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    cut_search(tmp_path / "old", raw, 1, extra=[toy_plugin])  # writes the config as given: no selection block
    resumed = _job(monkeypatch).run(raw, tmp_path / "old", resume=True)
    reference = _job(monkeypatch).run({**raw, "selection": {"answer": "best"}}, tmp_path / "reference")
    assert resumed["selection"]["strategy"] == "algorithm1"
    assert resumed["tasks"] == reference["tasks"]


def test_a_sweep_cell_resumes_with_its_folder_s_answer_when_the_sweep_file_names_none(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    cut_search(tmp_path / "cell", {**raw, "selection": {"answer": "ensemble", "ensemble_size": 2}}, 1, extra=[toy_plugin])
    resumed = _job(monkeypatch).run(raw, tmp_path / "cell", resume=True)  # the sweep's cell config: no selection
    for task in resumed["tasks"].values():
        assert task["answer"]["kind"] == "ensemble" and len(task["answer"]["prompts"]) == 2


def test_an_old_ensemble_folder_keeps_top_k_members():
    old = {"search": {"top_k": 5}, "selection": {"answer": "ensemble"}}
    assert with_defaults_of_its_folder(old, old)["selection"] == {"answer": "ensemble", "ensemble_size": 5}
    assert with_defaults_of_its_folder({}, {})["selection"] == {"answer": "best"}
    assert with_defaults_of_its_folder({"selection": {"answer": "best"}}, {})["selection"] == {"answer": "best"}
