"""Hook implementations of the zp_mutators built-in plugin."""

from __future__ import annotations

from zp_evolve import hookimpl  # noqa: F401
