"""``answer_choices``: the same template with other answer-choice sets, from a seeded pool."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from zp_evolve.errors import ConfigError
from zp_evolve.plugins import ComponentSpec, load_plugins
from zp_evolve.prompts import split_choices
from zp_evolve.task_checks import mutator_issues
from zp_evolve.tasks import Task
from zp_gps.breeding import Operator, breed
from zp_gps.individual import PromptIndividual
from zp_mutators.answer_choices import AnswerChoices

TASK = Task(
    name="senti", type="SENTI", language="en", input_fields=("X",), labels=("negative", "positive"),
    verbalizers=("bad", "good"), metric="accuracy",
    prompts=("Review: [X] Sentiment: _", "Review: [X] Liked it? _ ||| no ||| yes"),
)
SETS = [["awful", "great"], ["low", "mid", "high"], ["false", "true"]]


def test_the_pool_fits_the_task_and_never_repeats():
    mutator = AnswerChoices(sets=SETS)
    assert mutator.pool(TASK, [("meh", "wow"), ()]) == [
        ("bad", "good"), ("no", "yes"), ("meh", "wow"), ("awful", "great"), ("false", "true"),  # 3 words: skipped
    ]
    assert AnswerChoices(sets=SETS, use_task_prompts=False).pool(TASK) == [("bad", "good"), ("awful", "great"), ("false", "true")]


def test_children_keep_the_template_and_get_another_set():
    mutator = AnswerChoices(sets=SETS)
    parents = ["[X] It was _ .", "[X] It was _ .", "[X] It was _ .", "Review: [X] Liked it? _"]
    children = mutator.mutate(parents, rng=random.Random(1), task=TASK, choices=[(), (), (), ("no", "yes")])
    assert all(len(kids) == 1 for kids in children)
    split = [split_choices(kids[0]) for kids in children]
    assert [template for template, _ in split] == parents
    sets = [choices for _, choices in split]
    assert ("bad", "good") not in sets[:3] and sets[3] != ("no", "yes")  # never the parent's own words
    assert len(set(sets[:3])) == 3  # the repeated entries of one parent get different sets
    again = mutator.mutate(parents, rng=random.Random(1), task=TASK, choices=[(), (), (), ("no", "yes")])
    assert again == children  # all randomness from rng
    few = AnswerChoices(children=9).mutate(["[X] _"], rng=random.Random(0), task=replace(TASK, prompts=TASK.prompts[:1]))
    assert few == [[]]  # only the verbalizers in the pool, and they are the parent's own


def test_it_declares_the_tasks_it_cannot_handle():
    plugins = load_plugins()
    generation = Task(name="summ", type="SUMM", language="en", input_fields=("X",), labels=(), verbalizers=(),
                      metric="rouge1", prompts=("[X] Summary: _",))
    choice = replace(generation, name="quiz", type="QAM", multiple_choice=True, metric="accuracy")
    spec = ComponentSpec.parse("mutators", {"name": "answer_choices"})
    issues = mutator_issues([spec], [TASK, generation, choice], plugins)
    text = " | ".join(f"{i.path}: {i.message}" for i in issues)
    assert "mutators.0: mutator 'answer_choices' cannot handle task 'summ' (en, generation): a generation task" in text
    assert "'quiz' (en, multiple choice): a multiple-choice task takes its options from each example" in text
    assert "'senti'" not in text and "unsupported: skip" in text
    skip = ComponentSpec.parse("mutators", {"name": "answer_choices", "unsupported": "skip"})
    assert mutator_issues([skip], [generation, choice], plugins) == []
    assert AnswerChoices(unsupported="skip").mutate(["[X] _"], rng=random.Random(0), task=generation) == [[]]
    with pytest.raises(ConfigError, match="no fixed labels"):
        AnswerChoices().mutate(["[X] _"], rng=random.Random(0), task=generation)


def test_bad_sets_are_reported_under_their_option():
    plugins = load_plugins()
    spec = {"name": "answer_choices", "sets": [["yes", "yes"], ["one"], ["a", "[X]"]]}
    issues = plugins.check_spec("mutators", spec, "mutators.2")
    text = "\n".join(f"{i.path}: {i.message}" for i in issues)
    assert "mutators.2.sets.0: sets.0 ['yes', 'yes'] repeats answer choice(s) 'yes'" in text
    assert "mutators.2.sets.1:" in text and "needs at least two choices" in text
    assert "mutators.2.sets.2:" in text and "placeholder or the blank" in text
    with pytest.raises(ConfigError, match="sets.0"):
        AnswerChoices(sets=[["a ||| b", "c"]])
    # YAML reads an unquoted no/yes as booleans: say so, not "valid string"
    issues = plugins.check_spec("mutators", {"name": "answer_choices", "sets": [[False, True], [1, 2]]}, "mutators.0")
    assert [i.path for i in issues] == ["mutators.0.sets.0"] and "quote them" in issues[0].message
    assert AnswerChoices(sets=[[1, 2]]).sets == [("1", "2")]  # numbers are read as text


def test_in_the_engine_children_carry_their_new_choices():
    operator = Operator("answer_choices", 1.0, AnswerChoices(sets=SETS))
    parents = [PromptIndividual(p, task=TASK.name, generation=0) for p in ("Review: [X] {{Sentiment:}} _", TASK.prompts[1])]
    stats: dict = {}
    children = breed(TASK, parents, [operator], children_per_parent=2, max_chars=200, seen={str(p) for p in parents},
                     generation=1, generation_seed=3, stats=stats)
    assert len(children) == 4 and not stats["answer_choices"].rejected
    for child in children:
        template, choices = split_choices(str(child))
        assert template == split_choices(child.parent)[0]  # marks and all
        assert choices != split_choices(child.parent)[1]
    # the second parent's children may answer with the verbalizers: then the bare template is kept
    assert all("|||" in c or c == "Review: [X] Liked it? _" for c in map(str, children))


def test_zp_evolve_plugins_lists_it(cli):
    result = cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    entry = next(c for c in json.loads(result.stdout)["mutators"] if c["name"] == "answer_choices")
    assert entry["plugin"] == "zp_mutators" and "answer choices" in entry["description"]
    assert {p["name"] for p in entry["parameters"]} == {"sets", "use_task_prompts", "children", "unsupported"}
