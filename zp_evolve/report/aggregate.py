"""Turn finished runs (a sweep's cells) into per-row, per-task scores over seeds.

Nothing here reads a job's files: each run's score per task comes from the plugin
that knows its job (the ``zp_summary_scores`` hook), marked when it is a dev-set
score standing in for a missing test score.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zp_evolve.plugins import Plugins
from zp_evolve.report.sections import CellResult, TaskScore

SEED_AXIS = "seed"
#: Marks a score (or a mean holding one) measured on the dev set, for runs without a test score.
DEV_MARK = "†"


def cell_result(cell_id: str, values: dict[str, str], path: Path, summary: dict[str, Any], plugins: Plugins) -> CellResult:
    """A finished run with its scores, read by the plugin that knows its job."""
    scores = plugins.hook.zp_summary_scores(summary=summary) or {}
    return CellResult(cell_id, values, path, summary, dict(scores))


def load_cells(root: Path, plugins: Plugins) -> list[CellResult]:
    """Finished cells of a sweep folder, with the grid value of each axis."""
    from zp_evolve.grid import expand

    data = yaml.safe_load((root / "sweep.yaml").read_text(encoding="utf-8"))
    _, cells = expand(data, root)
    results = []
    for cell in cells:
        summary_path = root / "cells" / cell.id / "summary.json"
        if summary_path.is_file():
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            results.append(cell_result(cell.id, dict(cell.values), summary_path.parent, summary, plugins))
    return results


def row_axis(cells: list[CellResult], preferred: str | None) -> str | None:
    axes = list(cells[0].values) if cells else []
    if preferred in axes:
        return preferred
    return next((a for a in axes if a != SEED_AXIS), None)


@dataclass
class RowScores:
    """Scores of one table row: per task and per seed, and which of them hold dev scores."""

    label: str
    per_task: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_seed_mean: list[float] = field(default_factory=list)
    dev_tasks: set[str] = field(default_factory=set)

    @property
    def mean_has_dev(self) -> bool:
        return bool(self.dev_tasks)


def row_label(cell: CellResult, axis: str | None) -> str:
    """The row axis' value, then ``name=value`` of every other non-seed axis: cells that differ
    in another setting (e.g. model size) are separate rows, never averaged as if seeds."""
    if not axis or axis not in cell.values:
        return cell.id
    others = [f"{k}={v}" for k, v in cell.values.items() if k not in (axis, SEED_AXIS)]
    return ", ".join([str(cell.values[axis]), *others])


def group_rows(cells: list[CellResult], axis: str | None) -> list[RowScores]:
    """Collect scores by row (:func:`row_label`): seeds of one row are pooled, nothing else."""
    rows: dict[str, RowScores] = {}
    for cell in cells:
        label = row_label(cell, axis)
        row = rows.setdefault(label, RowScores(label))
        for task, score in cell.scores.items():
            row.per_task[task].append(score.value)
            if score.split != "test":
                row.dev_tasks.add(task)
        if cell.scores:
            row.per_seed_mean.append(statistics.fmean(s.value for s in cell.scores.values()))
    return list(rows.values())


def dev_fallbacks(cells: list[CellResult]) -> list[str]:
    """``cell/task`` of every score that is a dev score standing in for a test score."""
    return [f"{c.id}/{t}" for c in cells for t, s in sorted(c.scores.items()) if s.split != "test"]


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


def cell_text(values: list[float], scale: float = 100.0, *, dev: bool = False) -> str:
    """``46.16 (0.54)``: mean (std) over seeds, in points as the paper reports them; one seed:
    ``46.16``; ``dev`` marks a value holding dev-set scores (``46.16†``)."""
    mean, std = mean_std(values)
    if mean is None:
        return "–"
    mark = DEV_MARK if dev else ""
    if len(values) == 1:
        return f"{mean * scale:.2f}{mark}"
    return f"{mean * scale:.2f}{mark} ({std * scale:.2f})"

