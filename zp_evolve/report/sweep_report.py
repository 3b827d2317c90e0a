"""Paper-style tables and plots for a sweep folder (``zp-evolve report SWEEP_DIR``).

- Table 6/7 style for GPS cells: rows per method, per-task columns (test score of the
  best prompt on dev), Avg over tasks as mean (std) over seeds, and Max/Min over seeds.
- Table 4/5 style for zero-shot evaluation cells: All / Seen / Unseen task types.
- Plots: best dev fitness per generation per method, offspring fitness per operator,
  dev against test score of final prompts, and scaling curves along a numeric axis.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from zp_evolve.engine.rundir import RunDirectory, read_jsonl
from zp_evolve.report.plotting import finish, new_axes
from zp_evolve.report.aggregate import (
    SEED_AXIS, CellResult, cell_text, group_rows, load_cells, mean_std, row_axis, row_label,
)
from zp_evolve.report.tables import csv_table, markdown_table


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
        body.append(
            [row.label, *(cell_text(row.per_task.get(t, [])) for t in tasks),
             cell_text(row.per_seed_mean) + (_delta(mean, ref_mean) if delta else ""),
             ("–" if high is None else f"{high * 100:.2f}") + (_delta(high, ref_high) if delta else ""),
             ("–" if low is None else f"{low * 100:.2f}") + (_delta(low, ref_low) if delta else "")]
        )
    return headers, body


def eval_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    rows = group_rows(cells, axis)
    headers = [axis or "variant", "All", "Seen", "Unseen", "seeds"]
    body = [[r.label, cell_text(r.per_seed_mean), cell_text(r.per_seed_seen), cell_text(r.per_seed_unseen), len(r.per_seed_mean)] for r in rows]
    return headers, body


def per_task_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    rows = group_rows(cells, axis)
    tasks = sorted({t for r in rows for t in r.per_task})
    headers = ["task", *(r.label for r in rows)]
    body = [[t, *(cell_text(r.per_task.get(t, [])) for r in rows)] for t in tasks]
    return headers, body


def plot_generations(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Best-so-far dev fitness per generation, mean over tasks and seeds, one line per method."""
    curves: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        if cell.kind != "gps":
            continue
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


