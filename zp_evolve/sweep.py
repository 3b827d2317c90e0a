"""Sweeps: one experiment file, a grid of cells (methods x seeds x settings).

An experiment file with a ``grid`` runs every cell of the grid with one command,
skips cells already done (``summary.json`` present) and resumes unfinished ones::

    name: gps_ablation
    setup:                       # optional jobs run once before the grid
      generalist: {job: train, ...}
    base: {job: gps, ...}        # the config every cell starts from
    grid:
      method:                    # named variants: overrides merged into base
        manual: {search.generations: 0}
        bt_gps: {mutators: [{name: back_translation}]}
      seed: [0, 1, 2]            # a list: values of the key path named by the axis
    report: {rows: method}

Strings ``${setup.NAME}`` in cells become the setup job's output folder,
``${sweep}`` the sweep's own folder, and ``${grid.AXIS}`` the cell's label on that axis,
first, so one setup job per seed can be named per cell: ``${setup.gen_s${grid.seed}}``. ``base`` and
setup jobs may be ``{include: OTHER.yaml, **overrides}`` (relative to the sweep file).
Everything lands in ``OUTPUT_DIR/NAME/``: ``setup/NAME/``, ``cells/CELL/``, and the
sweep report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml

from zp_evolve.errors import ConfigError, ConfigIssue, ZpError
from zp_evolve.grid import Cell, expand, resolve_includes, sweep_dir
from zp_evolve.plugins import Plugins


def validate_sweep(
    file: str, data: Mapping[str, Any], lines: Mapping[tuple, int] | None, plugins: Plugins, *, root: Path | None = None,
) -> tuple[dict[str, dict[str, Any]], list[Cell]]:
    """Validate the setup jobs and every cell; one ConfigError lists every problem.

    Returns the setup jobs and cells as validated (``${setup.NAME}`` resolved under ``root``,
    default the sweep's own folder), which are what a run must run. Cells are merged from
    several places of the file, so their errors name the cell and the key path rather than a line.
    """

    data = resolve_includes(data, Path(file).parent)
    setups, cells = expand(data, root or sweep_dir(data))
    issues: list[ConfigIssue] = []
    entries = [(f"setup.{n}", c) for n, c in setups.items()] + [(f"cell {c.id}", c.data) for c in cells]
    for label, config in entries:
        try:
            plugins.job(config, file=file).validate(config, file=file)
        except ConfigError as error:
            issues.extend(ConfigIssue(f"{label}: {i.path}" if i.path else label, i.message, file=file, line=i.line) for i in error.issues)
    if issues:
        raise ConfigError(issues)
    return setups, cells


def cell_status(path: Path) -> str:
    if (path / "summary.json").is_file():
        return "done"
    if (path / "config.yaml").is_file():
        return "unfinished"
    return "new"


def run_sweep(
    file: str, data: Mapping[str, Any], lines: Mapping[tuple, int] | None, plugins: Plugins,
    *, out_dir: str | Path | None = None, progress: bool = True, echo=print,
) -> Path:
    """Run the setup jobs and every cell; skip what is done, resume what is not."""
    from zp_evolve.report.sweep_report import write_sweep_report

    root = sweep_dir(data, out_dir)
    setups, cells = validate_sweep(file, data, lines, plugins, root=root)  # as validated: split files anchored
    data = resolve_includes(data, Path(file).parent)  # sweep.yaml keeps the resolved form
    root.mkdir(parents=True, exist_ok=True)
    (root / "sweep.yaml").write_text(yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True), encoding="utf-8")
    jobs = [(f"setup {name}", root / "setup" / name, config) for name, config in setups.items()]
    jobs += [(f"cell {cell.id}", root / "cells" / cell.id, cell.data) for cell in cells]
    echo(f"sweep {data['name']}: {len(cells)} cells, {len(setups)} setup jobs -> {root}")
    for index, (label, path, config) in enumerate(jobs, 1):
        status = cell_status(path)
        if status == "done":
            echo(f"[{index}/{len(jobs)}] {label}: done, skipped")
            continue
        echo(f"[{index}/{len(jobs)}] {label}: {'resuming' if status == 'unfinished' else 'running'}")
        job = plugins.job(config, file=file)
        if hasattr(job, "progress"):
            job.progress = progress
        try:
            job.run(config, path, resume=status == "unfinished")
        except ZpError as error:
            raise type(error)(f"{label} failed: {error}. Fix it and run the same command again: finished cells are kept.") from error
    report = write_sweep_report(root, plugins)
    echo(f"report:  {report}")
    return root
