"""Turn the summaries of a sweep's cells into per-method, per-task scores over seeds."""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SEED_AXIS = "seed"


@dataclass
class CellResult:
    id: str
    values: dict[str, str]
    path: Path
    summary: dict[str, Any]

    @property
    def kind(self) -> str:
        """``gps`` for searches, ``eval`` for zero-shot evaluations (their summaries differ)."""
        return "eval" if self.summary.get("job") in ("eval", "train_eval") else "gps"

    def task_scores(self) -> dict[str, float]:
        """Test score per task: of the best-on-dev prompt (GPS) or of the model (eval)."""
        out = {}
        for name, task in self.summary.get("tasks", {}).items():
            if self.kind == "eval":
                value = task.get("score")
            else:
                best = task.get("best") or {}
                value = best.get("test") if best.get("test") is not None else best.get("dev")
            if value is not None and math.isfinite(value):
                out[name] = float(value)
        return out

    def task_types(self) -> dict[str, bool]:
        """Whether each task's type was seen in training (eval summaries only)."""
        return {n: bool(t.get("seen_type")) for n, t in self.summary.get("tasks", {}).items() if "seen_type" in t}


def load_cells(root: Path) -> list[CellResult]:
    """Finished cells of a sweep folder, with the grid value of each axis."""
    from zp_evolve.grid import expand

    data = yaml.safe_load((root / "sweep.yaml").read_text(encoding="utf-8"))
    _, cells = expand(data, root)
    results = []
    for cell in cells:
        summary_path = root / "cells" / cell.id / "summary.json"
        if summary_path.is_file():
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            results.append(CellResult(cell.id, dict(cell.values), summary_path.parent, summary))
    return results


def row_axis(cells: list[CellResult], preferred: str | None) -> str | None:
    axes = list(cells[0].values) if cells else []
    if preferred in axes:
        return preferred
    return next((a for a in axes if a != SEED_AXIS), None)


@dataclass
class RowScores:
    """Scores of one table row: per task and per seed."""

    label: str
    per_task: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_seed_mean: list[float] = field(default_factory=list)
    per_seed_seen: list[float] = field(default_factory=list)
    per_seed_unseen: list[float] = field(default_factory=list)


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
        scores = cell.task_scores()
        for task, value in scores.items():
            row.per_task[task].append(value)
        if scores:
            row.per_seed_mean.append(statistics.fmean(scores.values()))
        seen = cell.task_types()
        if seen:
            seen_scores = [v for t, v in scores.items() if seen.get(t)]
            unseen_scores = [v for t, v in scores.items() if t in seen and not seen[t]]
            if seen_scores:
                row.per_seed_seen.append(statistics.fmean(seen_scores))
            if unseen_scores:
                row.per_seed_unseen.append(statistics.fmean(unseen_scores))
    return list(rows.values())


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


def cell_text(values: list[float], scale: float = 100.0) -> str:
    """``46.16 (0.54)``: mean (std) over seeds, in points as the paper reports them; one seed: ``46.16``."""
    mean, std = mean_std(values)
    if mean is None:
        return "–"
    if len(values) == 1:
        return f"{mean * scale:.2f}"
    return f"{mean * scale:.2f} ({std * scale:.2f})"
