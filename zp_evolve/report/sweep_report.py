"""Paper-style reports over finished runs: a sweep folder (``zp-evolve report SWEEP_DIR``)
or separate runs (``zp-evolve report RUN... --out DIR``).

The core writes what holds for any job: the header, a per-task table and the scaling
plot along a numeric axis (Figure 5), from each run's score per task
(``zp_summary_scores``). Everything job-specific comes from plugins through
``zp_report_sections``: GPS's Table 6/7 and its plots (:mod:`zp_gps.report`),
the trainer's Table 4/5 and Figure 7 (``zp_trainer.report``).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from zp_evolve.plugins import Plugins
from zp_evolve.report.aggregate import (
    DEV_MARK,
    SEED_AXIS,
    cell_result,
    cell_text,
    dev_fallbacks,
    group_rows,
    load_cells,
    row_axis,
)
from zp_evolve.report.plotting import finish, new_axes
from zp_evolve.report.sections import CellResult, CellsReport, ReportSection
from zp_evolve.report.tables import csv_table, markdown_table


def per_task_table(cells: list[CellResult], axis: str | None) -> tuple[list[str], list[list[Any]]]:
    rows = group_rows(cells, axis)
    tasks = sorted({t for r in rows for t in r.per_task})
    headers = ["task", *(r.label for r in rows)]
    body = [[t, *(cell_text(r.per_task.get(t, []), dev=t in r.dev_tasks) for r in rows)] for t in tasks]
    return headers, body


def plot_scaling(cells: list[CellResult], x_axis: str, series_axis: str | None, path: Path) -> Path | None:
    """Mean test score against a numeric axis (e.g. the number of training tasks), error bars over seeds."""
    lines: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        try:
            x = float(cell.values[x_axis])
        except (KeyError, ValueError):
            continue
        if cell.scores:
            series = cell.values.get(series_axis, "all") if series_axis else "all"
            lines[series][x].append(statistics.fmean(s.value for s in cell.scores.values()))
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


def write_sweep_report(root: Path, plugins: Plugins) -> Path:
    """report.md, table CSVs and plots/*.png for a sweep folder."""
    root = Path(root)
    data = yaml.safe_load((root / "sweep.yaml").read_text(encoding="utf-8"))
    cells = load_cells(root, plugins)
    return write_cells_report(root, f"Sweep `{data['name']}`", data.get("description"), cells, data.get("report") or {}, plugins)


def write_combined_report(run_dirs: list[Path], out: Path, plugins: Plugins) -> Path:
    """One paper-style report over separate runs: rows by run name, seeds from each run's config."""
    cells = []
    for path in map(Path, run_dirs):
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        values = {"run": str(summary.get("name", path.name)), SEED_AXIS: str(summary.get("seed", 0))}
        cells.append(cell_result(path.name, values, path, summary, plugins))
    out.mkdir(parents=True, exist_ok=True)
    return write_cells_report(out, f"{len(cells)} runs", None, cells, {"rows": "run"}, plugins)


def _scores_sentence(cells: list[CellResult]) -> str:
    fallbacks = dev_fallbacks(cells)
    if not fallbacks:
        return "Scores are test-set scores in points (x100), mean (std) over seeds."
    shown = ", ".join(f"`{f}`" for f in fallbacks[:8]) + (f" and {len(fallbacks) - 8} more" if len(fallbacks) > 8 else "")
    return (
        "Scores are test-set scores in points (x100), mean (std) over seeds, except those marked "
        f"{DEV_MARK}: dev-set scores (or means holding one) of runs that measured no test score: {shown}."
    )


def write_cells_report(
    root: Path, title: str, description: str | None, cells: list[CellResult], options: dict[str, Any], plugins: Plugins
) -> Path:
    """The tables and plots of finished cells, written into ``root``: plugins' sections, then
    the per-task table and the scaling plot."""
    axis = row_axis(cells, options.get("rows"))
    lines = [f"# {title}", ""]
    if description:
        lines += [str(description).strip(), ""]
    seeds = sorted({c.values.get(SEED_AXIS) for c in cells if SEED_AXIS in c.values})
    lines += [f"{len(cells)} finished cells; rows: `{axis}`; seeds: {', '.join(seeds) or 'one'}. {_scores_sentence(cells)}", ""]
    report = CellsReport(root=root, cells=cells, rows=axis, options=options)
    contributed: list[ReportSection] = [s for found in plugins.hook.zp_report_sections(report=report) for s in found or ()]
    plots: list[tuple[str, Path | None]] = []
    for section in sorted(contributed, key=lambda s: (s.order, s.title)):
        lines += [f"## {section.title}", "", section.body]
        plots += list(section.plots)
    if any(c.scores for c in cells):
        headers, body = per_task_table(cells, axis)
        lines += ["## Per task", "", markdown_table(headers, body)]
        (root / "table_tasks.csv").write_text(csv_table(headers, body), encoding="utf-8")
    if options.get("x"):
        plots.append((f"scaling along {options['x']}", plot_scaling(cells, options["x"], options.get("series"), report.plots_dir / "scaling.png")))
    shown = [(caption, p) for caption, p in plots if p is not None]
    if shown:
        lines += ["## Plots", ""] + [f"![{caption}](plots/{p.name})" for caption, p in shown] + [""]
    path = root / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
