"""datasette-style: every hook is documented in docs/plugins.md and exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

from zp_evolve import hookspecs

REPO = Path(__file__).resolve().parents[2]


def _hooks() -> list[str]:
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("zp_")]


def test_every_hook_is_documented():
    docs = (REPO / "docs" / "plugins.md").read_text()
    missing = [name for name in _hooks() if f"`{name}" not in docs]
    assert not missing, f"document these hooks in docs/plugins.md: {missing}"


def test_every_hook_is_exercised_by_a_test_or_builtin_plugin():
    sources = "\n".join(p.read_text() for p in (REPO / "tests").rglob("*.py"))
    sources += "\n".join(p.read_text() for p in (REPO / "plugins").rglob("plugin.py"))
    missing = [name for name in _hooks() if f"def {name}(" not in sources]
    assert not missing, f"implement and test these hooks: {missing}"
