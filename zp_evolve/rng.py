"""Seeded random streams: every random choice flows from the run seed through one of these.

A stream is named by what it is for (``(seed, task, "dev")``, ``(generation seed, task,
operator)``), so adding a draw for one purpose never shifts another, and a run gives
the same result serially or on Ray.
"""

from __future__ import annotations

import hashlib
import random


def derived_rng(base: int, *parts: object) -> random.Random:
    """An independent stream for one purpose: ``sha256("base/part/...")``'s first 8 bytes seed it."""
    text = "/".join(str(p) for p in (base, *parts))
    return random.Random(int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big"))
