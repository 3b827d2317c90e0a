"""The paper's sampling rules for dev and training sets.

- Dev sets (section 4.3.2): 32 examples when a task has at most 5 labels or is a
  generation task, otherwise 8 per label. The paper draws the 32 at random; with
  ``stratify="auto"`` (the default) a classification task's draw is stratified: every
  label gets at least ``min_per_label`` examples where the pool has them, and the rest
  of the budget follows the pool's label shares. A random draw can miss a rare label
  altogether, and on a one-class dev set AUC is 0.5 for every prompt.
- Training sets (section 3.2): 128 examples per class, 256 per generation task
  (and per multiple-choice task, whose options vary by example).

Every draw is deterministic for a seed and a task name, and never takes an
example from the test split.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Sequence

from zp_evolve.rng import derived_rng
from zp_evolve.tasks import Example, Task


@dataclass(frozen=True)
class DevRule:
    size: int = 32
    per_label: int = 8
    max_labels_for_fixed_size: int = 5
    stratify: str = "auto"  # "auto": stratified by label for classification; "none": the paper's random draw
    min_per_label: int = 4

#: A label with fewer dev examples than this makes a dev metric too coarse to rank prompts.
FEW_DEV_EXAMPLES = 4


@dataclass(frozen=True)
class TrainRule:
    per_class: int = 128
    per_generation_task: int = 256


def task_rng(seed: int, task: str, purpose: str) -> random.Random:
    """An RNG that depends only on the run seed, the task and what it is for."""
    return derived_rng(seed, task, purpose)


def _by_label(task: Task, pool: Sequence[Example]) -> dict[str, list[Example]]:
    groups: dict[str, list[Example]] = {label: [] for label in task.labels}
    for example in pool:
        groups.setdefault(example.target, []).append(example)
    return groups


def sample_per_label(task: Task, pool: Sequence[Example], per_label: int, rng: random.Random) -> list[Example]:
    """Up to ``per_label`` examples of each label, in a seeded random order."""
    chosen: list[Example] = []
    for label in task.labels:
        group = _by_label(task, pool).get(label, [])
        chosen.extend(rng.sample(group, min(per_label, len(group))))
    rng.shuffle(chosen)
    return chosen


def sample_dev(task: Task, pool: Sequence[Example], seed: int, rule: DevRule = DevRule()) -> list[Example]:
    """The tiny labelled dev set GPS scores prompts on."""
    rng = task_rng(seed, task.name, "dev")
    if task.kind == "generation" or len(task.labels) <= rule.max_labels_for_fixed_size:
        if rule.stratify == "auto" and task.labels:
            return sample_stratified(task, pool, rule.size, rule.min_per_label, rng)
        return rng.sample(list(pool), min(rule.size, len(pool)))
    return sample_per_label(task, pool, rule.per_label, rng)


def stratified_quotas(available: Sequence[int], size: int, floor: int) -> list[int]:
    """How many examples to draw per label: ``size`` in all (or every example, if fewer).

    Each label first gets ``min(floor, size // labels, available)``; the rest of the
    budget goes by largest remainder in proportion to what each label has left, never
    more than it has.
    """
    total = min(size, sum(available))
    if not available:
        return []
    base = min(floor, total // len(available))
    quotas = [min(base, a) for a in available]
    while sum(quotas) < total:
        room = [a - q for a, q in zip(available, quotas)]
        remaining = total - sum(quotas)
        pool = sum(room)
        shares = [remaining * r / pool for r in room]
        extra = [min(int(s), r) for s, r in zip(shares, room)]
        if sum(extra) == 0:  # hand out the largest remainders one at a time
            order = sorted(range(len(room)), key=lambda i: (-(shares[i] - int(shares[i])), i))
            for i in order:
                if room[i] > 0 and sum(quotas) < total:
                    quotas[i] += 1
            continue
        quotas = [q + e for q, e in zip(quotas, extra)]
    return quotas


def sample_stratified(task: Task, pool: Sequence[Example], size: int, floor: int, rng: random.Random) -> list[Example]:
    """``size`` examples with every label represented (see :func:`stratified_quotas`), shuffled."""
    groups = _by_label(task, pool)
    labels = [label for label in groups if groups[label]]
    quotas = stratified_quotas([len(groups[label]) for label in labels], size, floor)
    chosen: list[Example] = []
    for label, quota in zip(labels, quotas):
        chosen.extend(rng.sample(groups[label], quota))
    rng.shuffle(chosen)
    return chosen


def label_counts(task: Task, examples: Sequence[Example]) -> dict[str, int]:
    """Examples per label, in the task's label order (labels the task does not list come last)."""
    counts = {label: 0 for label in task.labels}
    for example in examples:
        counts[example.target] = counts.get(example.target, 0) + 1
    return counts


def thin_labels_warning(task: Task, examples: Sequence[Example], minimum: int = FEW_DEV_EXAMPLES) -> str | None:
    """A warning when a label of a classification task has fewer than ``minimum`` dev examples."""
    if not task.labels:
        return None
    counts = label_counts(task, examples)
    thin = {label: n for label, n in counts.items() if n < minimum}
    if not thin:
        return None
    shown = ", ".join(f"{label} {n}" for label, n in counts.items())
    present = sum(1 for n in counts.values() if n > 0)
    consequence = (
        f"it holds one class only, so {task.metric} cannot tell prompts apart (AUC is 0.5 for every prompt)"
        if present <= 1
        else f"label(s) {', '.join(repr(label) for label in thin)} have fewer than {minimum} examples, so {task.metric} on it is coarse"
    )
    return (
        f"task {task.name!r}: the dev set has {shown} examples per label; {consequence}. "
        "Use tasks.dev.stratify: auto (the default) or a larger tasks.dev.size."
    )


def sample_train(
    task: Task,
    pool: Sequence[Example],
    seed: int,
    rule: TrainRule = TrainRule(),
    exclude: Sequence[Example] = (),
) -> list[Example]:
    """The multitask training sample of a task; ``exclude`` (e.g. the dev set) is never drawn."""
    excluded = {id(e) for e in exclude} | {_key(e) for e in exclude}
    candidates = [e for e in pool if _key(e) not in excluded]
    rng = task_rng(seed, task.name, "train")
    # Multiple-choice tasks have options per example, not classes: sample them as a whole.
    if task.kind == "generation" or not task.labels:
        return rng.sample(candidates, min(rule.per_generation_task, len(candidates)))
    return sample_per_label(task, candidates, rule.per_class, rng)


def sample_test(task: Task, pool: Sequence[Example], seed: int, limit: int) -> list[Example]:
    """A fixed-size test sample (all of it when ``limit`` is 0 or larger than the split)."""
    if limit <= 0 or limit >= len(pool):
        return list(pool)
    return task_rng(seed, task.name, "test").sample(list(pool), limit)


def _key(example: Example) -> tuple:
    return (tuple(sorted(example.inputs.items())), example.target)


def holdout_part(
    examples: Sequence[Example],
    part: str,
    *,
    salt: str,
    test_fraction: float = 0.2,
    fields: Sequence[str] = (),
) -> list[Example]:
    """The ``"train"`` or ``"test"`` part of a task that ships without a test split.

    Examples are grouped by their inputs (and options); groups are ordered by a
    hash of ``salt`` (the task name) and the group's text, and the first groups
    make up ``test_fraction`` of the examples (at least one group when there are
    two or more). The split does not depend on the run seed or the order of the
    rows, so a task's test part is the same in every run, and duplicated texts
    always land on the same side. ``fields`` limits the grouping to some inputs,
    so that e.g. every entity-type query of one NER sentence (or every question on
    one passage) lands on the same side.
    """
    if part not in ("train", "test"):
        raise ValueError(f"holdout part must be 'train' or 'test', not {part!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (got {test_fraction})")
    groups: dict[bytes, list[int]] = {}
    for index, example in enumerate(examples):
        keys = fields or sorted(example.inputs)
        text = "\x1f".join(f"{k}={example.inputs.get(k, '')}" for k in keys)
        if not fields and example.candidates:
            text += "\x1d" + "\x1f".join(example.candidates)
        digest = hashlib.sha256(f"{salt}\x1e{text}".encode("utf-8")).digest()
        groups.setdefault(digest, []).append(index)
    wanted = round(test_fraction * len(examples))
    if len(groups) >= 2:
        wanted = max(wanted, 1)
    in_test: set[int] = set()
    for digest in sorted(groups):
        if len(in_test) >= wanted:
            break
        in_test.update(groups[digest])
    if len(in_test) == len(examples) and len(groups) >= 2:  # one huge group: keep training data
        in_test = set(groups[sorted(groups)[0]])
    return [e for i, e in enumerate(examples) if (i in in_test) == (part == "test")]
