"""Dotted key paths (``search.top_k``, ``mutators.0.weight``): the one way configs are edited
by key, for ``--set`` overrides and for sweep cells merged from ``base`` and the grid."""

from __future__ import annotations

import copy
from typing import Any, Mapping


class KeyPathError(ValueError):
    """A key path runs into a value that holds no keys (a string, a number, a list index out of range)."""


def assign(data: dict[str, Any], key: str, value: Any, *, merge: bool = False) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"``, in place.

    Missing or null mappings on the way are created; a number indexes a list. With
    ``merge``, a mapping ``value`` is merged into a mapping already at ``key`` (its own
    keys may be dotted too) instead of replacing it. The value is copied.

    Raises:
        KeyPathError: a part of the path is a value that cannot hold keys.
    """
    parts = str(key).split(".")
    target: Any = data
    for depth, part in enumerate(parts[:-1]):
        if isinstance(target, list):
            target = target[_index(target, part, parts[: depth + 1])]
            continue
        if not isinstance(target, dict):
            raise KeyPathError(f"{'.'.join(parts[:depth])} holds {type(target).__name__}, not keys")
        if target.get(part) is None:
            target[part] = {}
        target = target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[_index(target, last, parts)] = copy.deepcopy(value)
    elif not isinstance(target, dict):
        raise KeyPathError(f"{'.'.join(parts[:-1])} holds {type(target).__name__}, not keys")
    elif merge and isinstance(value, Mapping) and isinstance(target.get(last), dict):
        target[last] = merged(target[last], value)
    else:
        target[last] = copy.deepcopy(value)


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with every (dotted) key of ``overrides`` assigned, mappings merged."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        assign(out, key, value, merge=True)
    return out


def _index(items: list[Any], part: str, path: list[str]) -> int:
    try:
        index = int(part)
        items[index]
    except (ValueError, IndexError):
        raise KeyPathError(f"{'.'.join(path)}: the list has {len(items)} items, indexed 0 to {len(items) - 1}") from None
    return index
