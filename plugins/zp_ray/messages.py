"""The executor's error and log texts: which chunk failed, and Ray's error cut to its point."""

from __future__ import annotations

from typing import Sequence

from zp_evolve.evaluation import EvalRequest
from zp_ray.chunking import Chunk


def describe_chunk(chunk: Chunk, requests: Sequence[EvalRequest]) -> str:
    """``chunk 3 (4 prompts of task(s) x; first prompt '...')``."""
    tasks = sorted({requests[i].task for i in chunk.indices})
    first = requests[chunk.indices[0]].prompt
    return (
        f"chunk {chunk.number} ({len(chunk.indices)} prompts of task(s) {', '.join(tasks)}; "
        f"first prompt {first[:60]!r})"
    )


def first_lines(error: BaseException, lines: int = 6) -> str:
    text = str(error).strip().splitlines()
    return " | ".join(line.strip() for line in text[:lines] if line.strip())


def creation_error(error: BaseException) -> str:
    """The user's exception from a failed actor constructor, not Ray's preamble."""
    text = str(error)
    for marker in ("ZpError", "ModelError", "PluginError", "ConfigError", "DataError", "ExecutorError"):
        at = text.rfind(f"zp_evolve.errors.{marker}")
        if at >= 0:
            return text[at:].strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-3:]) if lines else type(error).__name__
