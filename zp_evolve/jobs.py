"""Jobs: what a YAML file runs. ``job: gps`` (the default, registered by the zp_gps
plugin) is a Genetic Prompt Search; the trainer adds ``train``, ``eval``, ``train_eval``.
:meth:`zp_evolve.plugins.Plugins.job` finds the job of a config.

Every job config has ``name`` and may have ``output_dir``; a run writes into one
directory, whose ``summary.json`` marks it done.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Protocol, runtime_checkable


@runtime_checkable
class Job(Protocol):
    """``validate`` raises one ConfigError listing every problem; ``run`` returns the summary.
    A job may also have ``notes(config) -> list[str]``: lines ``zp-evolve validate`` prints
    under a valid file (GPS: its projected cost), and ``write_report(run_dir) -> Path``."""

    def validate(self, data: dict[str, Any], *, file: str = "", lines: Mapping[tuple, int] | None = None) -> Any: ...

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]: ...


def default_run_dir(data: Mapping[str, Any]) -> Path:
    return Path(data.get("output_dir") or "runs") / f"{data.get('name', 'run')}-{time.strftime('%Y%m%d-%H%M%S')}"
