"""Breeding prompts with answer choices: mutators see templates, children inherit their
parent's choices, a ``choices``-aware mutator may change them, bad ones are rejected."""

from __future__ import annotations

import pytest

from tests import toy_plugin
from zp_evolve.errors import ConfigError
from zp_evolve.plugins import load_plugins
from zp_evolve.prompts import split_choices
from zp_evolve.tasks import Task
from zp_gps.breeding import Operator, breed
from zp_gps.config import validate
from zp_gps.individual import PromptIndividual
from zp_gps.offspring import OperatorStats, admit_child

TASK = Task(
    name="senti", type="SENTI", language="en", input_fields=("X",), labels=("negative", "positive"),
    verbalizers=("bad", "good"), metric="accuracy", prompts=("Review: [X] Sentiment: _",),
)
WITH_CHOICES = "Review: [X] {{Did the critic like it?}} _ ||| no ||| yes"
PLAIN = "[X] It was _ ."


class Recorder(toy_plugin.AppendWord):
    """append_word that records what it was given (it knows nothing of choices)."""

    seen: list[str] = []

    def mutate(self, parents, *, rng):
        Recorder.seen = list(parents)
        return super().mutate(parents, rng=rng)


class SwapChoices:
    """Reverses each parent's answer words, and proposes one child with a bad set."""

    def __init__(self) -> None:
        self.given: list[tuple[str, ...]] = []

    def mutate(self, parents, *, rng, task, choices):
        self.given = list(choices)
        return [
            [f"{p} ||| {' ||| '.join(reversed(own or task.verbalizers))}", f"{p} ||| only one"]
            for p, own in zip(parents, choices)
        ]


def _breed(operator, parents, seen=None):
    stats: dict[str, OperatorStats] = {}
    group = [PromptIndividual(p, task=TASK.name, generation=0) for p in parents]
    children = breed(
        TASK, group, [operator], children_per_parent=1, max_chars=200, seen=set(seen or parents),
        generation=1, generation_seed=7, stats=stats,
    )
    return children, stats[operator.label]


def test_a_mutator_sees_templates_and_its_children_inherit_the_choices():
    children, stats = _breed(Operator("append", 1.0, Recorder()), [WITH_CHOICES, PLAIN])
    assert Recorder.seen == ["Review: [X] Did the critic like it? _", PLAIN]  # no marks, no choices
    assert stats.accepted == 2 and not stats.rejected
    by_parent = {c.parent: str(c) for c in children}
    child = by_parent[WITH_CHOICES]
    assert child.endswith(" _ ||| no ||| yes") and "{{Did the critic like it?" in child  # marks on the template only
    assert "|||" not in by_parent[PLAIN]  # no choices to inherit: the task's verbalizers


def test_a_choices_aware_mutator_changes_them_and_bad_ones_are_rejected():
    swap = SwapChoices()
    children, stats = _breed(Operator("swap", 1.0, swap), [WITH_CHOICES, PLAIN])
    assert swap.given == [("no", "yes"), ()]
    assert sorted(map(str, children)) == [
        "Review: [X] {{Did the critic like it?}} _ ||| yes ||| no",
        "[X] It was _ . ||| good ||| bad",
    ]
    assert stats.rejected == {"bad_choices": 2}  # "only one" answer word for two labels


def test_choices_equal_to_the_verbalizers_leave_the_bare_template():
    admit = lambda child, parent, seen: admit_child(  # noqa: E731
        child, parent, required=("X",), max_chars=200, seen=seen, labels=TASK.fixed_labels, verbalizers=TASK.verbalizers
    )
    assert admit(f"{PLAIN} ||| bad ||| good", f"{PLAIN} ||| no ||| yes", {"x"}) == (None, PLAIN)
    assert admit(f"{PLAIN} ||| bad ||| good", f"{PLAIN} ||| no ||| yes", {PLAIN})[0] == "duplicate"
    assert admit("It was _ ||| no ||| yes", PLAIN, set())[0] == "lost_placeholder"  # the template part is checked
    assert admit(" ||| no ||| yes", PLAIN, set())[0] == "empty"
    # too_long reads the template: the answer words do not count
    assert admit_child(f"{PLAIN} ||| no ||| yes", PLAIN, required=("X",), max_chars=len(PLAIN), seen=set())[0] is None
    # on a task without fixed labels, any choice is bad
    verdict = admit_child(f"{PLAIN} ||| no ||| yes", PLAIN, required=("X",), max_chars=200, seen=set(), labels=())
    assert verdict[0] == "bad_choices"


def test_plain_prompts_breed_as_before():
    """No ``|||`` anywhere: admit_child gives what it gave before choices existed."""
    seen = {PLAIN}
    for child in ("[X] It was truly _ .", "[X] It was _ .", "[X] was", "  "):
        assert admit_child(child, PLAIN, required=("X",), max_chars=200, seen=seen) == admit_child(
            child, PLAIN, required=("X",), max_chars=200, seen=seen, labels=TASK.fixed_labels, verbalizers=TASK.verbalizers
        )


def test_validation_checks_the_choices_of_config_prompts_with_their_key_path(tmp_path):
    raw = toy_plugin.toy_config(tmp_path)
    raw["tasks"]["prompts"] = {
        "toy_sentiment": ["Review: [X] _ ||| awful ||| great", "Review: [X] Sentiment: _ ||| awful ||| fine ||| great"],
        "toy_pair": ["[X1] ? _ , [X2] ||| No ||| No"],
    }
    with pytest.raises(ConfigError) as error:
        validate(raw, load_plugins([toy_plugin]))
    text = str(error.value)
    assert "tasks.prompts.toy_sentiment.1: prompt" in text and "has 3 answer choice(s) for the task's 2 labels" in text
    assert "tasks.prompts.toy_pair.0: prompt" in text and "repeats answer choice(s) 'No'" in text
    assert "toy_sentiment.0" not in text


def test_cached_children_are_keyed_on_the_choices():
    from zp_gps.cache import FitnessCache

    calls = []

    class Counted(toy_plugin.AppendWord):
        def mutate(self, parents, *, rng):
            calls.append(list(parents))
            return super().mutate(parents, rng=rng)

    cache = FitnessCache()
    operator = Operator("append", 1.0, Counted(), identity="append")
    run = lambda parents: [str(c) for c in breed(  # noqa: E731
        TASK, [PromptIndividual(p, task=TASK.name, generation=0) for p in parents], [operator], children_per_parent=1,
        max_chars=200, seen=set(), generation=1, generation_seed=7, stats={}, cache=cache,
    )]
    first = run([WITH_CHOICES])
    assert run([WITH_CHOICES]) == first and len(calls) == 1  # the second call came from the cache
    other = run([WITH_CHOICES.replace("no ||| yes", "nope ||| yep")])
    assert len(calls) == 2 and calls[0] == calls[1]  # the same template, other choices: another key
    assert [split_choices(c)[0] for c in other] == [split_choices(c)[0] for c in first]
    assert split_choices(other[0])[1] == ("nope", "yep")
