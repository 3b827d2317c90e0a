"""Jobs: what a YAML file runs. ``job: gps`` (the default) is a Genetic Prompt Search;
plugins add others (the trainer adds ``train``, ``eval``, ``train_eval``).

Every job config has ``name`` and may have ``output_dir``; a run writes into one
directory, whose ``summary.json`` marks it done.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Protocol, runtime_checkable

from zp_evolve.errors import ConfigError, ConfigIssue
from zp_evolve.plugins import Plugins

DEFAULT_JOB = "gps"


@runtime_checkable
class Job(Protocol):
    def validate(self, data: dict[str, Any], *, file: str = "", lines: Mapping[tuple, int] | None = None) -> Any: ...

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]: ...


def job_for(data: Any, plugins: Plugins, file: str = "") -> Job:
    """The job a config asks for (``job:``, default ``gps``)."""
    name = data.get("job", DEFAULT_JOB) if isinstance(data, dict) else DEFAULT_JOB
    registry = plugins["jobs"]
    if not isinstance(name, str) or name not in registry:
        raise ConfigError([ConfigIssue("job", registry.unknown_message(str(name)), file=file)])
    return registry.get(name).factory()


def default_run_dir(data: Mapping[str, Any]) -> Path:
    return Path(data.get("output_dir") or "runs") / f"{data.get('name', 'run')}-{time.strftime('%Y%m%d-%H%M%S')}"


class GpsJob:
    """Genetic Prompt Search (paper Algorithm 1) over the configured tasks."""

    def __init__(self, plugins: Plugins | None = None, *, progress: bool = True) -> None:
        from zp_evolve.plugins import load_plugins

        self.plugins = plugins or load_plugins()
        self.progress = progress

    def validate(self, data: dict[str, Any], *, file: str = "", lines: Mapping[tuple, int] | None = None) -> Any:
        from zp_evolve.config import validate

        return validate(data, self.plugins, file=file, lines=lines)

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]:
        from zp_evolve.engine.gps import GeneticPromptSearch
        from zp_evolve.engine.rundir import RunDirectory

        resume = resume and (out_dir / "checkpoint.pkl").is_file()  # killed before its first checkpoint: start over
        config = self.validate(data, file=str(out_dir / "config.yaml") if resume else "")
        search = GeneticPromptSearch(config, data, RunDirectory(out_dir), self.plugins, progress=self.progress)
        return search.run(resume=resume)
