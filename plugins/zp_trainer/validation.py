"""One validation pass over a trainer config, reporting every problem at once.

Schema problems (pydantic) come first, with the allowed keys of the mapping at fault;
then plugin entries (backend, fitness, task providers) are checked against the
registries, and task names against the catalog, without loading any model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from pydantic import BaseModel, ValidationError

from zp_evolve.errors import ConfigError, ConfigIssue, ZpError
from zp_evolve.plugins import Plugins


def _allowed(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", {})
        field = fields.get(part) if isinstance(part, str) else None
        if field is None:
            return []
        current = field.annotation
        # Optional[X] and similar: take the model inside, if any.
        for arg in getattr(current, "__args__", ()) or ():
            if hasattr(arg, "model_fields"):
                current = arg
    return list(getattr(current, "model_fields", {}))


def schema_issues(error: ValidationError, model: type[BaseModel]) -> list[ConfigIssue]:
    issues = []
    for item in error.errors():
        loc = [p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            allowed = _allowed(model, loc[:-1])
            message = f"unknown key {loc[-1]!r}" + (f". Allowed: {', '.join(allowed)}" if allowed else "")
        elif item["type"] == "missing":
            message = "required key is missing"
        elif "input" in item and not isinstance(item["input"], (dict, list)):
            message = f"{message} (got {item['input']!r})"
        issues.append(ConfigIssue(".".join(str(p) for p in loc), message))
    return issues


def locate(issue: ConfigIssue, file: str, lines: Mapping[tuple, int]) -> ConfigIssue:
    """The issue with the file and the line of its key path (or the nearest parent's)."""
    path = tuple(int(p) if p.isdigit() else p for p in issue.path.split(".")) if issue.path else ()
    line = lines.get(path)
    while line is None and path:
        path = path[:-1]
        line = lines.get(path)
    return ConfigIssue(issue.path, issue.message, file=issue.file or file, line=issue.line or line)


def task_issues(plugins: Plugins, selection: Mapping[str, Any] | None, path: str) -> list[ConfigIssue]:
    """Providers, split file and task names of a task selection."""
    if not isinstance(selection, Mapping):
        return []
    issues: list[ConfigIssue] = []
    providers = selection.get("providers", [{"name": "packaged"}])
    if isinstance(providers, list):
        for index, spec in enumerate(providers):
            if isinstance(spec, dict):
                issues.extend(plugins.check_spec("tasks", spec, f"{path}.providers.{index}"))
    split = selection.get("split")
    if isinstance(split, Mapping) and isinstance(split.get("file"), str) and not Path(split["file"]).is_file():
        issues.append(ConfigIssue(f"{path}.split.file", f"split file {split['file']!r} not found (paths are relative to where you run)"))
    names = selection.get("names") or []
    if issues or not isinstance(names, list) or not names:
        return issues
    try:
        from zp_evolve.catalog import TaskCatalog

        catalog = TaskCatalog(plugins, providers)
    except ZpError as error:
        return [ConfigIssue(f"{path}.providers", str(error))]
    for index, name in enumerate(names):
        if isinstance(name, str) and name not in catalog:
            issues.append(ConfigIssue(f"{path}.names.{index}", catalog.unknown_message(name)))
    return issues


def validate_model(
    model: type[BaseModel],
    data: Any,
    *,
    file: str = "",
    lines: Mapping[tuple, int] | None = None,
    extra: Sequence[ConfigIssue] = (),
) -> Any:
    """``model.model_validate(data)``, or one :class:`ConfigError` with every issue located."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue("", "the file must hold a mapping of keys (job:, name:, ...)", file=file)])
    issues: list[ConfigIssue] = list(extra)
    config = None
    try:
        config = model.model_validate(data)
    except ValidationError as error:
        issues = schema_issues(error, model) + issues
    if issues:
        raise ConfigError([locate(issue, file, lines) for issue in issues])
    return config
