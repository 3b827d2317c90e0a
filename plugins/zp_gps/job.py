"""The ``gps`` job: Genetic Prompt Search (paper Algorithm 1) over the configured tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from zp_evolve.catalog import catalog_of
from zp_evolve.plugins import Plugins, load_plugins
from zp_evolve.rundir import RunDirectory
from zp_gps.budget import projection
from zp_gps.config import validate
from zp_gps.defaults import pin_changed_defaults, with_defaults_of_its_folder
from zp_gps.run_report import write_run_report
from zp_gps.schema import RunConfig
from zp_gps.search import GeneticPromptSearch


class GpsJob:
    """Genetic Prompt Search (paper Algorithm 1) over the configured tasks."""

    def __init__(self, plugins: Plugins | None = None, *, progress: bool = True) -> None:
        self.plugins = plugins or load_plugins()
        self.progress = progress

    def validate(self, data: dict[str, Any], *, file: str = "", lines: Mapping[tuple, int] | None = None) -> Any:
        return validate(data, self.plugins, file=file, lines=lines)

    def notes(self, config: RunConfig) -> list[str]:
        """What ``zp-evolve validate`` prints under a valid file: the run's projected cost."""
        return [projection(config, catalog_of(self.plugins, config.tasks.providers))]

    def write_report(self, run_dir: Path) -> Path:
        """``report.md`` and its plots for one run folder (finished or not)."""
        return write_run_report(run_dir)

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]:
        resume = resume and (out_dir / "checkpoint.pkl").is_file()  # killed before its first checkpoint: start over
        if resume:
            data = with_defaults_of_its_folder(data, RunDirectory(out_dir).read_config() or {})
        config = self.validate(data, file=str(out_dir / "config.yaml") if resume else "")
        data = pin_changed_defaults(data, config)
        search = GeneticPromptSearch(config, data, RunDirectory(out_dir), self.plugins, progress=self.progress)
        return search.run(resume=resume)
