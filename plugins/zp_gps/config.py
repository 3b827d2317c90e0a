"""Validate a GPS config, reporting every error at once.

Each error names the file, the line, the key path, what is wrong and what is
allowed. Validation never loads a model: it checks the schema, plugin names and
options, task names, prompt placeholders and answer choices (one per label of the
task), and what components declare they cannot do with a task
(:mod:`zp_evolve.task_checks`: a mutator and a task's language, a metric and a task's
kind or label count).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from pydantic import ValidationError

from zp_evolve.catalog import catalog_of
from zp_evolve.config import apply_overrides, locate, read_yaml, schema_issues
from zp_evolve.errors import ConfigError, ConfigIssue, ZpError
from zp_evolve.plugins import Plugins
from zp_evolve.splits import anchor_split_file
from zp_gps.breeding import MUTATOR_ENGINE_KEYS, mutator_specs
from zp_gps.schema import RunConfig

#: Config keys a plugin's default component fills when a file leaves them out.
DEFAULT_COMPONENTS = (("fitness", "fitness"), ("executor", "executors"))


def apply_component_defaults(data: dict[str, Any], plugins: Plugins) -> list[ConfigIssue]:
    """Fill ``fitness``, ``executor`` and ``tasks.providers`` from the components plugins
    registered with ``default=True``: the core names no plugin component itself."""
    issues = []
    slots: list[tuple[dict[str, Any], str, str, bool]] = [(data, key, kind, False) for key, kind in DEFAULT_COMPONENTS]
    if isinstance(data.get("tasks"), dict):
        slots.append((data["tasks"], "providers", "tasks", True))
    for owner, key, kind, as_list in slots:
        if key in owner:
            continue
        name = plugins[kind].default_name()
        if name is None:
            path = "tasks.providers" if kind == "tasks" else key
            issues.append(ConfigIssue(path, f"no {kind} given and no installed plugin registers a default one; "
                                            f"name one (installed: {', '.join(plugins[kind].names()) or 'none'})"))
            continue
        owner[key] = [{"name": name}] if as_list else {"name": name}
    return issues


def validate(
    data: Any,
    plugins: Plugins,
    *,
    file: str = "",
    lines: Mapping[tuple, int] | None = None,
    check_tasks: bool = True,
) -> RunConfig:
    """Validate a parsed config; raise one :class:`ConfigError` listing every problem.

    A split file found next to ``file`` is written back into ``data`` as a full path
    (:func:`zp_evolve.splits.anchor_split_file`), so the run finds it from any folder.
    """
    lines = lines or {}
    issues: list[ConfigIssue] = []
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue("", "the file must hold a mapping of keys (name:, tasks:, ...)", file=file)])
    if isinstance(data.get("tasks"), dict):
        anchor_split_file(data["tasks"].get("split"), file)
    issues.extend(apply_component_defaults(data, plugins))
    config = None
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as error:
        issues.extend(schema_issues(error, RunConfig))
    component_issues = _component_issues(data, plugins)
    issues.extend(component_issues)
    # one pass: tasks are checked whatever else is wrong, as long as their providers can be built
    providers_ok = not any(issue.path.startswith("tasks.providers") for issue in component_issues)
    split_issues: list[ConfigIssue] = []
    if config is not None and providers_ok and config.tasks.split is not None:
        split_issues = _resolve_split(config, plugins, file)
        issues.extend(split_issues)
    if config is not None and providers_ok and check_tasks and not split_issues:
        # the task checks of components (check_task) need the components themselves to be valid
        issues.extend(_task_issues(config, plugins, components_ok=not component_issues))
    if issues:
        raise ConfigError([locate(issue, file, lines) for issue in issues])
    assert config is not None  # no issues means the schema validated
    return config


def _component_issues(data: Mapping[str, Any], plugins: Plugins) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []

    def check(kind: str, spec: Any, path: str, engine_keys: Sequence[str] = ()) -> None:
        if not isinstance(spec, dict):
            return  # the schema already reported it
        entry = {k: v for k, v in spec.items() if k not in engine_keys}
        issues.extend(plugins.check_spec(kind, entry, path))

    if isinstance(data.get("model"), dict):
        check("backends", data["model"], "model")
    fitness = data.get("fitness")
    check("fitness", fitness, "fitness")
    if isinstance(fitness, dict) and fitness.get("name") in plugins["fitness"] and not data.get("model"):
        if plugins["fitness"].get(fitness["name"]).meta.get("needs_model"):
            issues.append(ConfigIssue("model", f"fitness {fitness['name']!r} scores prompts with a model: add "
                                      "e.g. 'model: {backend: hf_causal, name: smollm2-135m-instruct}'"))
    search = data.get("search")
    objectives = search.get("objectives") if isinstance(search, dict) else None
    if isinstance(objectives, list):
        for index, name in enumerate(objectives[1:], 1):
            if not isinstance(name, str):
                continue  # the schema reports it
            check("objectives", {"name": name}, f"search.objectives.{index}")
            registry = plugins["objectives"]
            if name in registry and registry.get(name).meta.get("needs_model") and not data.get("model"):
                issues.append(ConfigIssue(f"search.objectives.{index}", f"objective {name!r} reads prompts with the scoring "
                                          "model: add e.g. 'model: {backend: hf_causal, name: smollm2-135m-instruct}'"))
    check("executors", data.get("executor"), "executor")
    mutators = data.get("mutators")
    if isinstance(mutators, list):
        for index, spec in enumerate(mutators):
            check("mutators", spec, f"mutators.{index}", MUTATOR_ENGINE_KEYS)
            if isinstance(spec, dict) and "weight" in spec:
                weight = spec["weight"]
                if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
                    issues.append(ConfigIssue(f"mutators.{index}.weight", f"must be a positive number (got {weight!r})"))
    tasks = data.get("tasks")
    if isinstance(tasks, dict) and isinstance(tasks.get("providers"), list):
        for index, spec in enumerate(tasks["providers"]):
            check("tasks", spec, f"tasks.providers.{index}")
    return issues


def _resolve_split(config: RunConfig, plugins: Plugins, file: str) -> list[ConfigIssue]:
    """Turn ``tasks.split`` into task names (appended to ``tasks.names``); a search uses the test side by default."""
    selection = config.tasks.split
    assert selection is not None
    try:
        catalog = catalog_of(plugins, config.tasks.providers)
        chosen = selection.names("test", catalog=catalog, seed=config.seed, config_file=file or None)
    except ZpError as error:
        return [ConfigIssue("tasks.split.file", str(error))]
    config.tasks.names = list(config.tasks.names) + [n for n in chosen if n not in config.tasks.names]
    return []


def _task_issues(config: RunConfig, plugins: Plugins, *, components_ok: bool = True) -> list[ConfigIssue]:
    from zp_evolve.prompts import template_problems

    try:
        catalog = catalog_of(plugins, config.tasks.providers)
    except ZpError as error:
        return [ConfigIssue("tasks.providers", str(error))]
    issues = []
    for index, name in enumerate(config.tasks.names):
        if name not in catalog:
            issues.append(ConfigIssue(f"tasks.names.{index}", catalog.unknown_message(name)))
    for name, prompts in config.tasks.prompts.items():
        if name not in catalog:
            issues.append(ConfigIssue(f"tasks.prompts.{name}", catalog.unknown_message(name)))
            continue
        if name not in config.tasks.names:
            issues.append(ConfigIssue(f"tasks.prompts.{name}", f"task {name!r} is not in tasks.names"))
        task = catalog.get(name)
        for index, prompt in enumerate(prompts):
            for problem in template_problems(prompt, task.input_fields, labels=task.fixed_labels):
                issues.append(ConfigIssue(f"tasks.prompts.{name}.{index}", f"prompt {prompt!r} {problem}"))
        if not prompts:
            issues.append(ConfigIssue(f"tasks.prompts.{name}", "needs at least one prompt"))
    if not issues and components_ok:
        issues.extend(_compatibility_issues(config, [catalog.get(n) for n in config.tasks.names], plugins))
    return issues


def _compatibility_issues(config: RunConfig, tasks: list[Any], plugins: Plugins) -> list[ConfigIssue]:
    """What the fitness, its metric and each mutator declare they cannot do with a task."""
    from zp_evolve.task_checks import fitness_issues, mutator_issues

    return fitness_issues(config.fitness, tasks, plugins) + mutator_issues(mutator_specs(config.mutators), tasks, plugins)


def load_config(
    path: str | Path, plugins: Plugins, overrides: Sequence[str] = (), *, check_tasks: bool = True
) -> tuple[RunConfig, dict[str, Any]]:
    """Read, override and validate a config file; returns the model and the raw mapping."""
    data, lines = read_yaml(path)
    if overrides:
        if not isinstance(data, dict):
            raise ConfigError([ConfigIssue("", "cannot apply --set to a file that is not a mapping", file=str(path))])
        data = apply_overrides(data, overrides)
    config = validate(data, plugins, file=str(path), lines=lines, check_tasks=check_tasks)
    return config, data
