"""promptsource templates as prompts: the YAML reader, the sandbox, conversion and its skip rules.

The templates are real promptsource text, copied from the vendored files under
experiments/promptsource/ (super_glue rte, wsc.fixed and copa, story_cloze, hellaswag).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zp_evolve.errors import DataError

from tests.conftest import REPO

RTE_TEMPLATES = """\
dataset: super_glue
subset: rte
templates:
  8fb1c6aa-20e9-438c-bece-c6af1c746449: !Template
    answer_choices: True ||| False
    id: 8fb1c6aa-20e9-438c-bece-c6af1c746449
    jinja: '{{premise}}

      Question: {{hypothesis}} True or False? ||| {% if label != -1 %}{{ answer_choices[label]
      }}{% endif %}'
    metadata: !TemplateMetadata
      choices_in_prompt: true
      languages:
      - en
      metrics:
      - Accuracy
      original_task: true
    name: GPT-3 style
    reference: Same as reported in Figure G31 of the GPT-3 paper.
  4163e6f1-1a83-4c73-b867-02eb7ac80316: !Template
    answer_choices: Yes ||| No
    id: 4163e6f1-1a83-4c73-b867-02eb7ac80316
    jinja: Suppose {{premise}} Can we infer that "{{hypothesis}}"? Yes or no? |||
      {% if label != -1 %}{{ answer_choices[label] }}{% endif %}
    metadata: !TemplateMetadata
      choices_in_prompt: true
      original_task: true
    name: can we infer
    reference: Webson & Pavlick 2021
