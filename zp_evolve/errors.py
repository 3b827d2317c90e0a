"""One error type per kind of failure; each message says how to fix the problem.

The CLI prints any :class:`ZpError` without a traceback and exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass


class ZpError(Exception):
    """Base class of every error zp_evolve raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in a configuration file."""

    path: str
    message: str
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        if not self.path:
            return f"{where}: {self.message}"
        return f"{where}: {self.path}: {self.message}"


class ConfigError(ZpError):
    """An invalid configuration. Holds every issue found, not just the first."""

    def __init__(self, issues: list[ConfigIssue] | str) -> None:
        if isinstance(issues, str):
            issues = [ConfigIssue(path="", message=issues)]
        self.issues = list(issues)
        count = len(self.issues)
        head = f"{count} configuration error{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head, *(f"  - {issue}" for issue in self.issues)]))


class PluginError(ZpError):
    """A plugin failed to load, registered a duplicate name, or broke its contract."""


class DataError(ZpError):
    """Task data is missing or malformed."""


class ModelError(ZpError):
    """A model could not be found, loaded or run."""


class ExecutorError(ZpError):
    """Workers failed in a way that retrying cannot fix."""


class RunError(ZpError):
    """A run directory is missing, incomplete or inconsistent."""
