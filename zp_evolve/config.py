"""Load, override and validate run configurations, reporting every error at once.

Each error names the file, the line, the key path, what is wrong and what is
allowed. Validation never loads a model: it checks the schema, plugin names and
options, task names, prompt placeholders, and what components declare they cannot
do with a task (:mod:`zp_evolve.task_checks`: a mutator and a task's language, a
metric and a task's kind or label count).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from pydantic import BaseModel, ValidationError

from zp_evolve.config_schema import RunConfig
from zp_evolve.errors import ConfigError, ConfigIssue, DataError, ZpError
from zp_evolve.keypaths import KeyPathError, assign
from zp_evolve.plugins import Plugins
from zp_evolve.splits import anchor_split_file
from zp_evolve.textfiles import NotUtf8Error, read_utf8

#: Keys of a mutator entry that the engine consumes; the rest go to the plugin.
MUTATOR_ENGINE_KEYS = ("weight", "label")


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


def schema_issues(error: ValidationError, model: type[BaseModel] = RunConfig) -> list[ConfigIssue]:
    """Pydantic errors as config issues; an unknown key lists the keys ``model`` allows there.

    Public so that plugin jobs with their own schema (e.g. the trainer's) report alike.
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


def allowed_keys(path: Sequence[Any], model: type[BaseModel] = RunConfig) -> list[str]:
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
        issues.extend(schema_issues(error))
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


def locate(issue: ConfigIssue, file: str, lines: Mapping[tuple, int]) -> ConfigIssue:
    """The issue with ``file`` and the line of its key path (or the nearest parent's),
    unless it already names them."""
    path = tuple(int(p) if p.isdigit() else p for p in issue.path.split(".")) if issue.path else ()
    line = lines.get(path)
    while line is None and path:
        path = path[:-1]
        line = lines.get(path)
    return ConfigIssue(issue.path, issue.message, file=issue.file or file, line=issue.line or line)


def _component_issues(data: Mapping[str, Any], plugins: Plugins) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []

    def check(kind: str, spec: Any, path: str, engine_keys: Sequence[str] = ()) -> None:
        if not isinstance(spec, dict):
            return  # the schema already reported it
        spec = {k: v for k, v in spec.items() if k not in engine_keys}
        issues.extend(plugins.check_spec(kind, spec, path))

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
        catalog = plugins.catalog(config.tasks.providers)
        chosen = selection.names("test", catalog=catalog, seed=config.seed, config_file=file or None)
    except ZpError as error:
        return [ConfigIssue("tasks.split.file", str(error))]
    config.tasks.names = list(config.tasks.names) + [n for n in chosen if n not in config.tasks.names]
    return []


def _task_issues(config: RunConfig, plugins: Plugins, *, components_ok: bool = True) -> list[ConfigIssue]:
    from zp_evolve.prompts import template_problems

    try:
        catalog = plugins.catalog(config.tasks.providers)
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
        fields = catalog.get(name).input_fields
        for index, prompt in enumerate(prompts):
            for problem in template_problems(prompt, fields):
                issues.append(ConfigIssue(f"tasks.prompts.{name}.{index}", f"prompt {prompt!r} {problem}"))
        if not prompts:
            issues.append(ConfigIssue(f"tasks.prompts.{name}", "needs at least one prompt"))
    if not issues and components_ok:
        issues.extend(_compatibility_issues(config, [catalog.get(n) for n in config.tasks.names], plugins))
    return issues


def _compatibility_issues(config: RunConfig, tasks: list[Any], plugins: Plugins) -> list[ConfigIssue]:
    """What the fitness, its metric and each mutator declare they cannot do with a task."""
    from zp_evolve.task_checks import fitness_issues, mutator_issues

    return fitness_issues(config.fitness, tasks, plugins) + mutator_issues(config.mutators, tasks, plugins, MUTATOR_ENGINE_KEYS)


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