"""


def rte_binding():
    from zp_datasets.promptsource import Binding

    return Binding(inputs={"X1": ("premise",), "X2": ("hypothesis",)}, target="label", labels=("entailment", "not_entailment"))


def template(jinja: str, choices: str | None = "Yes ||| No", name: str = "t", file: str = "templates.yaml"):
    from zp_datasets.promptsource import SourceTemplate

    return SourceTemplate(id=f"id-{name}", name=name, jinja=jinja, answer_choices=choices, file=file)


def skip_reason(source, binding, **options) -> str:
    from zp_datasets.promptsource import Skip, convert

    with pytest.raises(Skip) as skipped:
        convert(source, binding, **options)
    return str(skipped.value)


def test_templates_are_read_and_converted_with_their_answer_choices(tmp_path):
    from zp_datasets.promptsource import convert, read_templates, select

    path = tmp_path / "templates.yaml"
    path.write_text(RTE_TEMPLATES, encoding="utf-8")
    templates = read_templates(path)
    assert [t.name for t in templates] == ["GPT-3 style", "can we infer"]
    prompts = [convert(t, rte_binding()) for t in templates]
    assert prompts == ["[X1]\nQuestion: [X2] True or False? _ ||| True ||| False",
                       'Suppose [X1] Can we infer that "[X2]"? Yes or no? _ ||| Yes ||| No']
    assert [t.name for t in select(templates, ["can we infer"], [], path)] == ["can we infer"]
    assert [t.name for t in select(templates, [], ["8fb1c6aa-20e9-438c-bece-c6af1c746449"], path)] == ["GPT-3 style"]
    with pytest.raises(DataError, match=r"no template 'guaranteed true'; its templates are: 'GPT-3 style', 'can we infer'"):
        select(templates, ["guaranteed true"], [], path)


def test_three_inputs_and_multiple_choice_with_options_as_inputs():
    from zp_datasets.promptsource import Binding, convert

    wsc = Binding(inputs={"X1": ("text",), "X2": ("span1_text",), "X3": ("span2_text",)}, target="label", labels=("False", "True"))
    by_p = template('{{ text }} Here, by "{{ span2_text }}" they mean "{{ span1_text }}". Yes or no? ||| '
                    "{% if label != -1 %}{{ answer_choices[label] }}{% endif %}", "No ||| Yes")
    assert convert(by_p, wsc) == '[X1] Here, by "[X3]" they mean "[X2]". Yes or no? _ ||| No ||| Yes'
    story = Binding(inputs={"X1": tuple(f"input_sentence_{i}" for i in range(1, 5)), "X2": ("sentence_quiz1",), "X3": ("sentence_quiz2",)},
                    target="answer_right_ending", options=("sentence_quiz1", "sentence_quiz2"), index_base=1)
    novel = template("I read the following novel: {{input_sentence_1}} {{input_sentence_2}} {{input_sentence_3}} {{input_sentence_4}} "
                     "What do you think is the most probable ending? You can choose from the following options: - "
                     '{{answer_choices | join("\\n- ")}} ||| {{answer_choices[answer_right_ending -1]}}',
                     "{{sentence_quiz1}} ||| {{sentence_quiz2}}")
    assert convert(novel, story) == ("I read the following novel: [X1] What do you think is the most probable ending? "
                                     "You can choose from the following options: - [X2]\n- [X3] _")  # no choices: each example's options
    hellaswag = Binding(inputs={"X": ("ctx",)}, target="label", options=("endings",), options_list=True)
    completion = template("Complete the sentence: {{ctx}}\n|||\n{{answer_choices[label | int()]}}", '{{endings | join(" ||| ")}}')
    assert convert(completion, hellaswag) == "Complete the sentence: [X] _"


COPA = ("{{ premise }} {% if question == \"cause\" %} This happened because... {% else %} As a consequence... {% endif %}\n"
        "Help me pick the more plausible option:\n- {{choice1}}\n- {{choice2}} ||| {% if label != -1 %}{{ answer_choices[label] }}{%endif%}")


@pytest.mark.parametrize("jinja, choices, reason", [
    ('{{ text }} In the previous sentence, does the pronoun "{{ span2_text.lower() }}" refer to {{ span1_text }}? Yes or no? ||| '
     "{% if label != -1 %}{{ answer_choices[label] }}{% endif %}", "No ||| Yes",
     "it changes or tests input X3 (column 'span2_text') with a filter, a method such as .lower() or a condition"),
    ('{{ text }} I think they mean "{{ text.split(" ")[span2_index:] | join(" ") }}" Yes or no? ||| {{ answer_choices[label] }}',
     "No ||| Yes", "it uses column(s) 'span2_index', which the card does not bind"),
    ("{{ text }} {{ span1_text }} {{ span2_text }}? ||| {{ answer_choices[1 - label] }}", "No ||| Yes",
     "its target is not one of the answer choices (for 'False' it renders 'Yes', choice 0 is 'No')"),
    ("{{ text }} {{ span1_text }} {{ span2_text }}? ||| {{ answer_choices[label] }}", "{{ span1_text }} ||| other",
     "its answer choices depend on the example"),
    ("{{ text }} {{ span1_text }} {{ span2_text }}: {{ ['yes', 'no'] | choice }} ||| {{ answer_choices[label] }}", "No ||| Yes",
     "its Jinja does not compile (line 1: No filter named 'choice'.)"),
    ("{{ text }} In the sentence, does _ refer to {{ span1_text }} and not {{ span2_text }}? ||| {{ answer_choices[label] }}", "No ||| Yes",
     "its text has a lone '_'"),
    ("{{ text }} Who is {{ span2_text }}? ||| {{ span1_text }}", None, "it has no answer_choices (a generation template)"),
    ("{{ text }} Who is {{ span2_text }}? ||| {{ answer_choices[label] }}", "No ||| Yes", "it does not show input X2 (column 'span1_text')"),
])
def test_templates_that_cannot_be_prompts_are_skipped_with_the_reason(jinja, choices, reason):
    from zp_datasets.promptsource import Binding

    wsc = Binding(inputs={"X1": ("text",), "X2": ("span1_text",), "X3": ("span2_text",)}, target="label", labels=("False", "True"))
    assert reason in skip_reason(template(jinja, choices), wsc)


def test_copa_templates_need_their_question_fixed_and_are_checked_on_real_rows():
    from zp_datasets.promptsource import Binding, Skip, check_rows, convert

    copa = dict(inputs={"X1": ("premise",), "X2": ("choice1",), "X3": ("choice2",)}, target="label", options=("choice1", "choice2"))
    plausible = template(COPA, "{{choice1}} ||| {{choice2}}", name="plausible_alternatives")
    assert "it uses column(s) 'question'" in skip_reason(plausible, Binding(**copa))
    effect = Binding(**copa, constants={"question": "effect"})
    prompt = convert(plausible, effect)
    assert prompt == "[X1] As a consequence...\nHelp me pick the more plausible option:\n- [X2]\n- [X3] _"
    # Real COPA rows: an effect question reads as the converted prompt; a cause question does not.
    effect_row = {"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.",
                  "choice2": "Water flowed from the spout.", "question": "effect", "label": 1}
    inputs = {"X1": effect_row["premise"], "X2": effect_row["choice1"], "X3": effect_row["choice2"]}
    check_rows(plausible, effect, prompt, [(effect_row, inputs, "Water flowed from the spout.")])
    cause_row = {"premise": "My body cast a shadow over the grass.", "choice1": "The sun was rising.", "choice2": "The grass was cut.",
                 "question": "cause", "label": 0}
    with pytest.raises(Skip, match=r"on row 0 of the data it renders 'My body cast a shadow over the grass. This happened because"):
        check_rows(plausible, effect, prompt, [(cause_row, {"X1": cause_row["premise"], "X2": cause_row["choice1"],
                                                            "X3": cause_row["choice2"]}, "The sun was rising.")])


def test_winogrande_style_targets_need_the_index_base():
    from zp_datasets.promptsource import Binding, convert

    wino = dict(inputs={"X1": ("sentence",), "X2": ("option1",), "X3": ("option2",)}, target="answer", options=("option1", "option2"))
    jinja = ("{{sentence}}\nWhich option is right? - {{ option1 }} - {{ option2 }} ||| "
             "{% if answer == '1' %} {{option1}} {% else %} {{ option2 }} {% endif %}")
    source = template(jinja, "{{option1}} ||| {{option2}}")
    assert "its target is not one of the answer choices" in skip_reason(source, Binding(**wino))
    assert convert(source, Binding(**wino, index_base=1)) == "[X1]\nWhich option is right? - [X2] - [X3] _"


@pytest.mark.parametrize("jinja", [
    "{{ ''.__class__.__mro__ }} {{premise}} {{hypothesis}} ||| {{ answer_choices[label] }}",
    "{{premise}} {{hypothesis}} {{ cycler.__init__.__globals__ }} ||| {{ answer_choices[label] }}",
    "{{premise}} {{hypothesis}} {{ 'x' * 1000000000 }} ||| {{ answer_choices[label] }}",
])
def test_a_hostile_template_is_refused_naming_it(jinja):
    from zp_datasets.promptsource import convert

    with pytest.raises(DataError) as error:
        convert(template(jinja, name="sneaky", file="/cards/templates.yaml"), rte_binding())
    message = str(error.value)
    assert "promptsource template 'sneaky' (id id-sneaky) in /cards/templates.yaml" in message
    assert "it was not run" in message


def test_a_yaml_tag_other_than_promptsource_s_is_refused(tmp_path):
    from zp_datasets.promptsource import read_templates

    marker = tmp_path / "ran"
    path = tmp_path / "templates.yaml"
    path.write_text(RTE_TEMPLATES + f"  evil: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_templates(path)
    line = RTE_TEMPLATES.count("\n") + 1
    assert f"{path}:{line}: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in str(error.value)
    assert not marker.exists()
    other = tmp_path / "other.yaml"
    other.write_text("templates:\n  a: !Evil {jinja: x}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"other.yaml:2: tag '!Evil' is not allowed"):
        read_templates(other)


def test_label_values_equal_their_digits():
    from zp_datasets.promptsource import LabelValue

    one = LabelValue(1)
    assert one == 1 and one == "1" and one != "2" and not (one != "1") and ["a", "b"][one] == "b"


COUNTS = {  # file: (templates, converted) with the bindings of experiments/t0_heldout/ (docs/tasks.md)
    "super_glue/rte": (10, 10), "super_glue/cb": (15, 15), "anli": (15, 15), "super_glue/wic": (10, 10),
    "super_glue/wsc.fixed": (10, 4), "winogrande/winogrande_xl": (6, 0), "hellaswag": (11, 1), "story_cloze/2016": (6, 5),
    "glue/mrpc": (7, 5),
}


def _binding_of(folder: str):
    from zp_datasets.hf_cards import read_card
    from zp_datasets.promptsource import Binding

    if folder == "glue/mrpc":
        return Binding(inputs={"X1": ("sentence1",), "X2": ("sentence2",)}, target="label", labels=("not_equivalent", "equivalent"))
    cards = {"super_glue/rte": "rte", "super_glue/cb": "cb", "anli": "anli_r1", "super_glue/wic": "wic", "super_glue/wsc.fixed": "wsc",
             "winogrande/winogrande_xl": "winogrande", "hellaswag": "hellaswag", "story_cloze/2016": "story_cloze"}
    card = read_card(REPO / "experiments" / "t0_heldout" / f"{cards[folder]}.yml")
    labels = tuple(card.labels or ())
    return card.binding(labels, options_list=isinstance(card.options, str))


@pytest.mark.parametrize("folder", sorted(COUNTS))
def test_vendored_templates_convert_as_documented(folder):
    from zp_datasets.promptsource import Skip, convert, read_templates

    templates = read_templates(REPO / "experiments" / "promptsource" / folder / "templates.yml")
    converted = 0
    for source in templates:
        try:
            convert(source, _binding_of(folder))
            converted += 1
        except Skip:
            pass
    assert (len(templates), converted) == COUNTS[folder]


def test_vendored_copa_converts_ten_of_twelve_per_question():
    from zp_datasets.hf_cards import read_card
    from zp_datasets.promptsource import Skip, convert, read_templates

    templates = read_templates(REPO / "experiments" / "promptsource" / "super_glue" / "copa" / "templates.yml")
    for half in ("cause", "effect"):
        card = read_card(REPO / "experiments" / "t0_heldout" / f"copa_{half}.yml")
        names = []
        for source in templates:
            try:
                convert(source, card.binding((), options_list=False))
                names.append(source.name)
            except Skip:
                pass
        assert len(templates) == 12 and names == [n for n in [t.name for t in templates] if n in card.templates.names]
        assert len(names) == 10


def test_the_vendored_files_say_where_they_come_from():
    notice = (REPO / "experiments" / "promptsource" / "README.md").read_text(encoding="utf-8")
    assert "Apache" in notice and "bigscience-workshop/promptsource" in notice
    assert sorted(str(p.parent.relative_to(REPO / "experiments" / "promptsource"))
                  for p in Path(REPO / "experiments" / "promptsource").rglob("templates.yml")) == sorted([*COUNTS, "super_glue/copa"])
