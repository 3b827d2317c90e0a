"""The fitness cache: a prompt is never scored twice for the same task and setup; nor is a
mutator called twice with the same parents, task and seed (runs that share a search, such
as selection strategies that differ only in their answer, share its children too).

The key covers the prompt (as the model reads it: without span marks), the task, the
model, the dev-set hash, the fitness function and the split. An entry is the fitness
value and, where the fitness reports them, the per-example predictions behind it
(selection strategies need them). With a cache folder configured, entries persist
across runs in SQLite (safe for several processes on one machine).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from zp_evolve.prompts import normalize
from zp_evolve.spans import strip_marks


def cache_key(prompt: str, task: str, split: str, data_hash: str, model_id: str, fitness_id: str) -> str:
    # What the model reads decides the score: two templates differing only in span marks share it.
    payload = json.dumps([normalize(strip_marks(prompt)), task, split, data_hash, model_id, fitness_id], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def mutation_key(mutator: str, task: str, parents: Sequence[str], seed: int) -> str:
    """One mutator call: the mutator's spec (:func:`zp_evolve.plugins.canonical_json`), the task,
    the parents (span marks included: they steer some mutators) and the seed of its ``rng``."""
    payload = json.dumps(["mutate", mutator, task, list(parents), seed], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedScore:
    """A cached fitness value and, when the fitness reported them, its per-example predictions."""

    value: float
    predictions: tuple[Any, ...] | None = None
    metric: str | None = None
    objectives: Mapping[str, float] | None = None

    def has(self, *, predictions: bool = False, objectives: Sequence[str] = ()) -> bool:
        """Whether the entry holds what a caller needs (entries of other set-ups may not)."""
        if predictions and self.predictions is None:
            return False
        return all(name in (self.objectives or {}) for name in objectives)


class FitnessCache:
    """In-memory cache, optionally backed by ``<dir>/fitness.sqlite``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._memory: dict[str, CachedScore] = {}
        self._children: dict[str, list[list[str]]] = {}
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if directory is not None:
            path = Path(directory).expanduser()
            path.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path / "fitness.sqlite"), timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS fitness (key TEXT PRIMARY KEY, value REAL NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS children (key TEXT PRIMARY KEY, children TEXT NOT NULL)")
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(fitness)")}
            if "predictions" not in columns:  # a cache folder written before predictions were kept
                try:
                    self._db.execute("ALTER TABLE fitness ADD COLUMN predictions TEXT")
                except sqlite3.OperationalError as error:  # another process added it first
                    if "duplicate column" not in str(error):
                        raise
            self._db.commit()

    def get(self, key: str, *, need_predictions: bool = False, need_objectives: Sequence[str] = ()) -> CachedScore | None:
        """The entry of ``key``; an entry without the predictions or objectives asked for is a miss."""
        entry = self._memory.get(key)
        if entry is None and self._db is not None:
            with self._lock:
                row = self._db.execute("SELECT value, predictions FROM fitness WHERE key = ?", (key,)).fetchone()
            if row is not None:
                extra = json.loads(row[1]) if row[1] else {}
                predictions = extra.get("predictions")
                entry = CachedScore(
                    float(row[0]), tuple(predictions) if predictions is not None else None, extra.get("metric"), extra.get("objectives")
                )  # fmt: skip
                self._memory[key] = entry
        if entry is None or not entry.has(predictions=need_predictions, objectives=need_objectives):
            return None
        return entry

    def put(
        self,
        key: str,
        value: float,
        predictions: tuple[Any, ...] | None = None,
        metric: str | None = None,
        objectives: Mapping[str, float] | None = None,
    ) -> None:
        old = self._memory.get(key) or self.get(key)
        if old is not None:  # keep what an earlier run computed beside the value (e.g. a replayed event has less)
            predictions = predictions if predictions is not None else old.predictions
            metric = metric or old.metric
            objectives = {**(old.objectives or {}), **(objectives or {})}
        entry = CachedScore(value, tuple(predictions) if predictions is not None else None, metric, dict(objectives or {}) or None)
        self._memory[key] = entry
        if self._db is not None:
            payload = {"predictions": list(predictions) if predictions is not None else None, "metric": metric}
            if entry.objectives:
                payload["objectives"] = entry.objectives
            extra = json.dumps(payload, ensure_ascii=False) if predictions is not None or entry.objectives else None
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO fitness (key, value, predictions) VALUES (?, ?, ?)", (key, value, extra)
                )
                self._db.commit()

    # -- mutations ------------------------------------------------------------------
    def children(self, key: str) -> list[list[str]] | None:
        """A mutator call's children, when the same call (:func:`mutation_key`) ran before."""
        found = self._children.get(key)
        if found is None and self._db is not None:
            with self._lock:
                row = self._db.execute("SELECT children FROM children WHERE key = ?", (key,)).fetchone()
            if row is not None:
                found = self._children[key] = json.loads(row[0])
        return found

    def put_children(self, key: str, children: list[list[str]]) -> None:
        self._children[key] = children
        if self._db is not None:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO children (key, children) VALUES (?, ?)", (key, json.dumps(children, ensure_ascii=False))
                )
                self._db.commit()

    def __len__(self) -> int:
        return len(self._memory)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
