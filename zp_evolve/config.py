"""Config files of every job: read YAML with the line of each key, apply ``--set``
overrides, and turn schema errors into issues that name the file, the line, the key
path, what is wrong and what is allowed. Each job validates its own schema (the GPS
job's is :mod:`zp_gps.config`, the trainer's :mod:`zp_trainer.validation`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from pydantic import BaseModel, ValidationError

from zp_evolve.errors import ConfigError, ConfigIssue, DataError
from zp_evolve.keypaths import KeyPathError, assign
from zp_evolve.textfiles import NotUtf8Error, read_utf8


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple, int]]:
    """Parse a YAML file; also return the line of every key path."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([ConfigIssue("", f"file not found: {path}. Check the path.", file=str(path))])
    try:
        text = read_utf8(path)
    except NotUtf8Error as error:
        raise ConfigError([ConfigIssue("", error.reason, file=str(path), line=error.line)]) from None
    except DataError as error:
        raise ConfigError([ConfigIssue("", str(error), file=str(path))]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError([ConfigIssue("", f"malformed YAML: {problem}", file=str(path), line=line)]) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def _index_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _index_lines(value, path + (index,), lines)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides; values are parsed as YAML scalars or lists."""
    data = copy.deepcopy(data)
    issues = []
    for override in overrides:
        if "=" not in override:
            issues.append(ConfigIssue(override, "an override must look like key.path=value, e.g. search.top_k=8"))
            continue
        key, raw = override.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        try:
            assign(data, key.strip(), value)
        except KeyPathError as error:
            issues.append(ConfigIssue(key, f"cannot set {key!r}: {error}"))
    if issues:
        raise ConfigError(issues)
    return data


def _path_text(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path)


def schema_issues(error: ValidationError, model: type[BaseModel]) -> list[ConfigIssue]:
    """Pydantic errors as config issues; an unknown key lists the keys ``model`` allows there.

    Shared by the jobs' schemas (GPS's, the trainer's), so that they report alike.
    """
    issues = []
    for item in error.errors():
        loc = [p for p in item["loc"]]
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            parent = loc[:-1]
            allowed = allowed_keys(parent, model)
            message = f"unknown key {loc[-1]!r}" + (f". Allowed: {', '.join(allowed)}" if allowed else "")
        elif item["type"] == "missing":
            message = "required key is missing"
        elif "input" in item and not isinstance(item["input"], (dict, list)):
            message = f"{message} (got {item['input']!r})"
        issues.append(ConfigIssue(_path_text(loc), message))
    return issues


def allowed_keys(path: Sequence[Any], model: type[BaseModel]) -> list[str]:
    """The keys ``model`` allows at ``path`` (through optional sub-models too)."""
    current: Any = model
    for part in path:
        field = getattr(current, "model_fields", {}).get(part) if isinstance(part, str) else None
        if field is None:
            return []
        current = field.annotation
        for argument in getattr(current, "__args__", None) or ():  # Optional[SubModel]
            if hasattr(argument, "model_fields"):
                current = argument
    return list(getattr(current, "model_fields", {}))


def locate(issue: ConfigIssue, file: str, lines: Mapping[tuple, int]) -> ConfigIssue:
    """The issue with ``file`` and the line of its key path (or the nearest parent's),
    unless it already names them."""
    path = tuple(int(p) if p.isdigit() else p for p in issue.path.split(".")) if issue.path else ()
    line = lines.get(path)
    while line is None and path:
        path = path[:-1]
        line = lines.get(path)
    return ConfigIssue(issue.path, issue.message, file=issue.file or file, line=issue.line or line)
