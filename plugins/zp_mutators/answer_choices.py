"""``answer_choices``: the same template with other answer choices (``template ||| a ||| b``).

A prompt answers a task's labels with its own choices after ``|||`` (promptsource's
separator), or with the task's verbalizers when it has none. This operator keeps a
parent's template and proposes other choice sets, drawn with ``rng`` from a pool: the
task's verbalizers, the choices of the task's handcrafted prompts and of the parents in
the batch (so a generation 0 given in ``tasks.prompts`` shares its sets), and the sets
given in ``sets``. A set must have one choice per label of the task, in label order;
sets of another size are skipped for that task, so one list can serve tasks with two
and three labels. It applies to tasks with fixed labels only (not generation, not
multiple choice, whose options come with each example).
"""

from __future__ import annotations

import random
from typing import Any, Literal, Mapping, Sequence

from zp_evolve.errors import ConfigError
from zp_evolve.prompts import CHOICES_SEPARATOR, choice_problems, join_choices, normalize, split_choices
from zp_evolve.tasks import Task


def check_task(task: Task, options: Mapping[str, Any], plugins: Any) -> str | None:
    """Why ``answer_choices`` cannot give ``task`` children (registration metadata ``check_task``)."""
    if task.fixed_labels or options.get("unsupported", "error") == "skip":
        return None
    if task.multiple_choice:
        shape = "a multiple-choice task takes its options from each example"
    else:
        shape = "a generation task has no labels"
    return f"{shape}, so there are no answer choices to change; set unsupported: skip to give such tasks no children"


def _clean(choices: Sequence[str]) -> tuple[str, ...]:
    return tuple(" ".join(str(c).split()) for c in choices)


class AnswerChoices:
    """Proposes other answer-choice sets for each parent's template (model-free).

    Args:
        sets: extra choice sets, each one word (or phrase) per label in the task's label order
            (numbers are read as text; quote yes/no/true/false, which YAML reads as booleans).
        use_task_prompts: draw from the choice sets of the task's handcrafted prompts too.
        children: offspring per parent entry.
        unsupported: what to do with a task without fixed labels: ``error`` (validation
            reports it) or ``skip`` (such tasks get no children from this operator).
    """

    def __init__(
        self,
        sets: Sequence[Sequence[str | int | float | bool]] = (),
        use_task_prompts: bool = True,
        children: int = 1,
        unsupported: Literal["error", "skip"] = "error",
    ) -> None:
        problems = self.check_options(sets=sets, children=children)
        if problems:
            raise ConfigError(f"answer_choices: {'; '.join(problems)}")
        self.sets = [_clean(s) for s in sets]
        self.use_task_prompts = use_task_prompts
        self.children = children
        self.unsupported = unsupported

    @classmethod
    def check_options(cls, *, sets: Sequence[Sequence[Any]] = (), children: int = 1, **_: Any) -> list[str]:
        """Bounds that types cannot say: each set has two or more valid choices; ``children`` >= 1."""
        problems = []
        for index, choices in enumerate(sets):
            if any(isinstance(c, bool) for c in choices):
                problems.append(f"sets.{index} {list(choices)!r} holds a boolean: YAML reads unquoted yes, no, true, "
                                "false, on and off as booleans; quote them (['no', 'yes'])")
                continue
            cleaned = _clean(choices)
            wrong = choice_problems(cleaned)
            if len(cleaned) < 2:
                wrong.append("needs at least two choices (one per label)")
            if any(CHOICES_SEPARATOR in c for c in cleaned):
                wrong.append(f"holds {CHOICES_SEPARATOR!r} inside a choice")
            problems += [f"sets.{index} {list(choices)!r} {problem}" for problem in wrong]
        if children < 1:
            problems.append(f"children must be >= 1 (got {children})")
        return problems

    def pool(self, task: Task, parents_choices: Sequence[Sequence[str]] = ()) -> list[tuple[str, ...]]:
        """Every choice set that fits ``task``, without repeats, in a fixed order."""
        found: list[tuple[str, ...]] = [_clean(task.verbalizers)]
        if self.use_task_prompts:
            found += [split_choices(p)[1] for p in task.prompts]
        found += [_clean(c) for c in parents_choices]
        found += self.sets
        fitting = (s for s in found if s and not choice_problems(s, task.fixed_labels))
        return list(dict.fromkeys(fitting))

    def mutate(
        self,
        parents: Sequence[str],
        *,
        rng: random.Random,
        task: Task | None = None,
        choices: Sequence[Sequence[str]] | None = None,
    ) -> list[list[str]]:
        """Per parent, its template with ``children`` other choice sets (fewer when the pool runs out)."""
        if task is None or not task.fixed_labels:
            if task is not None and self.unsupported == "skip":
                return [[] for _ in parents]
            where = f"task {task.name!r} has no fixed labels" if task is not None else "it was given no task"
            raise ConfigError(f"answer_choices proposes answer words for a task's labels, but {where}")
        own_sets = [_clean(c) for c in (choices or [()] * len(parents))]
        pool = self.pool(task, own_sets)
        verbalizers = _clean(task.verbalizers)
        out: list[list[str]] = []
        # the engine repeats a parent once per child slot: its entries share what was taken
        used: dict[tuple[str, tuple[str, ...]], set[tuple[str, ...]]] = {}
        for parent, own in zip(parents, own_sets):
            own = own or verbalizers
            taken = used.setdefault((normalize(parent), own), {own})
            options = [s for s in pool if s not in taken]
            drawn = rng.sample(options, min(self.children, len(options)))
            taken.update(drawn)
            out.append([join_choices(parent, s) for s in drawn])
        return out
