"""Test-set decontamination (paper appendix A.1.3, after Brown et al. 2020).

Every training example that shares a 30-gram with any example of a held-out test
task is dropped. Tokens are lower-cased words, and single characters for Chinese
and Japanese (which have no spaces). N-grams are taken within each input text and
within the target (a window across two fields means nothing). Short inputs have
no 30-gram: an example whose inputs, joined, are fewer than 30 tokens is dropped
only when they equal a test example's inputs token for token.

N-grams are hashed (a 64-bit polynomial hash over token ids, computed for whole
batches with numpy prefix sums), so millions of test n-grams take tens of MB, and
every distinct text is hashed once.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from zp_evolve.cjk import CJK_CLASS
from zp_evolve.errors import DataError
from zp_evolve.sampling import TrainRule, sample_train, task_rng
from zp_evolve.tasks import Example

NGRAM = 30
_TOKEN = re.compile(f"[{CJK_CLASS}]|[^\\W{CJK_CLASS}]+")
_BASE = 1_000_003  # odd, so it has an inverse modulo 2**64
_BATCH_TOKENS = 2_000_000


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; each CJK character is a token of its own."""
    return _TOKEN.findall(text.lower())


def example_texts(example: Example) -> list[str]:
    """The texts whose n-grams count: every input, and the target."""
    return [*(str(example.inputs[k]) for k in sorted(example.inputs)), example.target]


class Decontaminator:
    """An index of the n-grams of test examples, and a filter for training examples."""

    def __init__(self, n: int = NGRAM) -> None:
        import numpy as np

        if n < 1:
            raise DataError(f"n-gram length must be >= 1 (got {n})")
        self.n = n
        self._grams = np.empty(0, dtype=np.uint64)
        self._short: set[tuple[int, ...]] = set()
        self._seen: set[str] = set()
        self.test_examples = 0

    @classmethod
    def from_examples(cls, examples: Iterable[Example], n: int = NGRAM) -> "Decontaminator":
        index = cls(n)
        index.add(examples)
        return index

    @classmethod
    def from_tasks(
        cls,
        catalog: Any,
        test_tasks: Sequence[str],
        *,
        seed: int = 0,
        n: int = NGRAM,
        max_examples_per_task: int = 0,
    ) -> "Decontaminator":
        """Index every example (all splits) of the held-out ``test_tasks``.

        ``max_examples_per_task`` > 0 indexes a seeded sample of each task instead,
        to bound time and memory with very large test tasks (the filter is then approximate).
        """
        index = cls(n)
        for name in test_tasks:
            task = catalog.get(name)
            examples: list[Example] = []
            for split in task.splits:
                examples.extend(catalog.examples(name, split))
            if max_examples_per_task and len(examples) > max_examples_per_task:
                examples = task_rng(seed, name, "decontamination").sample(examples, max_examples_per_task)
            index.add(examples)
        return index

    # -- hashing --------------------------------------------------------------
    @staticmethod
    def _ids(text: str) -> list[int]:
        # Python's string hash: C speed, and stable within the process that holds the index.
        return list(map(hash, tokens(text)))

    def _batch_hashes(self, id_lists: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        """Hashes of every n-gram of every id list, and the list each came from.

        h(i) = sum_j id[i+j] * B**(n-1-j) = B**(n-1+i) * (Q[i+n] - Q[i]) with
        Q[k] = sum_{t<k} id[t] * B**-t; all modulo 2**64 (numpy uint64 wraps).
        """
        import numpy as np

        n = self.n
        lengths = np.fromiter((len(x) for x in id_lists), dtype=np.int64, count=len(id_lists))
        total = int(lengths.sum())
        if total < n:  # no text is long enough (e.g. only brackets, which have no word tokens)
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
        ids = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=total).view(np.uint64)
        powers = np.full(total + n, _BASE, dtype=np.uint64)
        powers[0] = 1
        powers = np.cumprod(powers, dtype=np.uint64)
        inverse = np.full(total, pow(_BASE, -1, 2**64), dtype=np.uint64)
        inverse[0] = 1
        inverse = np.cumprod(inverse, dtype=np.uint64)
        prefix = np.zeros(total + 1, dtype=np.uint64)
        np.cumsum(ids * inverse, dtype=np.uint64, out=prefix[1:])
        counts = np.maximum(lengths - n + 1, 0)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths
        owner = np.repeat(np.arange(len(id_lists)), counts)
        first = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) if counts.sum() else owner
        position = np.arange(int(counts.sum()), dtype=np.int64) + first
        hashes = powers[position + n - 1] * (prefix[position + n] - prefix[position])
        return hashes, owner

    def _batches(self, id_lists: Iterable[list[int]]) -> Iterable[tuple[Any, Any, int]]:
        batch: list[list[int]] = []
        offset = size = 0
        for ids in id_lists:
            batch.append(ids)
            size += len(ids)
            if size >= _BATCH_TOKENS:
                yield (*self._batch_hashes(batch), offset)
                offset += len(batch)
                batch, size = [], 0
        if batch:
            yield (*self._batch_hashes(batch), offset)

    # -- indexing -------------------------------------------------------------
    def add(self, examples: Iterable[Example]) -> None:
        import numpy as np

        fresh: list[list[int]] = []
        cache: dict[str, list[int]] = {}
        for example in examples:
            self.test_examples += 1
            inputs: list[int] = []
            for index, text in enumerate(example_texts(example)):
                ids = cache.get(text)
                if ids is None:
                    ids = cache[text] = self._ids(text)
                    if text not in self._seen:
                        self._seen.add(text)
                        fresh.append(ids)
                if index < len(example.inputs):
                    inputs.extend(ids)
            if 0 < len(inputs) < self.n:  # a text without word tokens (only brackets) matches nothing
                self._short.add(tuple(inputs))
        chunks = [self._grams] + [hashes for hashes, _, _ in self._batches(fresh)]
        grams = np.concatenate(chunks)
        grams.sort()  # sort-based unique: numpy's hash-based unique is several times slower here
        self._grams = grams[np.concatenate(([True], grams[1:] != grams[:-1]))] if grams.size else grams

    # -- filtering ------------------------------------------------------------
    def contaminated(self, examples: Sequence[Example]) -> list[bool]:
        """Whether each example shares an n-gram (or, if short, all its inputs) with the test set."""
        import numpy as np

        flags: list[bool] = []
        id_lists: list[list[int]] = []
        owners: list[int] = []
        cache: dict[str, list[int]] = {}
        for position, example in enumerate(examples):
            inputs: list[int] = []
            for index, text in enumerate(example_texts(example)):
                ids = cache.get(text)
                if ids is None:
                    ids = cache[text] = self._ids(text)
                if index < len(example.inputs):
                    inputs.extend(ids)
                id_lists.append(ids)
                owners.append(position)
            flags.append(0 < len(inputs) < self.n and tuple(inputs) in self._short)
        if not self._grams.size:
            return flags
        text_owner = np.asarray(owners, dtype=np.int64)
        for hashes, owner, offset in self._batches(id_lists):
            where = np.minimum(np.searchsorted(self._grams, hashes), self._grams.size - 1)
            found = self._grams[where] == hashes
            for position in np.unique(text_owner[owner[found] + offset]):
                flags[int(position)] = True
        return flags

    def clean(self, examples: Sequence[Example]) -> list[Example]:
        """The examples that share nothing with the test set."""
        flags = self.contaminated(examples)
        return [e for e, bad in zip(examples, flags) if not bad]

    @property
    def size(self) -> int:
        """Distinct test n-grams indexed (plus short test inputs)."""
        return int(self._grams.size) + len(self._short)


