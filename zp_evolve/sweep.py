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

import copy
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from zp_evolve.config import read_yaml
from zp_evolve.errors import ConfigError, ConfigIssue, ZpError
from zp_evolve.plugins import Plugins

SWEEP_KEYS = ("name", "description", "output_dir", "setup", "base", "grid", "report")
SETUP_REFERENCE = re.compile(r"\$\{setup\.([A-Za-z0-9_-]+)\}")
GRID_REFERENCE = re.compile(r"\$\{grid\.([A-Za-z0-9_-]+)\}")


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its id, the chosen value per axis, and its full config."""

    id: str
    values: Mapping[str, Any]
    data: dict[str, Any]


def deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in; dotted keys (``search.top_k``) address nested keys."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        parts = str(key).split(".")
        target = merged
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        last = parts[-1]
        if isinstance(value, Mapping) and isinstance(target.get(last), dict):
            target[last] = deep_merge(target[last], value)
        else:
            target[last] = copy.deepcopy(value)
    return merged


def resolve_includes(data: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Replace ``{include: FILE, **overrides}`` in ``base`` and ``setup`` entries by FILE's
    config with the overrides merged in; FILE is relative to the sweep file's folder."""

    def load(entry: Any, where: str) -> Any:
        if not isinstance(entry, Mapping) or "include" not in entry:
            return entry
        path = folder / str(entry["include"])
        if not path.is_file():
            raise ConfigError([ConfigIssue(f"{where}.include", f"file not found: {path}")])
        included, _ = read_yaml(path)  # malformed YAML: a ConfigError with the file and line
        if not isinstance(included, dict):
            raise ConfigError([ConfigIssue(f"{where}.include", f"{path} does not hold a mapping")])
        return deep_merge(included, {k: v for k, v in entry.items() if k != "include"})

    resolved = dict(data)
    if "base" in resolved:
        resolved["base"] = load(resolved["base"], "base")
    if isinstance(resolved.get("setup"), Mapping):
        resolved["setup"] = {name: load(job, f"setup.{name}") for name, job in resolved["setup"].items()}
    return resolved


def _axis_values(name: str, spec: Any) -> list[tuple[str, dict[str, Any]]]:
    """(label, overrides) pairs of one axis."""
    if isinstance(spec, Mapping):
        return [(str(label), dict(overrides or {})) for label, overrides in spec.items()]
    if isinstance(spec, list):
        return [(str(value), {name: value}) for value in spec]
    raise ConfigError([ConfigIssue(f"grid.{name}", "an axis is a list of values or a mapping of named overrides")])


def _cell_id(values: Mapping[str, str]) -> str:
    text = "__".join(f"{axis}-{label}" for axis, label in values.items())
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)


def sweep_dir(data: Mapping[str, Any], out_dir: str | Path | None = None) -> Path:
    return Path(out_dir) if out_dir else Path(data.get("output_dir") or "runs") / str(data.get("name", "sweep"))


def expand(data: Mapping[str, Any], root: Path) -> tuple[dict[str, dict[str, Any]], list[Cell]]:
    """The setup jobs and the cells of a sweep, with ``${setup.NAME}`` resolved."""
    issues = [ConfigIssue(key, f"unknown key {key!r}. Allowed: {', '.join(SWEEP_KEYS)}") for key in data if key not in SWEEP_KEYS]
    if not isinstance(data.get("name"), str):
        issues.append(ConfigIssue("name", "a sweep needs a name (a string)"))
    grid = data.get("grid")
    if not isinstance(grid, Mapping) or not grid:
        issues.append(ConfigIssue("grid", "must map axis names to values"))
    base = data.get("base", {})
    if not isinstance(base, Mapping):
        issues.append(ConfigIssue("base", "must be a mapping (the config every cell starts from)"))
    setup = data.get("setup") or {}
    if not isinstance(setup, Mapping):
        issues.append(ConfigIssue("setup", "must map setup-job names to job configs"))
    if issues:
        raise ConfigError(issues)
    setup_dirs = {name: root / "setup" / str(name) for name in setup}

    def resolve(value: Any, where: str, labels: Mapping[str, str] | None = None) -> Any:
        if isinstance(value, str):
            def label(match: re.Match[str]) -> str:
                if labels is None or match.group(1) not in labels:
                    axes = sorted(labels) if labels else "none (setup jobs are not cells)"
                    raise ConfigError([ConfigIssue(where, f"${{grid.{match.group(1)}}} names no grid axis; axes: {axes}")])
                return labels[match.group(1)]

            value = GRID_REFERENCE.sub(label, value)

            def replace(match: re.Match[str]) -> str:
                if match.group(1) not in setup_dirs:
                    raise ConfigError([ConfigIssue(where, f"${{setup.{match.group(1)}}} names no setup job; setup jobs: {sorted(setup_dirs) or 'none'}")])
                return str(setup_dirs[match.group(1)])
            return SETUP_REFERENCE.sub(replace, value).replace("${sweep}", str(root))
        if isinstance(value, Mapping):
            return {k: resolve(v, f"{where}.{k}", labels) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, f"{where}.{i}", labels) for i, v in enumerate(value)]
        return value

    setups = {}
    for name, job in setup.items():
        job = resolve(dict(job), f"setup.{name}")
        job.setdefault("name", f"{data['name']}-{name}")
        setups[str(name)] = job
    axes = [(axis, _axis_values(axis, spec)) for axis, spec in grid.items()]
    cells = []
    for combination in itertools.product(*(values for _, values in axes)):
        labels = {axis: label for (axis, _), (label, _) in zip(axes, combination)}
        cell = dict(base)
        for _, overrides in combination:
            cell = deep_merge(cell, overrides)
        cell_id = _cell_id(labels)
        cell["name"] = f"{data['name']}-{cell_id}"
        cells.append(Cell(cell_id, labels, resolve(cell, f"grid[{cell_id}]", labels)))
    return setups, cells


def validate_sweep(file: str, data: Mapping[str, Any], lines: Mapping[tuple, int] | None, plugins: Plugins) -> list[Cell]:
    """Validate the setup jobs and every cell; one ConfigError lists every problem.

    Cells are merged from several places of the file, so their errors name the cell and
    the key path rather than a line.
    """
    from zp_evolve.jobs import job_for

    data = resolve_includes(data, Path(file).parent)
    setups, cells = expand(data, sweep_dir(data))
    issues: list[ConfigIssue] = []
    entries = [(f"setup.{n}", c) for n, c in setups.items()] + [(f"cell {c.id}", c.data) for c in cells]
    for label, config in entries:
        try:
            job_for(config, plugins, file=file).validate(config, file=file)
        except ConfigError as error:
            issues.extend(ConfigIssue(f"{label}: {i.path}" if i.path else label, i.message, file=file, line=i.line) for i in error.issues)
    if issues:
        raise ConfigError(issues)
    return cells


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
    from zp_evolve.jobs import job_for
    from zp_evolve.report.sweep_report import write_sweep_report

    root = sweep_dir(data, out_dir)
    cells = validate_sweep(file, data, lines, plugins)
    data = resolve_includes(data, Path(file).parent)  # sweep.yaml keeps the resolved form
    setups, _ = expand(data, root)
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
        job = job_for(config, plugins, file=file)
        if hasattr(job, "progress"):
            job.progress = progress
        try:
            job.run(config, path, resume=status == "unfinished")
        except ZpError as error:
            raise type(error)(f"{label} failed: {error}. Fix it and run the same command again: finished cells are kept.") from error
    report = write_sweep_report(root)
    echo(f"report:  {report}")
    return root
