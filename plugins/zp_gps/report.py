"""The GPS engine's contributions to reports, through the same hooks any plugin uses.

- ``zp_run_end``: a finished search writes its own ``report.md`` and plots.
- ``zp_summary_scores``: a GPS summary's score per task is the test score of its answer
  (the prompt, or ensemble, its selection strategy chose; its dev score when the run
  scored no test sample).
- ``zp_report_sections``: over many runs, the Table 6/7-style table, the selection
  strategy and dev-test gap of each row's answers, and the plots of fitness per
  generation, dev against test, and offspring per operator.

The built-in ``zp_basic`` plugin registers these implementations.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from zp_evolve import hookimpl
from zp_evolve.report.aggregate import DEV_MARK, cell_text, group_rows, mean_std, row_label
from zp_evolve.report.plotting import finish, new_axes
from zp_evolve.report.sections import CellResult, CellsReport, ReportSection, TaskScore
from zp_evolve.report.tables import csv_table, markdown_table
from zp_evolve.rundir import RunDirectory, RunInfo

JOB = "gps"


@hookimpl
def zp_run_end(run: RunInfo, summary: dict[str, Any]) -> None:
    """A finished search writes report.md and plots/*.png into its run directory."""
    from zp_gps.run_report import write_run_report

    write_run_report(run.path)


def answer_of(task: dict[str, Any]) -> dict[str, Any]:
    """What a GPS run answered with on a task: its ``answer`` (an ensemble's own scores
    included), or the best prompt in summaries written before answers existed."""
    return task.get("answer") or task.get("best") or {}


def strategy_of(summary: dict[str, Any]) -> str:
    """The selection strategy of a GPS run (``algorithm1`` for runs made before strategies)."""
    return str((summary.get("selection") or {}).get("strategy", "algorithm1"))


@hookimpl
def zp_summary_scores(summary: dict[str, Any]) -> dict[str, TaskScore] | None:
    """Test score of the answer, per task; its dev score when no test score exists."""
    if summary.get("job", JOB) != JOB:
        return None
    scores = {}
    for name, task in summary.get("tasks", {}).items():
        best = answer_of(task)
        test, dev = best.get("test"), best.get("dev")
        score = TaskScore(test, "test") if test is not None else TaskScore(dev, "dev") if dev is not None else None
        if score is not None and math.isfinite(score.value):
            scores[name] = TaskScore(float(score.value), score.split)
    return scores


@hookimpl
def zp_report_sections(report: CellsReport) -> list[ReportSection]:
    """The Table 6/7-style table of GPS runs, as CSV too, and their plots."""
    cells = report.of_job(JOB)
    if not cells:
        return []
    headers, body = gps_table(cells, report.rows)
    (report.root / "table_gps.csv").write_text(csv_table(headers, body), encoding="utf-8")
    from zp_gps.run_report import plot_operators

    events = [e for c in cells for e in RunDirectory(c.path).events()]
    text = "\n".join([
        "Avg: mean over tasks, then mean (std) over seeds; Max/Min: over seeds. Arrows compare with `manual`.", "",
        markdown_table(headers, body),
    ])
    plots = (
        ("best dev fitness per generation", plot_generations(cells, report.rows, report.plots_dir / "generations.png")),
        ("dev vs test of final prompts", plot_dev_vs_test(cells, report.rows, report.plots_dir / "dev_vs_test.png")),
        ("offspring fitness per operator", plot_operators(events, report.plots_dir / "operators.png")),
    )
    headers, body = selection_table(cells, report.rows)
    gaps = "\n".join([
        "Mean over tasks and seeds (x100) of the answer each run chose (an ensemble's own scores for "
        "`ensemble` answers); the gap is dev - test.", "", markdown_table(headers, body),
    ])
    return [
        ReportSection("Test score of the answer (the best prompt on dev, Table 6/7 style)", text, plots, order=10),
        ReportSection("Selection: how far the answers' dev scores overstate their test scores", gaps, order=11),
    ]


def selection_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    """Per row: the selection strategy, and the mean dev and test score of the answers and their gap."""
    rows: dict[str, dict[str, Any]] = {}
    for cell in cells:
        row = rows.setdefault(row_label(cell, axis), {"strategies": set(), "pairs": []})
        row["strategies"].add(strategy_of(cell.summary))
        for task in cell.summary.get("tasks", {}).values():
            dev, test = answer_of(task).get("dev"), answer_of(task).get("test")
            if dev is not None and test is not None and math.isfinite(dev) and math.isfinite(test):
                row["pairs"].append((float(dev), float(test)))
    body = []
    for label, row in rows.items():
        pairs = row["pairs"]
        dev = statistics.fmean(d for d, _ in pairs) * 100 if pairs else None
        test = statistics.fmean(t for _, t in pairs) * 100 if pairs else None
        body.append([label, ", ".join(sorted(row["strategies"])), dev, test, dev - test if pairs else None])
    return [axis or "cell", "selection", "answer dev", "answer test", "dev-test gap"], body


def _delta(value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return ""
    diff = (value - reference) * 100
    return f" ({'↑' if diff >= 0 else '↓'}{abs(diff):.2f})"


def gps_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    rows = group_rows(cells, axis)
    tasks = sorted({t for r in rows for t in r.per_task})
    reference = next((r for r in rows if r.label in ("manual", "manual_prompt", "Manual")), None)
    ref_mean = mean_std(reference.per_seed_mean)[0] if reference else None
    headers = [axis or "method", *tasks, "Avg", "Max", "Min"]
    body = []
    for row in rows:
        mean, _ = mean_std(row.per_seed_mean)
        high = max(row.per_seed_mean) if row.per_seed_mean else None
        low = min(row.per_seed_mean) if row.per_seed_mean else None
        ref_high = max(reference.per_seed_mean) if reference and reference.per_seed_mean else None
        ref_low = min(reference.per_seed_mean) if reference and reference.per_seed_mean else None
        delta = row is not reference
        mark = DEV_MARK if row.mean_has_dev else ""
        body.append(
            [row.label, *(cell_text(row.per_task.get(t, []), dev=t in row.dev_tasks) for t in tasks),
             cell_text(row.per_seed_mean, dev=row.mean_has_dev) + (_delta(mean, ref_mean) if delta else ""),
             ("–" if high is None else f"{high * 100:.2f}{mark}") + (_delta(high, ref_high) if delta else ""),
             ("–" if low is None else f"{low * 100:.2f}{mark}") + (_delta(low, ref_low) if delta else "")]
        )
    return headers, body


def plot_generations(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Best-so-far dev fitness per generation, mean over tasks and seeds, one line per method."""
    curves: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        best: dict[str, float] = {}
        per_gen: dict[int, dict[str, float]] = defaultdict(dict)
        for event in RunDirectory(cell.path).events():
            if event["split"] == "dev" and isinstance(event["generation"], int) and math.isfinite(event["fitness"]):
                g, t = event["generation"], event["task"]
                per_gen[g][t] = max(per_gen[g].get(t, -math.inf), event["fitness"])
        for g in sorted(per_gen):
            for t, v in per_gen[g].items():
                best[t] = max(best.get(t, -math.inf), v)
            curves[row_label(cell, axis)][g].append(statistics.fmean(best.values()))
    if not curves:
        return None
    fig, ax = new_axes()
    for index, (label, points) in enumerate(sorted(curves.items())):
        xs = sorted(points)
        ax.plot(xs, [statistics.fmean(points[x]) for x in xs], "-o", color=f"C{index % 10}", label=label)
    return finish(fig, ax, path, xlabel="generation", ylabel="best dev fitness so far (mean over tasks, seeds)")


def plot_dev_vs_test(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Dev against test score of every final prompt: points below the diagonal overfit the tiny dev set."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for cell in cells:
        for task in cell.summary.get("tasks", {}).values():
            for entry in task.get("top_k", []):
                if entry.get("test") is not None and math.isfinite(entry["dev"]) and math.isfinite(entry["test"]):
                    points[row_label(cell, axis)].append((entry["dev"], entry["test"]))
    if not points:
        return None
    fig, ax = new_axes(5, 5)
    every = [v for pts in points.values() for p in pts for v in p]
    low, high = min(every), max(every)
    ax.plot([low, high], [low, high], ":", color="grey", label="dev = test")
    for index, (label, pts) in enumerate(sorted(points.items())):
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, alpha=0.7, color=f"C{index % 10}", label=label)
    return finish(fig, ax, path, xlabel="dev score (fitness)", ylabel="test score", title="Final top-K prompts: dev vs test", legend={"fontsize": 7}, grid=False)
