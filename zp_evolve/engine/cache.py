"""The fitness cache: a prompt is never scored twice for the same task and setup.

The key covers the prompt (as the model reads it: without span marks), the task, the model, the dev-set hash, the fitness
function and the split. With a cache folder configured, scores persist across
runs in SQLite (safe for several processes on one machine).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Mapping

from zp_evolve.prompts import normalize
from zp_evolve.spans import strip_marks


def canonical(spec: Mapping[str, Any] | None) -> str:
    """A stable text form of a component spec, used as part of cache keys."""
    return json.dumps(spec or {}, sort_keys=True, ensure_ascii=False, default=str)


def cache_key(prompt: str, task: str, split: str, data_hash: str, model_id: str, fitness_id: str) -> str:
    # What the model reads decides the score: two templates differing only in span marks share it.
    payload = json.dumps([normalize(strip_marks(prompt)), task, split, data_hash, model_id, fitness_id], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class FitnessCache:
    """In-memory cache, optionally backed by ``<dir>/fitness.sqlite``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._memory: dict[str, float] = {}
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if directory is not None:
            path = Path(directory).expanduser()
            path.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path / "fitness.sqlite"), timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS fitness (key TEXT PRIMARY KEY, value REAL NOT NULL)")
            self._db.commit()

    def get(self, key: str) -> float | None:
        if key in self._memory:
            return self._memory[key]
        if self._db is not None:
            with self._lock:
                row = self._db.execute("SELECT value FROM fitness WHERE key = ?", (key,)).fetchone()
            if row is not None:
                self._memory[key] = float(row[0])
                return float(row[0])
        return None

    def put(self, key: str, value: float) -> None:
        self._memory[key] = value
        if self._db is not None:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO fitness (key, value) VALUES (?, ?)", (key, value))
                self._db.commit()

    def __len__(self) -> int:
        return len(self._memory)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
