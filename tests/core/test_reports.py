"""Reports over many runs know no job's files: plugins contribute sections and read their own
summaries through hooks, as GPS does; a dev score standing in for a test score is labelled."""

from __future__ import annotations

import json

import yaml

from tests import toy_plugin
from zp_evolve import hookimpl
from zp_evolve.plugins import load_plugins
from zp_evolve.report.sections import CellsReport, ReportSection, TaskScore
from zp_evolve.report.sweep_report import write_combined_report


class _CountingJob:
    """A third-party job's reporter: its summaries hold ``{"job": "count", "counts": {task: n}}``."""

    @hookimpl
    def zp_summary_scores(self, summary):
        if summary.get("job") != "count":
            return None
        return {task: TaskScore(n / 100, "test") for task, n in summary["counts"].items()}

    @hookimpl
    def zp_report_sections(self, report: CellsReport):
        cells = report.of_job("count")
        if not cells:
            return []
        (report.root / "counts.csv").write_text("".join(f"{c.id},{sum(c.summary['counts'].values())}\n" for c in cells))
        return [ReportSection("Counts", f"{len(cells)} counting runs, {sum(len(c.scores) for c in cells)} task scores.", order=5)]


def _run_dir(tmp_path, name: str, summary: dict):
    path = tmp_path / name
    path.mkdir()
    (path / "summary.json").write_text(json.dumps(summary))
    return path


def test_a_plugin_job_contributes_its_section_and_scores(tmp_path):
    runs = [_run_dir(tmp_path, f"c{seed}", {"job": "count", "name": "counting", "seed": seed, "counts": {"a": 40 + seed, "b": 60}})
            for seed in (0, 1)]
    report = write_combined_report(runs, tmp_path / "out", load_plugins([_CountingJob()])).read_text()
    assert "## Counts\n\n2 counting runs, 4 task scores." in report
    assert "| a | 40.50 (0.50) |" in report and "| b | 60.00 (0.00) |" in report  # the core's per-task table, from its scores
    assert (tmp_path / "out" / "counts.csv").read_text() == "c0,100\nc1,101\n"
    assert "Table 6/7" not in report and "Table 4/5" not in report  # no GPS or trainer runs here
    plain = write_combined_report(runs, tmp_path / "plain", load_plugins()).read_text()
    assert "## Counts" not in plain and "## Per task" not in plain  # nobody reads an unknown job's summary


def test_dev_scores_standing_in_for_test_scores_are_labelled(tmp_path, cli):
    base = toy_plugin.toy_config(tmp_path, generations=1)
    base.pop("name")
    sweep = {"name": "split_sweep", "output_dir": str(tmp_path / "runs"), "base": base,
             "grid": {"test": {"scored": {"tasks.test.enabled": True}, "skipped": {"tasks.test.enabled": False}}}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    result = cli("run", str(path), "--no-progress", plugins="tests.toy_plugin")
    assert result.returncode == 0, result.stderr
    root = tmp_path / "runs" / "split_sweep"
    report = (root / "report.md").read_text()
    skipped = json.loads((root / "cells" / "test-skipped" / "summary.json").read_text())["tasks"]["toy_pair"]["best"]
    scored = json.loads((root / "cells" / "test-scored" / "summary.json").read_text())["tasks"]["toy_pair"]["best"]
    assert skipped["test"] is None and scored["test"] is not None
    assert "except those marked †: dev-set scores (or means holding one) of runs that measured no test score: " \
           "`test-skipped/toy_pair`, `test-skipped/toy_sentiment`." in report
    assert f"| toy_pair | {scored['test'] * 100:.2f} | {skipped['dev'] * 100:.2f}† |" in report
    assert f"| scored | {scored['test'] * 100:.2f} |" in report
