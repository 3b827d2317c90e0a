"""Every experiment validates; a reduced GPS ablation runs end to end on tiny models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

EXPERIMENTS = sorted(p for p in (REPO / "experiments").rglob("*.yaml") if "splits" not in p.parts)


def test_there_are_experiments_for_every_paper_result():
    names = {p.name for p in EXPERIMENTS}
    assert {"quickstart.yaml", "gps_ablation.yaml", "prompt_design.yaml", "softprompt_init.yaml",
            "task_scaling.yaml", "cross_type_transfer.yaml"} <= names


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_experiment_validates(path, cli):
    result = cli("validate", str(path.relative_to(REPO)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_experiment_has_the_header_a_user_needs(path):
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lower())
    text = " ".join(header)
    assert len(header) >= 4, f"{path.name}: start with a comment header"
    assert "runtime" in text or "time:" in text, f"{path.name}: say how long it takes on a laptop CPU"
    assert "scale up" in text, f"{path.name}: say how to scale it up"


@pytest.mark.slow
def test_reduced_gps_ablation_runs_end_to_end_on_tiny_models(tmp_path, cli):
    """Every method of Table 6 on one task, one seed, tiny local models: the real code paths."""
    from zp_hf.tiny import tiny_model

    causal, t5 = tiny_model("causal"), tiny_model("t5")
    data = yaml.safe_load((REPO / "experiments" / "gps_ablation.yaml").read_text())
    methods = list(data["grid"]["method"])
    overrides = [
        "setup={}",
        f"output_dir={tmp_path}",
        f"base.model.name={causal}",
        "base.tasks.names=[sms_spam]",
        "base.tasks.dev.size=8",
        "base.tasks.test.max_examples=16",
        "grid.seed=[0]",
    ]
    for method, spec in data["grid"]["method"].items():
        for index, mutator in enumerate(spec.get("mutators", [])):
            if mutator["name"] == "t5_infill":
                overrides.append(f"grid.method.{method}.mutators.{index}.model={t5}")
                # a random tiny T5 fills spans with punctuation; keep those so the operator is exercised
                overrides.append(f"grid.method.{method}.mutators.{index}.require_words=false")
            if mutator["name"] == "ptm_paraphrase":
                overrides.append(f"grid.method.{method}.mutators.{index}.model={causal}")
    args = ["run", "experiments/gps_ablation.yaml", "--no-progress"]
    for override in overrides:
        args += ["--set", override]
    result = cli(*args, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "gps_ablation"
    summaries = {p.parent.name: json.loads(p.read_text()) for p in root.glob("cells/*/summary.json")}
    assert sorted(summaries) == sorted(f"method-{m}__seed-0" for m in methods)
    for cell, summary in summaries.items():
        best = summary["tasks"]["sms_spam"]["best"]
        assert 0.0 <= best["dev"] <= 1.0 and best["test"] is not None
        if "manual" not in cell:
            operators = set(summary["operators"]) - {"manual"}
            assert operators and all(summary["operators"][op]["proposed"] > 0 for op in operators), cell
    assert summaries["method-manual__seed-0"]["generations_scored"] == 1
    assert summaries["method-bt_gps__seed-0"]["generations_scored"] == 4
    report = (root / "report.md").read_text()
    for method in methods:
        assert f"| {method} |" in report
    assert (root / "table_gps.csv").read_text().startswith("method,sms_spam,Avg,Max,Min")
