"""``zp-evolve export``: a finished search's prompts, for people and for other tools.

Two forms of the final top K per task (best on dev first), each prompt with its dev
and test score:

* ``yaml``: a ``prompts:`` block, commented with the scores. With one task it is a
  task card's ``prompts:`` list; with all tasks, a mapping task -> list, which is
  exactly a run config's ``tasks: {prompts: ...}`` (the G0 of a new search).
* ``json``: every score, the operator and generation of each prompt, the run's model
  and fitness, and each prompt both as the search kept it (``prompt``, span marks
  included) and as a model reads it (``text``).

Span marks (``{{...}}``) are kept by default, so a search seeded with the export keeps
its fixed spans; ``strip_marks=True`` gives the text alone. A prompt's own answer
choices (``template ||| a ||| b``) are part of its text and stay in both forms.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal, Mapping

from zp_evolve.errors import RunError
from zp_evolve.prompts import CHOICES_SEPARATOR
from zp_evolve.spans import has_marks, strip_marks

ExportFormat = Literal["yaml", "json"]


def gps_tasks(summary: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The per-task results of a GPS summary, or a RunError saying what the run is not."""
    tasks = summary.get("tasks")
    if not isinstance(tasks, dict) or not all(isinstance(t, dict) and "top_k" in t for t in tasks.values()):
        raise RunError(f"{path} is not a prompt search (its summary.json has no top_k prompts per task); "
                       "export works on runs of 'job: gps'")
    return tasks


def _score(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _entry(entry: Mapping[str, Any], rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "prompt": entry["prompt"],
        "text": strip_marks(entry["prompt"]),
        "dev": _score(entry.get("dev")),
        "test": _score(entry.get("test")),
        "operator": entry.get("operator"),
        "generation": entry.get("generation"),
    }


def export_data(summary: Mapping[str, Any], path: Path, tasks: list[str] | None = None) -> dict[str, Any]:
    """The JSON form: run metadata and, per task, its final prompts with their scores."""
    found = gps_tasks(summary, path)
    names = _chosen(found, tasks, path)
    return {
        "run": str(path),
        "name": summary.get("name"),
        "seed": summary.get("seed"),
        "model": summary.get("model"),
        "fitness": summary.get("fitness"),
        "stop_reason": summary.get("stop_reason"),
        "tasks": {
            name: {
                "type": found[name].get("type"),
                "language": found[name].get("language"),
                "metric": found[name].get("metric"),
                "dev_size": found[name].get("dev_size"),
                "test_size": found[name].get("test_size"),
                "prompts": [_entry(e, rank) for rank, e in enumerate(found[name]["top_k"], 1)],
                "manual_best_on_dev": _entry(found[name]["manual_best_on_dev"], 0) if found[name].get("manual_best_on_dev") else None,
            }
            for name in names
        },
    }


def _chosen(found: Mapping[str, Any], tasks: list[str] | None, path: Path) -> list[str]:
    if not tasks:
        return list(found)
    unknown = [t for t in tasks if t not in found]
    if unknown:
        raise RunError(f"{path} searched no task {', '.join(map(repr, unknown))}; its tasks are: {', '.join(found)}")
    return list(tasks)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def export_text(
    summary: Mapping[str, Any],
    path: Path,
    *,
    fmt: ExportFormat = "yaml",
    tasks: list[str] | None = None,
    strip: bool = False,
) -> str:
    """``summary.json`` of the run at ``path`` as YAML or JSON text (see the module docstring)."""
    data = export_data(summary, path, tasks)
    if strip:
        for task in data["tasks"].values():
            for entry in [*task["prompts"], task["manual_best_on_dev"] or {}]:
                if entry:
                    entry["prompt"] = entry["text"]
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise RunError(f"unknown export format {fmt!r}; use yaml or json")
    single = len(data["tasks"]) == 1 and bool(tasks)
    lines = [
        f"# zp-evolve export {path}: the final prompts of {data['name']}, best on dev first.",
        "# A task's list is a task card's `prompts:`; the mapping is a run config's `tasks: {prompts: ...}`.",
    ]
    if any(has_marks(e["prompt"]) for task in data["tasks"].values() for e in task["prompts"]):
        lines.append("# {{...}} marks the spans mutation operators may change; the rest stays fixed.")
    if any(CHOICES_SEPARATOR in e["prompt"] for task in data["tasks"].values() for e in task["prompts"]):
        lines.append("# '||| a ||| b' after a template: the prompt's own answer words, one per label in the task's order.")
    lines.append("prompts:")
    for name, task in data["tasks"].items():
        about = f"{task['type']}, {task['metric']}; dev {task['dev_size']} / test {task['test_size']} examples"
        indent = "  "
        if single:
            lines.append(f"  # {name}: {about}")
        else:
            lines.append(f"  {json.dumps(name)}:  # {about}")
            indent = "    "
        for entry in task["prompts"]:
            # a JSON string is a valid YAML double-quoted scalar, whatever the prompt holds
            lines.append(f"{indent}- {json.dumps(entry['prompt'], ensure_ascii=False)}  # dev {_fmt(entry['dev'])}, test {_fmt(entry['test'])}")
    return "\n".join(lines) + "\n"
