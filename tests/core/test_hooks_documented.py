"""datasette-style: every hook is called by the core with its spec's arguments, and documented."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from zp_evolve import hookspecs
from zp_evolve.plugins import KINDS

REPO = Path(__file__).resolve().parents[2]


def _hooks() -> dict[str, list[str]]:
    """Every hook spec and its parameter names."""
    return {
        name: list(inspect.signature(fn).parameters)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("zp_")
    }


def _call_sites() -> dict[str, list[set[str]]]:
    """``plugins.hook.zp_x(a=..., b=...)`` calls in the core and the GPS plugin (which calls the
    run's lifecycle hooks): hook name -> keyword sets."""
    calls: dict[str, list[set[str]]] = {}
    for path in [*(REPO / "zp_evolve").rglob("*.py"), *(REPO / "plugins" / "zp_gps").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.startswith("zp_"):
                owner = node.func.value
                if isinstance(owner, ast.Attribute) and owner.attr == "hook":
                    calls.setdefault(node.func.attr, []).append({k.arg for k in node.keywords})
    return calls


def test_every_hook_is_called_with_its_arguments():
    calls = _call_sites()
    for name, parameters in _hooks().items():
        if name.startswith("zp_register_"):
            # called as getattr(manager.hook, f"zp_register_{kind}")(register=...) for each kind
            assert name.removeprefix("zp_register_") in KINDS, f"{name}: its kind is not in zp_evolve.plugins.KINDS"
            assert parameters == ["register"], name
            continue
        assert name in calls, f"{name}: no `plugins.hook.{name}(...)` call - a hook nobody calls (searched zp_evolve/ and plugins/zp_gps/)"
        for keywords in calls[name]:
            assert keywords == set(parameters), f"{name} is called with {sorted(keywords)}, its spec takes {parameters}"
    stray = sorted(set(calls) - set(_hooks()))
    assert not stray, f"calls of hooks without a spec: {stray}"


def test_every_hook_is_documented_with_its_signature():
    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name, parameters in _hooks().items():
        rows = [line for line in docs.splitlines() if line.startswith(f"| `{name}")]
        assert rows, f"document {name} in docs/plugins.md's hook tables"
        if not name.startswith("zp_register_"):
            shown = re.match(rf"\| `{name}\(([^)]*)\)`", rows[0])
            assert shown, f"{name}: show its call, e.g. `{name}({', '.join(parameters)})`"
            assert [p.strip() for p in shown.group(1).split(",") if p.strip()] == parameters, name
