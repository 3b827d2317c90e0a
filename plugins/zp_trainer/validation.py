"""One validation pass over a trainer config, reporting every problem at once.

Schema problems come first, reported as core reports run configs (the allowed keys of
the mapping at fault, file and line: :func:`zp_evolve.config.schema_issues`); then
plugin entries (backend, metric, task providers) are checked against the registries,
and task names against the catalog, without loading any model.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pydantic import BaseModel, ValidationError

from zp_evolve.catalog import catalog_of
from zp_evolve.config import locate, schema_issues
from zp_evolve.errors import ConfigError, ConfigIssue, ZpError
from zp_evolve.plugins import Plugins
from zp_evolve.splits import anchor_split_file, find_split_file


def task_issues(plugins: Plugins, selection: Mapping[str, Any] | None, path: str, file: str = "") -> list[ConfigIssue]:
    """Providers, split file and task names of a task selection.

    The split file is found as every job finds it (:mod:`zp_evolve.splits`): next to the
    config ``file`` first, then in the working directory; the entry is anchored to it.
    """
    if not isinstance(selection, Mapping):
        return []
    issues: list[ConfigIssue] = []
    providers = selection.get("providers", [{"name": "packaged"}])
    if isinstance(providers, list):
        for index, spec in enumerate(providers):
            if isinstance(spec, dict):
                issues.extend(plugins.check_spec("tasks", spec, f"{path}.providers.{index}"))
    split = selection.get("split")
    anchor_split_file(split, file)
    if isinstance(split, Mapping) and isinstance(split.get("file"), str):
        try:
            find_split_file(split["file"], relative_to=file or None)
        except ZpError as error:
            issues.append(ConfigIssue(f"{path}.split.file", str(error)))
    names = selection.get("names") or []
    if issues or not isinstance(names, list) or not names:
        return issues
    try:
        catalog = catalog_of(plugins, providers)
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
