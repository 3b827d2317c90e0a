"""Defaults that changed after run folders were written, and how each folder keeps its own.

A run folder's ``config.yaml`` is the config as the user gave it, so a default that changed
would change what a resumed run does. A new folder's config therefore names each such key
(:func:`pin_changed_defaults`), and a folder written before the change resumes with the value
of its time (:func:`with_defaults_of_its_folder`).
"""

from __future__ import annotations

import copy
from typing import Any

from zp_gps.schema import RunConfig, SearchConfig

#: ``selection.answer`` before issue 22 made the ensemble the default: Algorithm 1's best prompt
OLD_ANSWER = "best"


def pin_changed_defaults(data: dict[str, Any], config: RunConfig) -> dict[str, Any]:
    """``data`` with the answer's keys set to what ``config`` resolved them to."""
    pinned = copy.deepcopy(data)
    selection = pinned.setdefault("selection", {})
    if isinstance(selection, dict):
        selection.setdefault("answer", config.selection.answer)
        if config.selection.answer == "ensemble":
            selection.setdefault("ensemble_size", config.selection.members)
    return pinned


def with_defaults_of_its_folder(data: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """A resumed run's config with the answer's keys its folder was started under, where
    ``data`` does not name them.

    ``written`` is the folder's own ``config.yaml`` (a sweep resumes a cell from the sweep's
    file, which may not name them). A folder written before the change names neither:
    ``selection.answer`` was ``best`` then, and an ensemble had ``search.top_k`` members.
    """
    selection = data.get("selection")
    if selection is not None and not isinstance(selection, dict):
        return data  # a malformed block: validation names it
    old = written.get("selection") if isinstance(written.get("selection"), dict) else {}
    resolved = copy.deepcopy(data)
    selection = resolved["selection"] = resolved.get("selection") or {}
    selection.setdefault("answer", old.get("answer", OLD_ANSWER))
    if selection["answer"] == "ensemble" and "ensemble_size" not in selection:
        search = resolved.get("search") if isinstance(resolved.get("search"), dict) else {}
        selection["ensemble_size"] = old.get("ensemble_size", search.get("top_k", SearchConfig().top_k))
    return resolved
