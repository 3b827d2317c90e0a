"""Helpers for tests of the scripts under benchmarks/ (not a package: imported by name)."""

from __future__ import annotations

import importlib
import sys
from typing import Iterator

from tests.conftest import REPO


def benchmark_module(name: str) -> Iterator[object]:
    """Yield ``benchmarks/<name>.py`` imported with benchmarks/ on the path, then take the path back."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