def plot_training_loss(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Supervised training loss against step, mean over seeds, one line per row (train_eval cells)."""
    curves: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        for record in read_jsonl(cell.path / "train" / "metrics.jsonl"):
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


def plot_by_task_type(cells: list[CellResult], axis: str | None, path: Path) -> Path | None:
    """Mean test score per held-out task type along the rows, one line per type (Figure 7)."""
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows: list[str] = []
    for cell in cells:
        label = row_label(cell, axis)
        rows += [label] if label not in rows else []
        for task, value in cell.task_scores().items():
            scores[str(cell.summary["tasks"][task].get("type", "?"))][label].append(value)
    if len(rows) < 2 or not 1 <= len(scores) <= 10:
        return None
    fig, ax = new_axes()
    for index, (task_type, per_row) in enumerate(sorted(scores.items())):
        xs = [i for i, r in enumerate(rows) if per_row.get(r)]
        ax.plot(xs, [statistics.fmean(per_row[rows[i]]) * 100 for i in xs], "-o", color=f"C{index % 10}", label=task_type)
    ax.set_xticks(range(len(rows)), rows, rotation=20, ha="right", fontsize=8)
    return finish(fig, ax, path, xlabel=axis or "cell", ylabel="zero-shot test score (type mean)",
                  legend={"title": "task type", "fontsize": 8})


def selection_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    """Per row: the selection strategy, and the mean dev and test score of the answers and their gap."""
    rows: dict[str, dict[str, Any]] = {}
    for cell in cells:
        row = rows.setdefault(row_label(cell, axis), {"strategies": set(), "pairs": []})
        row["strategies"].add(cell.strategy)
        row["pairs"].extend(cell.dev_test_pairs().values())
    body = []
    for label, row in rows.items():
        pairs = row["pairs"]
        dev = statistics.fmean(d for d, _ in pairs) * 100 if pairs else None
        test = statistics.fmean(t for _, t in pairs) * 100 if pairs else None
        gap = dev - test if pairs else None
        body.append([label, ", ".join(sorted(row["strategies"])), dev, test, gap])
    return [axis or "cell", "selection", "answer dev", "answer test", "dev-test gap"], body


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


def plot_scaling(cells: list[CellResult], x_axis: str, series_axis: str | None, path: Path) -> Path | None:
    """Mean test score against a numeric axis (e.g. the number of training tasks), error bars over seeds."""
    lines: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        try:
            x = float(cell.values[x_axis])
        except (KeyError, ValueError):
            continue
        scores = cell.task_scores()
        if scores:
            lines[cell.values.get(series_axis, "all") if series_axis else "all"][x].append(statistics.fmean(scores.values()))
    if not lines:
        return None
    fig, ax = new_axes(6, 4)
    for index, (label, points) in enumerate(sorted(lines.items())):
        xs = sorted(points)
        means = [statistics.fmean(points[x]) * 100 for x in xs]
        stds = [(statistics.pstdev(points[x]) if len(points[x]) > 1 else 0.0) * 100 for x in xs]
        ax.errorbar(xs, means, yerr=stds, fmt="-o", capsize=3, color=f"C{index % 10}", label=str(label))
    every_x = sorted({x for points in lines.values() for x in points})
    if every_x[0] > 0 and every_x[-1] / every_x[0] >= 10:  # task counts: 4, 16, 64, ... read best on a log axis
        ax.set_xscale("log")
        ax.set_xticks(every_x, [f"{x:g}" for x in every_x])
        ax.minorticks_off()
    return finish(fig, ax, path, xlabel=x_axis, ylabel="zero-shot test score (mean over tasks)", legend={"title": series_axis or None, "fontsize": 8})


def write_sweep_report(root: Path) -> Path:
    """report.md, table CSVs and plots/*.png for a sweep folder."""
    root = Path(root)
    data = yaml.safe_load((root / "sweep.yaml").read_text(encoding="utf-8"))
    return write_cells_report(root, f"Sweep `{data['name']}`", data.get("description"), load_cells(root), data.get("report") or {})


def write_combined_report(run_dirs: list[Path], out: Path) -> Path:
    """One paper-style report over separate runs: rows by run name, seeds from each run's config."""
    cells = []
    for path in map(Path, run_dirs):
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        values = {"run": str(summary.get("name", path.name)), SEED_AXIS: str(summary.get("seed", 0))}
        cells.append(CellResult(path.name, values, path, summary))
    out.mkdir(parents=True, exist_ok=True)
    return write_cells_report(out, f"{len(cells)} runs", None, cells, {"rows": "run"})


def write_cells_report(root: Path, title: str, description: str | None, cells: list[CellResult], options: dict[str, Any]) -> Path:
    """The tables and plots of finished cells, written into ``root``."""
    axis = row_axis(cells, options.get("rows"))
    lines = [f"# {title}", ""]
    if description:
        lines += [str(description).strip(), ""]
    seeds = sorted({c.values.get(SEED_AXIS) for c in cells if SEED_AXIS in c.values})
    lines += [f"{len(cells)} finished cells; rows: `{axis}`; seeds: {', '.join(seeds) or 'one'}. "
              "Scores are test-set scores in points (x100), mean (std) over seeds.", ""]
    plots_dir = root / "plots"
    plots: list[tuple[str, Path | None]] = []
    if any(c.kind == "gps" for c in cells):
        gps_cells = [c for c in cells if c.kind == "gps"]
        headers, body = gps_table(gps_cells, axis)
        lines += ["## Test score of the answer (the best prompt on dev, Table 6/7 style)", "",
                  "Avg: mean over tasks, then mean (std) over seeds; Max/Min: over seeds. Arrows compare with `manual`.", "",
                  markdown_table(headers, body)]
        (root / "table_gps.csv").write_text(csv_table(headers, body), encoding="utf-8")
        headers, body = selection_table(gps_cells, axis)
        lines += ["## Selection: how far the answers' dev scores overstate their test scores", "",
                  "Mean over tasks and seeds (x100) of the answer each run chose (an ensemble's own scores for "
                  "`ensemble` answers); the gap is dev - test.", "", markdown_table(headers, body)]
        plots.append(("best dev fitness per generation", plot_generations(gps_cells, axis, plots_dir / "generations.png")))
        plots.append(("dev vs test of final prompts", plot_dev_vs_test(gps_cells, axis, plots_dir / "dev_vs_test.png")))
        from zp_evolve.report.run_report import plot_operators

        events = [e for c in gps_cells for e in RunDirectory(c.path).events()]
        plots.append(("offspring fitness per operator", plot_operators(events, plots_dir / "operators.png")))
    eval_cells = [c for c in cells if c.kind == "eval"]
    if eval_cells:
        headers, body = eval_table(eval_cells, axis)
        lines += ["## Zero-shot scores by task type (Table 4/5 style)", "",
                  "All: every held-out task; Seen/Unseen: tasks whose type was / was not among the training tasks' types.", "",
                  markdown_table(headers, body)]
        (root / "table_eval.csv").write_text(csv_table(headers, body), encoding="utf-8")
        plots.append(("zero-shot score per task type", plot_by_task_type(eval_cells, axis, plots_dir / "task_types.png")))
        plots.append(("supervised training loss", plot_training_loss(eval_cells, axis, plots_dir / "training_loss.png")))
    if cells:
        headers, body = per_task_table(cells, axis)
        lines += ["## Per task", "", markdown_table(headers, body)]
        (root / "table_tasks.csv").write_text(csv_table(headers, body), encoding="utf-8")
    if options.get("x"):
        plots.append((f"scaling along {options['x']}", plot_scaling(cells, options["x"], options.get("series"), plots_dir / "scaling.png")))
    shown = [(title, p) for title, p in plots if p is not None]
    if shown:
        lines += ["## Plots", ""] + [f"![{title}](plots/{p.name})" for title, p in shown] + [""]
    report = root / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
