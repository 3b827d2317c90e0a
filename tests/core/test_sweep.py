"""Sweeps: a grid of GPS cells, skip/resume, validation, and the paper-style report."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests import toy_plugin
from zp_evolve.errors import ConfigError
from zp_evolve.grid import expand


def _sweep(tmp_path) -> dict:
    base = toy_plugin.toy_config(tmp_path, generations=2)
    base.pop("name")
    base.pop("output_dir")
    return {
        "name": "toy_sweep",
        "output_dir": str(tmp_path / "runs"),
        "base": base,
        "grid": {
            "method": {
                "manual": {"search.generations": 0},
                "append": {"mutators": [{"name": "append_word"}]},
                "append_gps": {"mutators": [{"name": "append_word"}], "search": {"generations": 3}},
            },
            "seed": [0, 1],
        },
        "report": {"rows": "method"},
    }


def test_expand(tmp_path):
    setups, cells = expand(_sweep(tmp_path), tmp_path / "root")
    assert setups == {}
    assert [c.id for c in cells][:2] == ["method-manual__seed-0", "method-manual__seed-1"]
    assert len(cells) == 6
    gps = next(c for c in cells if c.id == "method-append_gps__seed-1")
    assert gps.data["search"]["generations"] == 3 and gps.data["seed"] == 1
    assert gps.data["search"]["top_k"] == 2  # untouched base keys survive the merge
    assert gps.data["name"] == "toy_sweep-method-append_gps__seed-1"


def test_setup_references_resolve_to_setup_folders(tmp_path):
    data = _sweep(tmp_path)
    data["setup"] = {"gen": {"job": "gps"}}
    data["base"]["cache"] = {"dir": "${setup.gen}/cache"}
    data["base"]["output_dir"] = "${sweep}/elsewhere"
    setups, cells = expand(data, tmp_path / "root")
    assert cells[0].data["cache"]["dir"] == str(tmp_path / "root" / "setup" / "gen" / "cache")
    assert cells[0].data["output_dir"] == str(tmp_path / "root" / "elsewhere")
    data["base"]["cache"] = {"dir": "${setup.nope}"}
    with pytest.raises(ConfigError, match=r"\$\{setup.nope\} names no setup job"):
        expand(data, tmp_path / "root")


def test_grid_references_pick_a_setup_job_per_cell(tmp_path):
    data = _sweep(tmp_path)
    data["setup"] = {"gen_s0": {"job": "gps"}, "gen_s1": {"job": "gps"}}
    data["base"]["cache"] = {"dir": "${setup.gen_s${grid.seed}}/cache-${grid.method}"}
    _, cells = expand(data, tmp_path / "root")
    by_id = {c.id: c.data["cache"]["dir"] for c in cells}
    assert by_id["method-append__seed-1"] == str(tmp_path / "root" / "setup" / "gen_s1" / "cache-append")
    assert by_id["method-manual__seed-0"] == str(tmp_path / "root" / "setup" / "gen_s0" / "cache-manual")
    data["base"]["cache"] = {"dir": "${grid.size}"}
    with pytest.raises(ConfigError, match=r"names no grid axis; axes: \['method', 'seed'\]"):
        expand(data, tmp_path / "root")


def test_sweep_runs_skips_and_reports(tmp_path, cli):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(_sweep(tmp_path)))
    valid = cli("validate", str(path), plugins="tests.toy_plugin")
    assert valid.returncode == 0 and "(6 cells)" in valid.stdout, valid.stderr

    first = cli("run", str(path), "--no-progress", plugins="tests.toy_plugin")
    assert first.returncode == 0, first.stderr
    root = tmp_path / "runs" / "toy_sweep"
    assert sorted(p.name for p in (root / "cells").iterdir())[0] == "method-append__seed-0"
    report = (root / "report.md").read_text()
    assert "| method | toy_pair | toy_sentiment | Avg | Max | Min |" in report
    assert "append_gps" in report and "↑" in report
    for plot in ("generations.png", "dev_vs_test.png", "operators.png"):
        assert (root / "plots" / plot).stat().st_size > 1000

    # a second run skips every finished cell; a deleted cell is run again
    shutil.rmtree(root / "cells" / "method-append__seed-1")
    again = cli("run", str(path), "--no-progress", plugins="tests.toy_plugin")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("done, skipped") == 5
    assert "cell method-append__seed-1: running" in again.stdout
    summary = json.loads((root / "cells" / "method-append__seed-1" / "summary.json").read_text())
    assert summary["name"] == "toy_sweep-method-append__seed-1"


def test_sweep_table_values_match_cell_summaries(tmp_path, cli):
    from zp_evolve.plugins import load_plugins
    from zp_evolve.report.aggregate import load_cells
    from zp_gps.report import gps_table

    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(_sweep(tmp_path)))
    assert cli("run", str(path), "--no-progress", plugins="tests.toy_plugin").returncode == 0
    cells = load_cells(tmp_path / "runs" / "toy_sweep", load_plugins([toy_plugin]))
    headers, rows = gps_table(cells, "method")
    manual = next(r for r in rows if r[0] == "manual")
    seeds = [c for c in cells if c.values["method"] == "manual"]
    pair = [c.summary["tasks"]["toy_pair"]["best"]["test"] * 100 for c in seeds]
    mean = sum(pair) / 2
    assert manual[headers.index("toy_pair")].startswith(f"{mean:.2f} (")


def test_sweep_validation_names_the_cell(tmp_path, cli):
    data = _sweep(tmp_path)
    data["grid"]["method"]["append"] = {"mutators": [{"name": "append_wrod"}]}
    data["typo"] = 1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    result = cli("validate", str(path), plugins="tests.toy_plugin")
    assert result.returncode == 2
    assert "typo: unknown key 'typo'" in result.stderr
    data.pop("typo")
    path.write_text(yaml.safe_dump(data))
    result = cli("validate", str(path), plugins="tests.toy_plugin")
    assert "cell method-append__seed-0: mutators.0.name: unknown mutator 'append_wrod'" in result.stderr


def test_includes_merge_overrides_relative_to_the_sweep_file(tmp_path):
    from zp_evolve.grid import resolve_includes

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "job.yaml").write_text(yaml.safe_dump({"job": "gps", "search": {"top_k": 3, "generations": 2}}))
    data = {"name": "s", "base": {"include": "sub/job.yaml", "search": {"top_k": 5}}, "setup": {"a": {"include": "sub/job.yaml"}}}
    resolved = resolve_includes(data, tmp_path)
    assert resolved["base"] == {"job": "gps", "search": {"top_k": 5, "generations": 2}}
    assert resolved["setup"]["a"]["search"]["top_k"] == 3
    with pytest.raises(ConfigError, match="base.include: file not found"):
        resolve_includes({"base": {"include": "missing.yaml"}}, tmp_path)
    (tmp_path / "broken.yaml").write_text("job: gps\nsearch: {top_k: 3\n")
    with pytest.raises(ConfigError, match="malformed YAML") as broken:
        resolve_includes({"base": {"include": "broken.yaml"}}, tmp_path)
    assert "broken.yaml" in str(broken.value)


def test_report_combines_separate_runs_by_name_and_seed(tmp_path, cli):
    for name, seed, generations in [("manual", 0, 0), ("manual", 1, 0), ("gps", 0, 2), ("gps", 1, 2)]:
        raw = toy_plugin.toy_config(tmp_path, generations=generations)
        raw.update(name=name, seed=seed)
        path = tmp_path / f"{name}{seed}.yaml"
        path.write_text(yaml.safe_dump(raw))
        assert cli("run", str(path), "--run-dir", str(tmp_path / f"{name}{seed}"), "--no-progress", plugins="tests.toy_plugin").returncode == 0
    dirs = [str(tmp_path / d) for d in ("manual0", "manual1", "gps0", "gps1")]
    result = cli("report", *dirs, "--out", str(tmp_path / "combined"), plugins="tests.toy_plugin")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "combined" / "report.md").read_text()
    assert "rows: `run`; seeds: 0, 1" in report
    assert "| manual |" in report and "| gps |" in report and "↑" in report
    missing = cli("report", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "neither a run directory" in missing.stderr