@dataclass
class TrainingReport:
    """What :func:`training_examples` did for one task."""

    task: str
    pool: int
    dropped: int
    sampled: int
    test_tasks: list[str] = field(default_factory=list)
    ngram: int = NGRAM

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "pool": self.pool,
            "dropped_by_decontamination": self.dropped,
            "sampled": self.sampled,
            "test_tasks": len(self.test_tasks),
            "ngram": self.ngram,
        }


def training_examples(
    catalog: Any,
    task_name: str,
    seed: int,
    test_tasks: Sequence[str],
    *,
    rule: TrainRule = TrainRule(),
    decontaminator: Decontaminator | None = None,
) -> tuple[list[Example], TrainingReport]:
    """The paper's training sample of one task, free of test contamination.

    The pool is every non-test split of the task; examples sharing a 30-gram with
    any example of ``test_tasks`` are dropped first, then 128 per class / 256 for
    generation are drawn with the seed. Pass ``decontaminator`` (built once with
    :meth:`Decontaminator.from_tasks`) to reuse one index across tasks, as the trainer
    does; without it, this call indexes ``test_tasks`` itself.

    The task's own test part is not filtered against: the paper evaluates on held-out
    tasks, and in reading-comprehension data many questions share one passage, so
    such a filter would empty whole tasks.
    """
    if task_name in test_tasks:
        raise DataError(f"task {task_name!r} is a held-out test task; it cannot also be a training task")
    task = catalog.get(task_name)
    if decontaminator is None:
        decontaminator = Decontaminator.from_tasks(catalog, test_tasks, seed=seed)
    pool = catalog.eval_pool(task_name)
    kept = decontaminator.clean(pool)
    if not kept:
        raise DataError(
            f"task {task_name!r}: all {len(pool)} training examples share a 30-gram with the test tasks; "
            "move it to the test side of the split, or hold out fewer tasks that share its texts"
        )
    sample = sample_train(task, kept, seed, rule)
    if not sample:
        raise DataError(f"task {task_name!r} gave no training sample (labels {list(task.labels)})")
    report = TrainingReport(task_name, len(pool), len(pool) - len(kept), len(sample), list(test_tasks), decontaminator.n)
    return sample, report
