"""g_GPS: breed the next generation from the reproductive group with mutators."""

from __future__ import annotations

import inspect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zp_evolve.errors import PluginError
from zp_evolve.plugins import ComponentSpec, canonical_json
from zp_evolve.rng import derived_rng
from zp_evolve.prompts import split_choices
from zp_evolve.spans import split_spans, strip_marks
from zp_evolve.tasks import Task
from zp_gps.cache import FitnessCache, mutation_key
from zp_gps.individual import PromptIndividual
from zp_gps.offspring import OperatorStats, admit_child


@dataclass
class Operator:
    """A configured mutator with its label (the operator's name in reports) and weight.

    Mutators see the parents' templates: without span marks and without answer choices
    (``template ||| a ||| b``). One whose ``mutate`` takes ``spans`` also gets each parent's
    fixed and editable pieces (:class:`zp_evolve.spans.Span`); one that takes ``choices``,
    each parent's answer choices (a tuple, empty for a prompt without them). A child
    without ``|||`` inherits its parent's choices (:func:`zp_gps.offspring.admit_child`).
    """

    label: str
    weight: float
    mutator: Any
    #: What decides the children besides parents, task and rng: the spec (canonical JSON) and label.
    identity: str = ""

    def __post_init__(self) -> None:
        mutate = getattr(self.mutator, "mutate", None)
        if not callable(mutate):
            raise PluginError(f"mutator {self.label!r} has no mutate(parents, *, rng) method")
        try:
            parameters = inspect.signature(mutate).parameters
        except (TypeError, ValueError):
            parameters = {}  # type: ignore[assignment]
        self._takes_task = "task" in parameters
        self._takes_spans = "spans" in parameters
        self._takes_choices = "choices" in parameters

    def mutate(self, parents: list[str], rng: random.Random, task: Task) -> list[list[str]]:
        """Children (without marks) per parent; ``parents`` may hold span marks and answer choices."""
        templates, choices = zip(*(split_choices(p) for p in parents)) if parents else ((), ())
        kwargs: dict[str, Any] = {"rng": rng}
        if self._takes_task:
            kwargs["task"] = task
        if self._takes_spans:
            kwargs["spans"] = [split_spans(t) for t in templates]
        if self._takes_choices:
            kwargs["choices"] = list(choices)
        try:
            children = self.mutator.mutate([strip_marks(t) for t in templates], **kwargs)
        except Exception as error:
            raise PluginError(f"mutator {self.label!r} failed on task {task.name!r}: {type(error).__name__}: {error}") from error
        if not isinstance(children, list) or len(children) != len(parents):
            raise PluginError(
                f"mutator {self.label!r} broke its contract: mutate() must return one list of children per parent "
                f"({len(parents)} parents, got {type(children).__name__} of length {len(children) if isinstance(children, list) else '?'})"
            )
        return [[c for c in kids if isinstance(c, str)] for kids in children]


def breed(
    task: Task,
    parents: Sequence[PromptIndividual],
    operators: Sequence[Operator],
    *,
    children_per_parent: int,
    max_chars: int,
    seen: set[str],
    generation: int,
    generation_seed: int,
    stats: dict[str, OperatorStats],
    cache: FitnessCache | None = None,
) -> list[PromptIndividual]:
    """G^{t+1}: for every parent, ``children_per_parent`` slots, each given an operator by weight.

    Invalid children are counted per operator and reason and dropped; valid ones get
    their parent's span marks back (and its answer choices, unless they bring their own)
    and are added to ``seen`` so no later child repeats them.
    """
    allocation_rng = derived_rng(generation_seed, task.name, "allocate")
    weights = [op.weight for op in operators]
    slots: dict[str, list[PromptIndividual]] = {op.label: [] for op in operators}
    for parent in parents:
        for _ in range(children_per_parent):
            chosen = allocation_rng.choices(operators, weights=weights, k=1)[0]
            slots[chosen.label].append(parent)
    offspring: list[PromptIndividual] = []
    for op in operators:
        group = slots[op.label]
        if not group:
            continue
        op_stats = stats.setdefault(op.label, OperatorStats())
        rng = derived_rng(generation_seed, task.name, "mutate", op.label)
        parent_texts = [str(p) for p in group]
        key = mutation_key(op.identity, task.name, parent_texts, generation_seed) if cache is not None and op.identity else None
        children = cache.children(key) if key is not None else None  # type: ignore[union-attr]
        if children is None:
            children = op.mutate(parent_texts, rng, task)
            if key is not None:
                cache.put_children(key, children)  # type: ignore[union-attr]
        for parent, kids in zip(group, children):
            for kid in kids:
                op_stats.proposed += 1
                reason, text = admit_child(
                    kid, str(parent), required=task.input_fields, max_chars=max_chars, seen=seen,
                    labels=task.fixed_labels, verbalizers=task.verbalizers,
                )
                if reason is not None:
                    op_stats.rejected[reason] += 1
                    continue
                seen.add(text)
                op_stats.accepted += 1
                offspring.append(
                    PromptIndividual(text, task=task.name, generation=generation, operator=op.label, parent=str(parent))
                )
    return offspring


#: Keys of a mutator entry that the engine consumes; the rest go to the plugin.
MUTATOR_ENGINE_KEYS = ("weight", "label")


def mutator_specs(entries: Sequence[Mapping[str, Any]]) -> list[ComponentSpec]:
    """The ``mutators`` config section, each entry split into the plugin's part and the engine's."""
    return [ComponentSpec.parse("mutators", entry, MUTATOR_ENGINE_KEYS) for entry in entries]


def build_operators(specs: Sequence[Mapping[str, Any]], plugins: Any) -> list[Operator]:
    """Operators from the ``mutators`` config section; repeated names get ``#2``, ``#3``."""
    operators: list[Operator] = []
    used: dict[str, int] = {}
    for index, spec in enumerate(mutator_specs(specs)):
        weight = float(spec.engine.get("weight", 1.0))
        label = spec.engine.get("label") or spec.name
        used[label] = used.get(label, 0) + 1
        if used[label] > 1:
            label = f"{label}#{used[label]}"
        mutator = plugins.build("mutators", spec, path=f"mutators.{index}")
        operators.append(Operator(label, weight, mutator, identity=canonical_json({"label": label, **spec.entry})))
    return operators
