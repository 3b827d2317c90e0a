"""The grid of a sweep: its cells (one config per combination of axis values) and setup jobs.

A sweep file (see :mod:`zp_evolve.sweep`) names a ``base`` config and ``grid`` axes;
each cell is ``base`` with one value of every axis merged in by dotted key path
(:func:`zp_evolve.keypaths.merged`). Reports read cells through :func:`expand` too,
so this module imports neither the sweep runner nor the reports.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from zp_evolve.config import read_yaml
from zp_evolve.errors import ConfigError, ConfigIssue
from zp_evolve.keypaths import KeyPathError, merged

SWEEP_KEYS = ("name", "description", "output_dir", "setup", "base", "grid", "report")
SETUP_REFERENCE = re.compile(r"\$\{setup\.([A-Za-z0-9_-]+)\}")
GRID_REFERENCE = re.compile(r"\$\{grid\.([A-Za-z0-9_-]+)\}")


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its id, the chosen value per axis, and its full config."""

    id: str
    values: Mapping[str, Any]
    data: dict[str, Any]


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    try:
        return merged(base, overrides)
    except KeyPathError as error:
        raise ConfigError([ConfigIssue(where, f"cannot merge into the base config: {error}")]) from None


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
        return _merged(included, {k: v for k, v in entry.items() if k != "include"}, where)

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

            value = GRID_REFERENCE.sub(label, value)  # first, so ${setup.gen_s${grid.seed}} names a setup job

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
        for (axis, _), (label, overrides) in zip(axes, combination):
            cell = _merged(cell, overrides, f"grid.{axis}.{label}")
        cell_id = _cell_id(labels)
        cell["name"] = f"{data['name']}-{cell_id}"
        cells.append(Cell(cell_id, labels, resolve(cell, f"grid[{cell_id}]", labels)))
    return setups, cells
