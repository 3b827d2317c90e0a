"""Task mixing: which training example fills each slot of a batch.

``proportional`` draws a task with probability proportional to its number of
training examples, each task counting for at most ``cap`` (T5's examples-
proportional mixing with an artificial limit); ``uniform`` gives every task the same
share. ``language_shares`` (e.g. ``{"zh": 0.2}``) then rescales the weights so each named
language gets that share of the draws and the other languages split the rest, each keeping
the strategy's proportions inside it. Within a task, examples come in a seeded shuffled order, one pass after
another, so every example is seen before any repeats.

All state is a ``random.Random`` plus per-task cursors, saved in checkpoints so a
resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

Strategy = Literal["proportional", "uniform"]


@dataclass(frozen=True)
class TrainingTask:
    """A training task and its (sampled, decontaminated) examples."""

    task: Task
    examples: tuple[Example, ...]
    dropped: int = 0  # removed by decontamination


def mixing_weights(
    sizes: Sequence[int],
    strategy: Strategy,
    cap: int,
    languages: Sequence[str] | None = None,
    language_shares: Mapping[str, float] | None = None,
) -> list[float]:
    """Normalised sampling probabilities of the tasks (``languages``: each task's, for ``language_shares``)."""
    if not sizes:
        raise DataError("no training tasks to mix")
    if strategy == "uniform":
        raw = [1.0 if size else 0.0 for size in sizes]
    elif strategy == "proportional":
        raw = [float(min(size, cap)) for size in sizes]
    else:
        raise DataError(f"unknown mixing strategy {strategy!r}; use proportional or uniform")
    total = sum(raw)
    if total <= 0:
        raise DataError("every training task is empty; check the task selection and decontamination report")
    weights = [value / total for value in raw]
    if language_shares:
        if languages is None or len(languages) != len(weights):
            raise DataError("language_shares needs the language of every training task")
        weights = _rescale_languages(weights, languages, language_shares)
    return weights


def _rescale_languages(weights: list[float], languages: Sequence[str], shares: Mapping[str, float]) -> list[float]:
    """``weights`` with each named language's total set to its share, the rest keeping theirs in proportion."""
    mass: dict[str, float] = {}
    for weight, language in zip(weights, languages):
        mass[language] = mass.get(language, 0.0) + weight
    missing = [language for language in shares if mass.get(language, 0.0) <= 0]
    if missing:
        present = ", ".join(sorted(mass)) or "none"
        raise DataError(
            f"mixing.language_shares names {', '.join(missing)}, but no non-empty training task is in it "
            f"(the training languages are: {present}); drop it or add tasks in that language"
        )
    named = sum(shares.values())
    rest = sum(m for language, m in mass.items() if language not in shares)
    if named > 1.0 + 1e-9 or (rest > 0 and named >= 1.0):
        raise DataError(
            f"mixing.language_shares add up to {named:g}; they must leave a share for the other languages "
            f"({', '.join(sorted(set(mass) - set(shares)))}), so keep their sum below 1"
        )
    if rest <= 0 and abs(named - 1.0) > 1e-9:
        raise DataError(f"mixing.language_shares name every training language, so they must add up to 1 (they add up to {named:g})")
    scale = {language: shares[language] / mass[language] for language in shares}
    other = (1.0 - named) / rest if rest > 0 else 0.0
    return [weight * scale.get(language, other) for weight, language in zip(weights, languages)]


class MixtureSampler:
    """Draws ``(task, example)`` pairs from the training mixture."""

    def __init__(
        self,
        tasks: Sequence[TrainingTask],
        strategy: Strategy,
        cap: int,
        seed: int,
        language_shares: Mapping[str, float] | None = None,
    ) -> None:
        self.tasks = list(tasks)
        sizes = [len(t.examples) for t in self.tasks]
        languages = [t.task.language for t in self.tasks]
        self.weights = mixing_weights(sizes, strategy, cap, languages, language_shares)
        self.rng = random.Random(seed)
        self._orders: list[list[int]] = [[] for _ in self.tasks]
        self._cursors = [0] * len(self.tasks)

    def draw(self) -> tuple[Task, Example]:
        index = self.rng.choices(range(len(self.tasks)), weights=self.weights)[0]
        chosen = self.tasks[index]
        if self._cursors[index] >= len(self._orders[index]):
            order = list(range(len(chosen.examples)))
            self.rng.shuffle(order)
            self._orders[index] = order
            self._cursors[index] = 0
        example = chosen.examples[self._orders[index][self._cursors[index]]]
        self._cursors[index] += 1
        return chosen.task, example

    def draw_many(self, count: int) -> list[tuple[Task, Example]]:
        return [self.draw() for _ in range(count)]

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.getstate(), "orders": [list(o) for o in self._orders], "cursors": list(self._cursors)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["orders"]) != len(self.tasks):
            raise DataError(
                "the checkpoint's task mixture differs from this config's training tasks; "
                "resume with the same config and data"
            )
        self.rng.setstate(as_random_state(state["rng"]))
        self._orders = [list(o) for o in state["orders"]]
        self._cursors = list(state["cursors"])


def as_random_state(state: Any) -> tuple:
    """``random.Random`` states survive JSON/pickle as nested lists; make them tuples again."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
