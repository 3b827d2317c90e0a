"""Plugin loading and the component registries that plugins fill.

Plugins are found through the entry-point group ``zp_evolve``. External plugins are
registered first and the built-in ones (those shipped by the ``zp-evolve``
distribution) after them, so the built-ins behave exactly like third-party code.
"""

from __future__ import annotations

import difflib
import functools
import importlib.metadata
import inspect
import json
import os
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import pluggy

from zp_evolve import hookspecs
from zp_evolve.errors import ConfigError, ConfigIssue, PluginError
from zp_evolve.jobs import Job

PROJECT = "zp_evolve"
ENTRY_POINT_GROUP = "zp_evolve"
BUILTIN_DISTRIBUTION = "zp-evolve"
#: Extra plugin modules to load by import path, comma-separated (like ``pytest -p``).
ENV_PLUGINS = "ZP_EVOLVE_PLUGINS"

#: Component kinds, each filled by the registration hook ``zp_register_<kind>``.
KINDS = ("mutators", "metrics", "fitness", "objectives", "backends", "tasks", "executors", "commands", "jobs")

#: Kinds whose components are built from a YAML entry ``{name: X, **options}``.
BUILT_FROM_YAML = ("mutators", "fitness", "objectives", "backends", "tasks", "executors")

#: Arguments the engine passes itself, so a YAML entry may not set them. A fitness gets
#: the built ``backend`` and, if its factory takes it, the ``metrics`` registry of the
#: run's plugins (so a metric from an extra plugin is found in workers too); an objective
#: gets the ``backend``.
INJECTED_ARGUMENTS: Mapping[str, tuple[str, ...]] = {"fitness": ("backend", "metrics"), "objectives": ("backend",)}

_SPEC_KEY = {"backends": "backend", "tasks": "name"}


@dataclass(frozen=True)
class ComponentSpec:
    """A config entry that names a component (``{name: X, **options}``), split once: the
    component's ``name``, the ``options`` its factory gets, and the ``engine`` keys that the
    caller consumes itself and never passes on (a mutator's ``weight`` and ``label``)."""

    kind: str
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    engine: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, kind: str, raw: Mapping[str, Any], engine_keys: Sequence[str] = ()) -> ComponentSpec:
        """The spec of a validated entry (:meth:`Plugins.check_spec` reports a bad one)."""
        key = _SPEC_KEY.get(kind, "name")
        options = {k: v for k, v in raw.items() if k != key and k not in engine_keys}
        return cls(kind, str(raw.get(key)), options, {k: raw[k] for k in engine_keys if k in raw})

    @property
    def entry(self) -> dict[str, Any]:
        """The entry as the plugin sees it: name and options, without the engine keys."""
        return {_SPEC_KEY.get(self.kind, "name"): self.name, **self.options}


@dataclass(frozen=True)
class Parameter:
    """One keyword a component accepts in YAML."""

    name: str
    annotation: str
    default: Any
    required: bool

    def describe(self) -> str:
        text = f"{self.name}: {self.annotation}" if self.annotation else self.name
        return text if self.required else f"{text} = {self.default!r}"


@dataclass(frozen=True)
class Component:
    """A named factory registered by a plugin."""

    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def parameters(self) -> tuple[Parameter, ...]:
        return tuple(_parameters(self.factory, INJECTED_ARGUMENTS.get(self.kind, ())))

    @property
    def takes_var_keyword(self) -> bool:
        """True for a factory with ``**kwargs`` (refused at registration for YAML-built kinds)."""
        try:
            signature = inspect.signature(self.factory)
        except (TypeError, ValueError):
            return False
        return any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())

    @property
    def accepts_any_keyword(self) -> bool:
        """True when the factory's keywords cannot be checked: ``**kwargs``, or no signature to read."""
        try:
            inspect.signature(self.factory)
        except (TypeError, ValueError):
            return True
        return self.takes_var_keyword

    @property
    def description(self) -> str:
        text = self.meta.get("description") or inspect.getdoc(self.factory) or ""
        return text.strip().splitlines()[0] if text.strip() else ""


