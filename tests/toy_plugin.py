"""A deterministic toy plugin for engine unit tests: no model, no data files.

The fitness is a pure function of the prompt text, so tests can predict the
search's behaviour exactly. Real end-to-end tests use real tasks and models.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from typing import Sequence

from zp_evolve import hookimpl
from zp_evolve.tasks import Example, Task

WORDS = ["please", "carefully", "now", "briefly", "kindly", "simply", "exactly", "truly"]


def text_score(prompt: str) -> float:
    """Deterministic pseudo-fitness in [0, 1): more distinct words score higher, with noise."""
    noise = int(hashlib.sha256(prompt.encode()).hexdigest()[:6], 16) / 16**6
    return round(min(len(set(prompt.split())) / 20.0, 0.9) + noise / 10.0, 6)


class ToyProvider:
    """Two tiny tasks with inline examples."""

    def __init__(self, size: int = 40) -> None:
        self.size = size

    def tasks(self):
        yield Task(
            name="toy_sentiment", type="SENTI", language="en", input_fields=("X",),
            labels=("negative", "positive"), verbalizers=("bad", "good"), metric="accuracy",
            prompts=("Review: [X] Sentiment: _", "[X] It was _ .", "Is this review good or bad? [X] Answer: _"),
            provider="toy", size=self.size,
        )
        yield Task(
            name="toy_pair", type="NLI", language="en", input_fields=("X1", "X2"),
            labels=("no", "yes"), verbalizers=("no", "yes"), metric="accuracy",
            prompts=("[X1] Question: [X2]? _", "Premise: [X1] Hypothesis: [X2] Entailed: _", "[X1] ? _ , [X2]"),
            provider="toy", size=self.size,
        )

    def examples(self, task: str, split: str):
        count = self.size if split == "train" else self.size // 2
        out = []
        for i in range(count):
            label = ("negative", "positive")[i % 2] if task == "toy_sentiment" else ("no", "yes")[i % 2]
            inputs = {"X": f"{split} text {i}"} if task == "toy_sentiment" else {"X1": f"a {i}", "X2": f"b {i}"}
            out.append(Example(inputs=inputs, target=label, source=f"toy:{split}:{i}"))
        return out


class TextFitness:
    """Scores prompts with :func:`text_score`; counts calls so tests can check caching."""

    calls: list[int] = []

    def __init__(self, backend=None, delay: float = 0.0, crash_marker: str = "") -> None:
        self.delay = delay
        self.crash_marker = crash_marker

    def evaluate(self, jobs):
        TextFitness.calls.append(len(jobs))
        out = []
        for job in jobs:
            if self.crash_marker and self.crash_marker in job.prompt:
                raise ValueError("toy crash")
            if self.delay:
                time.sleep(self.delay)
            bonus = 0.05 if job.split == "test" else 0.0
            out.append(text_score(job.prompt) + bonus)
        return out


def unit_hash(*parts: str) -> float:
    """A deterministic number in [0, 1) from text."""
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8], 16) / 16**8


class ExampleFitness:
    """Per-example toy predictions, a pure function of (prompt, example).

    Each example is answered right with a probability that grows with
    :func:`text_score` of the prompt (decided by a hash, so runs repeat exactly);
    the answer is a ``{label: score}`` mapping, as a real scorer gives. Examples
    named in ``flip_sources`` (``"TASK|SOURCE"``) get the opposite answer, so tests
    can change what some dev examples say and watch what the search does with it.
    """

    def __init__(self, backend=None, flip_sources: Sequence[str] = ()) -> None:
        self.flip_sources = set(flip_sources)

    def evaluate(self, jobs):
        return [scored.value for scored in self.evaluate_predictions(jobs)]

    def evaluate_predictions(self, jobs):
        from zp_evolve.evaluation import ScoredPredictions
        from zp_metrics.classification import accuracy

        out = []
        for job in jobs:
            quality = text_score(job.prompt)
            predictions = []
            for example in job.examples:
                right = unit_hash(job.prompt, example.source) < quality
                if f"{job.task.name}|{example.source}" in self.flip_sources:
                    right = not right
                strength = 1.0 + unit_hash("strength", job.prompt, example.source)
                predictions.append(
                    {label: (0.0 if (label == example.target) == right else -strength) for label in job.task.task.labels}
                )
            references = [example.target for example in job.examples]
            out.append(ScoredPredictions(accuracy(predictions, references), tuple(predictions), "accuracy"))
        return out


class AppendWord:
    """Appends a random word before the blank: deterministic under the rng."""

    def __init__(self, words: Sequence[str] = tuple(WORDS)) -> None:
        self.words = list(words)

    def mutate(self, parents, *, rng: random.Random):
        children = []
        for parent in parents:
            word = rng.choice(self.words)
            children.append([parent.replace(" _", f" {word} _", 1) if " _" in parent else f"{word} {parent}"])
        return children


class BreakPlaceholders:
    """Returns invalid children on purpose: lost placeholder, lost blank, empty, too long, copy."""

    def mutate(self, parents, *, rng: random.Random):
        children = []
        for parent in parents:
            children.append([
                parent.replace("[X]", "").replace("[X1]", ""),
                parent.replace("_", "blank"),
                "   ",
                parent + " x" * 400,
                parent,
            ])
        return children


@hookimpl
def zp_register_tasks(register):
    register("toy", ToyProvider)


@hookimpl
def zp_register_fitness(register):
    register("text_fitness", TextFitness)
    register("example_fitness", ExampleFitness)


@hookimpl
def zp_register_mutators(register):
    register("append_word", AppendWord)
    register("break_placeholders", BreakPlaceholders)


def toy_config(tmp_path, **search) -> dict:
    """A raw config for the toy plugin."""
    return {
        "name": "toy",
        "seed": 3,
        "output_dir": str(tmp_path),
        "tasks": {"providers": [{"name": "toy"}], "names": ["toy_sentiment", "toy_pair"], "test": {"max_examples": 10}},
        "fitness": {"name": "text_fitness"},
        "search": {"generations": 3, "top_k": 2, "children_per_parent": 2, **search},
        "mutators": [{"name": "append_word", "weight": 3}, {"name": "break_placeholders", "weight": 1}],
        "selection": {"answer": "best"},  # Algorithm 1's answer, which these tests pin down
    }


if os.environ.get("ZP_TOY_SLOW"):
    TextFitness.__init__.__defaults__ = (None, float(os.environ["ZP_TOY_SLOW"]), "")
