"""Search budgets (``search.budget``): scored (prompt, example) pairs and wall-clock seconds.

A search stops cleanly when a budget is reached: it scores what still fits in the
generation at hand and answers with the best prompts so far. The counters live in the
checkpoint, so ``zp-evolve resume RUN_DIR --set search.budget.evaluations=M`` goes on
under a larger budget, scoring nothing twice, to the same result as one run with M.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from zp_gps.schema import BudgetConfig, RunConfig

BUDGET_STOP = "budget"


@dataclass
class BudgetClock:
    """Counts what a search spends against its :class:`BudgetConfig`."""

    config: BudgetConfig
    evaluations: int = 0
    seconds_before: float = 0.0

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        """Start (or restart) this session's clock, e.g. once the workers have loaded their models."""
        self._started = time.monotonic()

    @property
    def seconds(self) -> float:
        """Searching time of every session of the run so far."""
        return self.seconds_before + time.monotonic() - self._started

    def out_of_time(self) -> bool:
        return self.config.seconds is not None and self.seconds >= self.config.seconds

    def exhausted(self, generation: int) -> bool:
        """True when nothing more may be scored; G0 (generation 0) is never stopped for time."""
        left = self.evaluations_left()
        return (generation > 0 and self.out_of_time()) or (left is not None and left <= 0)

    def evaluations_left(self) -> int | None:
        if self.config.evaluations is None:
            return None
        return self.config.evaluations - self.evaluations

    def fit(self, costs: Sequence[int]) -> int:
        """How many of the requests (in order, each costing ``costs[i]`` pairs) fit in the budget."""
        left = self.evaluations_left()
        if left is None:
            return len(costs)
        spent = 0
        for count, cost in enumerate(costs):
            if spent + cost > left:
                return count
            spent += cost
        return len(costs)

    def summary(self) -> dict[str, Any]:
        return {"evaluations": self.config.evaluations, "seconds": self.config.seconds, "evaluations_used": self.evaluations}


def projected_pairs(config: RunConfig, dev_sizes: Mapping[str, int], g0_sizes: Mapping[str, int]) -> int:
    """At most how many (prompt, dev example) pairs a search scores: G0, then K x children per
    generation, for every task (the cache can only lower it)."""
    search = config.search
    per_generation = search.top_k * search.children_per_parent
    return sum(dev_sizes[name] * (g0_sizes[name] + search.generations * per_generation) for name in dev_sizes)


def projection(config: RunConfig, catalog: Any) -> str:
    """One line for ``zp-evolve validate``: the scored pairs a config projects, against its budget.

    Dev sizes follow the dev rule from each task's label count (and its size, when smaller);
    nothing is loaded.
    """
    dev = config.tasks.dev
    dev_sizes, g0_sizes = {}, {}
    for name in config.tasks.names:
        task = catalog.get(name)
        many = task.kind == "classification" and len(task.labels) > dev.max_labels_for_fixed_size
        wanted = dev.per_label * len(task.labels) if many else dev.size
        dev_sizes[name] = min(wanted, task.size) if task.size else wanted
        g0_sizes[name] = len(config.tasks.prompts.get(name) or task.prompts)
    pairs = projected_pairs(config, dev_sizes, g0_sizes)
    search = config.search
    line = (
        f"projected: at most {pairs:,} scored (prompt, dev example) pairs = {len(dev_sizes)} tasks x "
        f"(G0 + {search.generations} generations x {search.top_k * search.children_per_parent} children) x dev size"
        " (the cache can only lower it; test scoring of the answers comes on top)"
    )
    limit = search.budget.evaluations
    if limit is not None:
        line += f"; budget {limit:,}: " + ("enough" if limit >= pairs else f"the search stops at about {limit / pairs:.0%} of it")
    return line