class Registry:
    """Components of one kind, by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._components: dict[str, Component] = {}

    def add(self, name: str, factory: Callable[..., Any], plugin: str, meta: Mapping[str, Any]) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} component without a name")
        if not callable(factory):
            raise PluginError(f"plugin {plugin!r} registered {self.kind} {name!r} with a non-callable factory")
        accepted = hookspecs.registration_options(self.kind)
        unknown = sorted(set(meta) - set(accepted))
        if unknown:  # the kind's Register protocol in hookspecs lists what it takes
            raise PluginError(
                f"plugin {plugin!r} registered {self.kind} {name!r} with unknown option(s) {unknown}; "
                f"{self.kind} take: {', '.join(accepted)}"
            )
        component = Component(self.kind, name, factory, plugin, dict(meta))
        if self.kind in BUILT_FROM_YAML and component.takes_var_keyword:
            raise PluginError(
                f"plugin {plugin!r} registered {self.kind} {name!r} with a factory that takes **kwargs: list its options "
                "as keyword parameters with defaults and type hints, so that `zp-evolve validate` can check a YAML "
                "entry's keys (docs/plugins.md)"
            )
        if name in self._components:
            other = self._components[name].plugin
            raise PluginError(
                f"{self.kind} {name!r} is registered twice: by plugin {other!r} and by plugin {plugin!r}. "
                "Rename one of them or uninstall one plugin."
            )
        self._components[name] = component

    def __contains__(self, name: object) -> bool:
        return name in self._components

    def __iter__(self):
        return iter(sorted(self._components.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self._components)

    def names(self) -> list[str]:
        return sorted(self._components)

    def default_name(self) -> str | None:
        """The component registered with ``default=True`` (what a config that names none gets)."""
        claimed = [c for c in self if c.meta.get("default")]
        if len(claimed) > 1:
            owners = ", ".join(f"{c.name!r} (plugin {c.plugin!r})" for c in claimed)
            raise PluginError(f"several {self.kind} claim to be the default: {owners}; uninstall one plugin")
        return claimed[0].name if claimed else None

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(str(name), self.names(), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        known = ", ".join(self.names()) or "none installed"
        return f"unknown {self.kind[:-1] if self.kind.endswith('s') else self.kind} {name!r}.{hint} Known: {known}"

    def get(self, name: str) -> Component:
        try:
            return self._components[name]
        except KeyError:
            raise PluginError(self.unknown_message(name)) from None


class Plugins:
    """The plugin manager and every registry it filled."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self.hook = manager.hook
        self.registries: dict[str, Registry] = {kind: Registry(kind) for kind in KINDS}
        #: Objects built once per plugin set, by key (the task catalogs: :func:`zp_evolve.catalog.catalog_of`).
        self.memo: dict[str, Any] = {}
        for kind in KINDS:
            self._collect(kind)

    def _collect(self, kind: str) -> None:
        caller = getattr(self.manager.hook, f"zp_register_{kind}")
        registry = self.registries[kind]
        # Call each implementation separately so every component knows its plugin.
        for impl in reversed(caller.get_hookimpls()):
            plugin_name = impl.plugin_name

            def register(name: str, factory: Callable[..., Any], _plugin: str = plugin_name, **meta: Any) -> None:
                registry.add(name, factory, _plugin, meta)

            impl.function(register=register)

    def __getitem__(self, kind: str) -> Registry:
        return self.registries[kind]

    def job(self, data: Any, file: str = "") -> Job:
        """The job a config asks for: its ``job:``, or the job registered with ``default=True``."""
        registry = self.registries["jobs"]
        name = data.get("job") if isinstance(data, dict) else None
        if name is None:
            name = registry.default_name()
        if not isinstance(name, str) or name not in registry:
            raise ConfigError([ConfigIssue("job", registry.unknown_message(str(name)), file=file)])
        return registry.get(name).factory()

    def component(self, kind: str, name: str) -> Component:
        return self.registries[kind].get(name)

    def check_spec(self, kind: str, spec: Mapping[str, Any] | ComponentSpec, path: str) -> list[ConfigIssue]:
        """Problems with a ``{name: X, **kwargs}`` entry (or its parsed spec), without building it."""
        spec = spec.entry if isinstance(spec, ComponentSpec) else spec
        key = _SPEC_KEY.get(kind, "name")
        name = spec.get(key)
        if not isinstance(name, str):
            return [ConfigIssue(f"{path}.{key}" if path else key, f"missing {kind[:-1]} name (a string)")]
        registry = self.registries[kind]
        if name not in registry:
            return [ConfigIssue(f"{path}.{key}", registry.unknown_message(name))]
        component = registry.get(name)
        kwargs = {k: v for k, v in spec.items() if k != key}
        return check_kwargs(component, kwargs, path)

    def build(self, kind: str, spec: Mapping[str, Any] | ComponentSpec, path: str = "", **injected: Any) -> Any:
        """Build a component from a ``{name: X, **kwargs}`` mapping (or its parsed spec)."""
        spec = spec.entry if isinstance(spec, ComponentSpec) else spec
        issues = self.check_spec(kind, spec, path)
        if issues:
            raise ConfigError(issues)
        key = _SPEC_KEY.get(kind, "name")
        component = self.registries[kind].get(spec[key])
        kwargs = {k: v for k, v in spec.items() if k != key}
        if kind == "fitness":
            injected.setdefault("metrics", self.registries["metrics"])
        if not component.accepts_any_keyword:  # pass only the injected arguments the factory takes
            names = _argument_names(component.factory)
            injected = {k: v for k, v in injected.items() if k in names}
        return component.factory(**injected, **kwargs)


