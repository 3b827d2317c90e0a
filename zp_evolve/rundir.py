"""The run directory: resolved config, event log, checkpoints, summary and report.

Layout::

    config.yaml      the resolved configuration
    events.jsonl     one line per scored prompt
    checkpoint.pkl   search state after each generation, RNG state included
    summary.json     final top K per task with dev and test scores
    report.md        human-readable report; plots/ holds its PNGs
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from zp_evolve.errors import RunError


@dataclass
class RunInfo:
    """What lifecycle hooks (``zp_run_start`` ...) see of a run: its name, folder, validated
    config and state (for GPS: :class:`zp_gps.schema.RunConfig`, :class:`zp_gps.state.SearchState`)."""

    name: str
    path: Path
    config: Any
    state: Any


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that a crash leaves either the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL log (none if it is missing); a line cut short by a kill is skipped."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


class RunDirectory:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._events = None

    config_path = property(lambda self: self.path / "config.yaml")
    events_path = property(lambda self: self.path / "events.jsonl")
    checkpoint_path = property(lambda self: self.path / "checkpoint.pkl")
    summary_path = property(lambda self: self.path / "summary.json")
    report_path = property(lambda self: self.path / "report.md")
    plots_path = property(lambda self: self.path / "plots")

    def create(self, raw_config: dict[str, Any]) -> None:
        if self.checkpoint_path.exists():
            raise RunError(
                f"{self.path} already holds a run. Continue it with 'zp-evolve resume {self.path}' "
                "or choose another --run-dir."
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.events_path.unlink(missing_ok=True)  # left by a start that died before its first checkpoint
        atomic_write(self.config_path, yaml.safe_dump(raw_config, sort_keys=False, allow_unicode=True).encode("utf-8"))

    def read_config(self) -> dict[str, Any]:
        if not self.config_path.is_file():
            raise RunError(f"{self.path} is not a run directory: config.yaml is missing")
        return yaml.safe_load(self.config_path.read_text(encoding="utf-8"))

    def append_event(self, event: dict[str, Any]) -> None:
        if self._events is None:
            self._repair_events()
            self._events = open(self.events_path, "a", encoding="utf-8")
        self._events.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._events.flush()  # a SIGKILL after this loses nothing: the OS holds the bytes

    def sync_events(self) -> None:
        if self._events is not None:
            os.fsync(self._events.fileno())

    def _repair_events(self) -> None:
        """Drop a half-written last line left by a killed process."""
        if not self.events_path.exists():
            return
        data = self.events_path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with open(self.events_path, "r+b") as stream:
                stream.truncate(cut)

    def events(self) -> Iterator[dict[str, Any]]:
        if not self.events_path.exists():
            return
        with open(self.events_path, encoding="utf-8") as stream:
            for line in stream:
                if line.endswith("\n"):
                    yield json.loads(line)

    def save_checkpoint(self, state: Any) -> None:
        self.sync_events()
        atomic_write(self.checkpoint_path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))

    def load_checkpoint(self, moved: Mapping[str, str] | None = None) -> Any:
        """The state saved last; ``moved`` maps module paths of classes pickled by an older
        version to where they live now (``{"zp_evolve.engine.state": "zp_gps.state"}``)."""
        if not self.checkpoint_path.is_file():
            raise RunError(f"{self.path} has no checkpoint.pkl: the run never finished its first generation")
        with open(self.checkpoint_path, "rb") as stream:
            return _MovedModules(stream, dict(moved or {})).load()

    def write_summary(self, summary: dict[str, Any]) -> None:
        text = json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False)
        atomic_write(self.summary_path, (text + "\n").encode("utf-8"))

    def read_summary(self) -> dict[str, Any]:
        if not self.summary_path.is_file():
            raise RunError(f"{self.path} has no summary.json: the run has not finished (resume it first)")
        return json.loads(self.summary_path.read_text(encoding="utf-8"))

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
            self._events = None


class _MovedModules(pickle.Unpickler):
    """An unpickler that finds classes whose module moved since they were pickled."""

    def __init__(self, stream: Any, moved: dict[str, str]) -> None:
        super().__init__(stream)
        self.moved = moved

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(self.moved.get(module, module), name)
