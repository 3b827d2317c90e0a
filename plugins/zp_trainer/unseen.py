"""Soft prompts for unseen tasks (paper appendix A.3, Table 5).

A task classifier, fitted on the training mixture, tells how much a new example looks
like each training task (``prob_i``). From it, and the trained prompts ``E_i``:

* ``none``: no soft prompt at all;
* ``weighted_all``: one prompt for the task, ``sum_i mean_x(prob_i(x)) E_i`` (eq. 3, task level);
* ``weighted_sample``: one prompt per example, ``sum_i prob_i(x) E_i`` (eq. 3, sample level);
* ``top1``: one prompt per example, ``E_k`` with ``k = argmax_i prob_i(x)`` (eq. 4);
* ``random``: a seeded random prompt at the scale of the trained ones.

The classifier is a logistic regression on sentence embeddings (the packaged MiniLM by
default), the cheapest classifier that reads both English and Chinese here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

from zp_evolve.errors import ModelError
from zp_evolve.tasks import Example

PER_SAMPLE = ("weighted_sample", "top1")


def example_text(example: Example) -> str:
    """What the classifier reads: the example's inputs, in field order."""
    return "\n".join(str(example.inputs[name]) for name in sorted(example.inputs))


@dataclass
class TaskClassifier:
    """Logistic regression over sentence embeddings; ``tasks[i]`` is class ``i``."""

    tasks: list[str]
    model: Any
    embedder: Any
    tokenizer: Any
    train_accuracy: float

    @classmethod
    def fit(
        cls,
        examples: dict[str, Sequence[Example]],
        *,
        embedder: str = "minilm",
        per_task: int = 64,
        c: float = 1.0,
        seed: int = 0,
    ) -> "TaskClassifier":
        """Fit on up to ``per_task`` examples of each training task (a seeded choice)."""
        from sklearn.linear_model import LogisticRegression

        from zp_hf.loading import embed, load_embedder

        tasks = sorted(name for name, rows in examples.items() if rows)
        if len(tasks) < 2:
            raise ModelError("the task classifier needs at least two training tasks with examples")
        rng = random.Random(seed)
        texts, labels = [], []
        for index, name in enumerate(tasks):
            rows = list(examples[name])
            for example in rng.sample(rows, min(per_task, len(rows))):
                texts.append(example_text(example))
                labels.append(index)
        model, tokenizer = load_embedder(embedder)
        vectors = embed(model, tokenizer, texts)
        classifier = LogisticRegression(C=c, max_iter=1000, random_state=seed)
        classifier.fit(vectors, labels)
        accuracy = float(classifier.score(vectors, labels))
        return cls(tasks=tasks, model=classifier, embedder=model, tokenizer=tokenizer, train_accuracy=accuracy)

    def probabilities(self, examples: Sequence[Example]) -> list[list[float]]:
        """``prob[x][i]``: how much example ``x`` looks like training task ``tasks[i]``."""
        from zp_hf.loading import embed

        vectors = embed(self.embedder, self.tokenizer, [example_text(e) for e in examples])
        full = [[0.0] * len(self.tasks) for _ in examples]
        for row, probs in zip(full, self.model.predict_proba(vectors).tolist()):
            for column, value in zip(self.model.classes_.tolist(), probs):
                row[int(column)] = float(value)
        return full


def combine(table: Any, tasks: Sequence[str], probs: Sequence[Sequence[float]], mode: str) -> list[Any]:
    """Prompts built from trained rows ``tasks`` of ``table``: one for ``weighted_all``,
    else one per row of ``probs``. Returns ``(n, hidden)`` tensors."""
    import torch

    missing = [t for t in tasks if t not in table]
    if missing:
        raise ModelError(f"the checkpoint has no soft prompt for training task(s) {missing}")
    with torch.no_grad():
        rows = torch.stack([table.vectors(t).detach().float() for t in tasks])  # (K, n, H)
        weights = torch.tensor(probs, dtype=torch.float32)  # (X, K)
        if mode == "weighted_all":
            return [torch.einsum("k,knh->nh", weights.mean(dim=0), rows)]
        if mode == "weighted_sample":
            return list(torch.einsum("xk,knh->xnh", weights, rows))
        if mode == "top1":
            return [rows[int(k)] for k in weights.argmax(dim=1)]
    raise ModelError(f"mode {mode!r} does not combine trained prompts; use weighted_all, weighted_sample or top1")
