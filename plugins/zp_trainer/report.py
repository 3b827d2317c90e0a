"""The trainer's contributions to reports over many runs (``zp_report_sections``,
``zp_summary_scores``): only this plugin knows its summaries and files.

- Table 4/5 style for zero-shot evaluation runs: All / Seen / Unseen task types.
- Figure 7: the zero-shot score per task type along the rows.
- The supervised training loss of every ``train_eval`` row, from its ``train/metrics.jsonl``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from zp_evolve import hookimpl
from zp_evolve.report.aggregate import cell_text, group_rows, row_label
from zp_evolve.report.plotting import finish, new_axes
from zp_evolve.report.sections import CellResult, CellsReport, ReportSection, TaskScore
from zp_evolve.report.tables import csv_table, markdown_table
from zp_evolve.rundir import read_jsonl

#: Jobs whose summaries hold zero-shot scores per task.
EVAL_JOBS = ("eval", "train_eval")


@hookimpl
def zp_summary_scores(summary: dict[str, Any]) -> dict[str, TaskScore] | None:
    """The zero-shot test score of each held-out task."""
    if summary.get("job") not in EVAL_JOBS:
        return None
    scores = {}
    for name, task in summary.get("tasks", {}).items():
        value = task.get("score")
        if value is not None and math.isfinite(value):
            scores[name] = TaskScore(float(value), "test")
    return scores


@hookimpl
def zp_report_sections(report: CellsReport) -> list[ReportSection]:
    """Table 4/5 (as CSV too), Figure 7 and the training-loss plot of evaluation runs."""
    cells = report.of_job(*EVAL_JOBS)
    if not cells:
        return []
    headers, body = eval_table(cells, report.rows)
    (report.root / "table_eval.csv").write_text(csv_table(headers, body), encoding="utf-8")
    text = "\n".join([
        "All: every held-out task; Seen/Unseen: tasks whose type was / was not among the training tasks' types.", "",
        markdown_table(headers, body),
    ])
    plots = (
        ("zero-shot score per task type", plot_by_task_type(cells, report.rows, report.plots_dir / "task_types.png")),
        ("supervised training loss", plot_training_loss(cells, report.rows, report.plots_dir / "training_loss.png")),
    )
    return [ReportSection("Zero-shot scores by task type (Table 4/5 style)", text, plots, order=20)]


def _seen_type(cell: CellResult) -> dict[str, bool]:
    """Whether each task's type was among the training tasks' types."""
    return {n: bool(t.get("seen_type")) for n, t in cell.summary.get("tasks", {}).items() if "seen_type" in t}


def eval_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    """Rows: All / Seen / Unseen means over tasks, then mean (std) over seeds."""
    seen: dict[str, list[float]] = defaultdict(list)
    unseen: dict[str, list[float]] = defaultdict(list)
    for cell in cells:
        label, kinds = row_label(cell, axis), _seen_type(cell)
        seen_scores = [s.value for t, s in cell.scores.items() if kinds.get(t)]
        unseen_scores = [s.value for t, s in cell.scores.items() if t in kinds and not kinds[t]]
        if seen_scores:
            seen[label].append(statistics.fmean(seen_scores))
        if unseen_scores:
            unseen[label].append(statistics.fmean(unseen_scores))
    headers = [axis or "variant", "All", "Seen", "Unseen", "seeds"]
    body = [[r.label, cell_text(r.per_seed_mean), cell_text(seen[r.label]), cell_text(unseen[r.label]), len(r.per_seed_mean)]
            for r in group_rows(cells, axis)]
    return headers, body


def plot_by_task_type(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Mean test score per held-out task type along the rows, one line per type (Figure 7)."""
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows: list[str] = []
    for cell in cells:
        label = row_label(cell, axis)
        rows += [label] if label not in rows else []
        for task, score in cell.scores.items():
            scores[str(cell.summary["tasks"][task].get("type", "?"))][label].append(score.value)
    if len(rows) < 2 or not 1 <= len(scores) <= 10:
        return None
    fig, ax = new_axes()
    for index, (task_type, per_row) in enumerate(sorted(scores.items())):
        xs = [i for i, r in enumerate(rows) if per_row.get(r)]
        ax.plot(xs, [statistics.fmean(per_row[rows[i]]) * 100 for i in xs], "-o", color=f"C{index % 10}", label=task_type)
    ax.set_xticks(range(len(rows)), rows, rotation=20, ha="right", fontsize=8)
    return finish(fig, ax, path, xlabel=axis or "cell", ylabel="zero-shot test score (type mean)",
                  legend={"title": "task type", "fontsize": 8})


def plot_training_loss(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Supervised training loss against step, mean over seeds, one line per row (train_eval runs)."""
    from zp_trainer.jobs import TRAIN_DIR
    from zp_trainer.loop import METRICS_FILE

    curves: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        for record in read_jsonl(cell.path / TRAIN_DIR / METRICS_FILE):
            value = record.get("sup", record.get("loss"))
            if isinstance(record.get("step"), int) and isinstance(value, (int, float)) and math.isfinite(value):
                curves[row_label(cell, axis)][record["step"]].append(value)
    if not curves:
        return None
    fig, ax = new_axes()
    for index, (label, points) in enumerate(curves.items()):
        xs = sorted(points)
        ax.plot(xs, [statistics.fmean(points[x]) for x in xs], "-", color=f"C{index % 10}", label=label)
    return finish(fig, ax, path, xlabel="training step", ylabel="supervised loss (mean over seeds)")