def canonical_json(spec: Mapping[str, Any] | None) -> str:
    """A stable text form of a component spec, used as part of cache keys."""
    return json.dumps(spec or {}, sort_keys=True, ensure_ascii=False, default=str)


def _parameters(factory: Callable[..., Any], injected: Iterable[str]) -> list[Parameter]:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    skip = set(injected)
    out = []
    for p in signature.parameters.values():
        if p.name in skip or p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = p.annotation if p.annotation is not p.empty else ""
        if not isinstance(annotation, str):
            annotation = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        out.append(Parameter(p.name, annotation, None if p.default is p.empty else p.default, p.default is p.empty))
    return out


def _argument_names(factory: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        return set()


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable annotations: fall back to no type checking
        return {}


def check_kwargs(component: Component, kwargs: Mapping[str, Any], path: str) -> list[ConfigIssue]:
    """Unknown, missing and mistyped keywords of a component, as config issues."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    issues = []
    accepted = {p.name: p for p in component.parameters}
    injected = INJECTED_ARGUMENTS.get(component.kind, ())
    where = lambda key: f"{path}.{key}" if path else key  # noqa: E731
    if not component.accepts_any_keyword:
        for key in kwargs:
            if key in injected:
                issues.append(ConfigIssue(where(key), f"{key!r} is set by the engine and cannot be given here"))
            elif key not in accepted:
                listing = ", ".join(p.describe() for p in component.parameters) or "none"
                issues.append(
                    ConfigIssue(
                        where(key),
                        f"unknown option {key!r} for {component.kind[:-1]} {component.name!r}. Accepted: {listing}",
                    )
                )
    for parameter in component.parameters:
        if parameter.required and parameter.name not in kwargs:
            issues.append(
                ConfigIssue(where(parameter.name), f"missing required option for {component.kind[:-1]} {component.name!r}")
            )
    hints = _type_hints(component.factory)
    for key, value in kwargs.items():
        if key not in hints or key not in accepted:
            continue
        try:
            adapter = TypeAdapter(hints[key], config=ConfigDict(arbitrary_types_allowed=True, strict=False))
            adapter.validate_python(value)
        except ValidationError as error:
            first = error.errors()[0]
            issues.append(
                ConfigIssue(where(key), f"{first['msg']} (got {value!r}; expected {accepted[key].annotation})")
            )
        except Exception:  # annotation pydantic cannot check; the factory will
            continue
    check_options = getattr(component.factory, "check_options", None)
    if callable(check_options) and not issues:  # the component's own rules (bounds...), at validation
        issues += [ConfigIssue(where(problem.split()[0]), problem) for problem in check_options(**kwargs)]
    return issues


def _is_builtin(entry_point: importlib.metadata.EntryPoint) -> bool:
    dist = getattr(entry_point, "dist", None)
    name = (dist.metadata["Name"] if dist is not None else "") or ""
    return name.lower().replace("_", "-") == BUILTIN_DISTRIBUTION


def create_manager(extra_plugins: Iterable[object] = (), load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with external plugins, then built-ins, then ``extra_plugins``."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    if load_entry_points:
        entry_points = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        ordered = [ep for ep in entry_points if not _is_builtin(ep)] + [ep for ep in entry_points if _is_builtin(ep)]
        seen: set[str] = set()
        for entry_point in ordered:
            if entry_point.name in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(entry_point.name)
            try:
                plugin = entry_point.load()
            except Exception as error:
                raise PluginError(
                    f"plugin {entry_point.name!r} ({entry_point.value}) failed to import: {error}. "
                    "Reinstall it or uninstall it with pip."
                ) from error
            manager.register(plugin, name=entry_point.name)
    for module_name in env_plugin_modules():
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise PluginError(
                f"cannot import plugin module {module_name!r} named in ${ENV_PLUGINS}: {error}. "
                "Fix the module path or unset the variable."
            ) from error
        if not manager.is_registered(module):
            manager.register(module, name=module_name)
    for index, plugin in enumerate(extra_plugins):
        if manager.is_registered(plugin):
            continue
        manager.register(plugin, name=getattr(plugin, "__name__", None) or f"extra-{index}-{type(plugin).__name__}")
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"{error}. Hook names must match zp_evolve.hookspecs exactly.") from error
    return manager


def env_plugin_modules() -> list[str]:
    """The plugin modules named in ``$ZP_EVOLVE_PLUGINS`` (workers on other machines need them too)."""
    return [name.strip() for name in os.environ.get(ENV_PLUGINS, "").split(",") if name.strip()]


_cached: Plugins | None = None


def load_plugins(extra_plugins: Iterable[object] = (), *, refresh: bool = False) -> Plugins:
    """The installed plugins (cached), or a fresh set including ``extra_plugins``."""
    global _cached
    extra = list(extra_plugins)
    if extra:
        return Plugins(create_manager(extra))
    if _cached is None or refresh:
        _cached = Plugins(create_manager())
    return _cached
