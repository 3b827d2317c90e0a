"""What report hooks exchange: the finished runs a report covers, the sections plugins add,
and the score per task that each job's summary holds.

A report over many runs (a sweep's cells, or ``zp-evolve report RUN... --out DIR``)
knows no job's files: each plugin reads the summaries of its own jobs
(``zp_summary_scores``) and adds the sections only it can write
(``zp_report_sections``), as the GPS engine does for its own runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class TaskScore:
    """One task's headline score in a finished run, and the split it was measured on."""

    value: float
    split: str = "test"  # "dev" when the run measured no test score (no test sample)


@dataclass
class CellResult:
    """A finished run in a report: its id, its grid value per axis, folder and summary."""

    id: str
    values: dict[str, str]
    path: Path
    summary: dict[str, Any]
    #: The score per task, as the plugin that knows the run's job reads its summary.
    scores: dict[str, TaskScore] = field(default_factory=dict)

    @property
    def job(self) -> str:
        """The job that wrote the summary; GPS summaries carry none (``gps`` is the default job)."""
        return str(self.summary.get("job", "gps"))


@dataclass(frozen=True)
class ReportSection:
    """A titled part of a report: Markdown, and PNG plots written under ``CellsReport.plots_dir``."""

    title: str
    body: str
    plots: tuple[tuple[str, Path | None], ...] = ()  # (caption, path); None when there was nothing to plot
    order: int = 50  # sections appear by order, then title


@dataclass(frozen=True)
class CellsReport:
    """A report over finished runs, written into ``root`` (``report.md``, CSVs, ``plots/``)."""

    root: Path
    cells: list[CellResult]
    rows: str | None  # the grid axis whose values label table rows
    options: Mapping[str, Any]  # the sweep's ``report:`` block

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"

    def of_job(self, *jobs: str) -> list[CellResult]:
        """The cells whose runs are of one of ``jobs``."""
        return [cell for cell in self.cells if cell.job in jobs]
