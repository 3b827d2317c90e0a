"""The hf_datasets provider: cards over save_to_disk folders, parquet files and hub ids, on real rows.

The pair task is the packaged ``product_matching`` (real product titles, an MRPC-like task)
saved as a `datasets` folder with a ``ClassLabel``; WiC, COPA and RTE rows are real rows of
those datasets, written out here (no hub is reachable in the tests).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from zp_evolve.errors import DataError

from tests.conftest import REPO, cli_env
from tests.datasets.conftest import require_source

PS = REPO / "experiments" / "promptsource"

WIC = {  # WiC train rows
    "word": ["place", "carry", "cup", "go"],
    "sentence1": ["Do you want to come over to my place later?", "You must carry your camping gear.",
                  "He wore a jock strap with a metal cup.", "Messages must go through diplomatic channels."],
    "sentence2": ["A political system with no place for the less prominent groups.", "Sound carries well over water.",
                  "Bees filled the waxen cups with honey.", "Do you think the sofa will go through the door?"],
    "label": [0, 0, 1, 0],
}
COPA = {  # COPA train rows
    "premise": ["My body cast a shadow over the grass.", "The man turned on the faucet.", "The women met for coffee.",
                "The girl found a bug in her cereal."],
    "choice1": ["The sun was rising.", "The toilet filled with water.", "The cafe reopened in a new location.",
                "She poured milk in the bowl."],
    "choice2": ["The grass was cut.", "Water flowed from the spout.", "They wanted to catch up with each other.", "She lost her appetite."],
    "question": ["cause", "effect", "cause", "effect"],
    "label": [0, 1, 1, 1],
}


def features(**columns):
    from datasets import ClassLabel, Features, Value

    return Features({name: ClassLabel(names=kind) if isinstance(kind, list) else Value(kind) for name, kind in columns.items()})


def save(folder: Path, splits: dict[str, dict], feats=None) -> Path:
    from datasets import Dataset, DatasetDict

    DatasetDict({name: Dataset.from_dict(rows, features=feats) for name, rows in splits.items()}).save_to_disk(str(folder))
    return folder


def write_card(folder: Path, **card) -> Path:
    path = folder / f"{card['name']}.yaml"
    path.write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    return path


def provider(*cards: Path, **options):
    from zp_datasets.hf_datasets import HfDatasetsProvider

    return HfDatasetsProvider(cards=[str(c) for c in cards], **options)


@pytest.fixture(scope="module")
def products() -> dict[str, dict]:
    """Real product_matching rows (packaged, from the pulled evals source) as train/validation/test columns."""
    require_source("evals")
    from zp_datasets.packaged import PackagedProvider

    packaged = PackagedProvider(include=["product_matching"])
    rows = packaged.examples("product_matching", "train")[:40] + packaged.examples("product_matching", "test")[:10]

    def columns(part, unlabelled=False):
        return {"sentence1": [e.inputs["X1"] for e in part], "sentence2": [e.inputs["X2"] for e in part],
                "label": [-1 if unlabelled else ["no", "yes"].index(e.target) for e in part]}

    return {"train": columns(rows[:40]), "validation": columns(rows[40:]), "test": columns(rows[40:], unlabelled=True)}


@pytest.fixture
def products_card(tmp_path, products):
    save(tmp_path / "products", products, features(sentence1="string", sentence2="string", label=["no", "yes"]))
    return write_card(
        tmp_path, name="products", type="PARA", dataset={"path": "products"}, splits={"train": "train", "test": "validation"},
        inputs={"X1": "sentence1", "X2": "sentence2"}, verbalizers={"no": "different", "yes": "same"},
        prompts=['Product 1: "[X1]" Product 2: "[X2]" These are _ products.'],
        templates={"file": str(PS / "glue" / "mrpc" / "templates.yml"), "names": ["same thing", "replace"]},
    )


def test_a_folder_gives_classlabel_names_mapped_splits_and_templates_as_prompts(products_card, products):
    hf = provider(products_card)
    (task,) = hf.tasks()
    assert (task.labels, task.verbalizers, task.metric, task.splits, task.size) == (
        ("no", "yes"), ("different", "same"), "auc", ("train", "test"), 50)
    assert task.prompts == ('Product 1: "[X1]" Product 2: "[X2]" These are _ products.',
                            "Do the following two sentences mean the same thing?\n[X1]\n[X2] _ ||| no ||| yes",
                            "Can I replace the sentence\n[X1]\nwith the sentence\n[X2]\nand have it mean the same thing? _ ||| no ||| yes")
    assert task.answer_words(task.prompts[1]) == ("no", "yes") and task.answer_words(task.prompts[0]) == ("different", "same")
    train, test = hf.examples("products", "train"), hf.examples("products", "test")
    assert (len(train), len(test)) == (40, 10)
    assert train[0].inputs == {"X1": products["train"]["sentence1"][0], "X2": products["train"]["sentence2"][0]}
    assert train[0].target == ["no", "yes"][products["train"]["label"][0]]
    assert train[0].source == f"{products_card.parent / 'products'} split 'train' row 0"
    assert hf.skipped_templates["products"] == [] and hf.available("products")
    assert hf.input_columns("products") == ({"X1": "sentence1", "X2": "sentence2"}, "label", None)


def test_an_unlabelled_split_is_a_bad_row_with_the_fix(products_card):
    card = yaml.safe_load(products_card.read_text())
    card["splits"] = {"train": "train", "test": "test"}
    products_card.write_text(yaml.safe_dump(card))
    with pytest.raises(DataError) as error:
        provider(products_card).examples("products", "test")
    assert "split 'test' row 0: missing label: label -1 (an unlabelled split" in str(error.value)
    assert "splits: {train: train, test: validation}" in str(error.value) and "on_bad_rows: skip" in str(error.value)
    lenient = provider(products_card, on_bad_rows="skip")
    assert lenient.examples("products", "test") == [] and len(lenient.examples("products", "train")) == 40
    assert lenient.skipped["products"]["missing label"] == 10


def test_parquet_files_with_and_without_datasets_features(tmp_path, products):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    feats = features(sentence1="string", sentence2="string", label=["no", "yes"])
    Dataset.from_dict(products["train"], features=feats).to_parquet(str(tmp_path / "train.parquet"))
    Dataset.from_dict(products["validation"], features=feats).to_parquet(str(tmp_path / "dev.parquet"))
    base = dict(type="PARA", inputs={"X1": "sentence1", "X2": "sentence2"}, prompts=["[X1] and [X2] are _ items."])
    with_features = write_card(tmp_path, name="p1", dataset={"files": {"train": "train.parquet", "validation": "dev.parquet"}},
                               splits={"train": "train", "test": "validation"}, **base)
    (task,) = provider(with_features).tasks()
    assert task.labels == ("no", "yes") and task.size == 50
    assert len(provider(with_features).examples("p1", "test")) == 10
    # A plain parquet file (pyarrow, no `datasets` metadata) with label names as text: the card gives the labels.
    words = {**products["train"], "label": [["no", "yes"][i] for i in products["train"]["label"]]}
    pq.write_table(pa.table(words), tmp_path / "plain.parquet")
    plain = write_card(tmp_path, name="p2", dataset={"files": {"train": "plain.parquet"}}, splits={"train": "train"},
                       labels={"no": "different", "yes": "same"}, **base)
    hf = provider(plain)
    assert hf.task("p2").verbalizers == ("different", "same")
    assert [e.target for e in hf.examples("p2", "train")] == words["label"]
    ints = {**products["train"]}
    pq.write_table(pa.table(ints), tmp_path / "ints.parquet")
    bare = write_card(tmp_path, name="p3", dataset={"files": {"train": "ints.parquet"}}, splits={"train": "train"}, **base)
    with pytest.raises(DataError, match=r"column 'label' holds integers but is not a ClassLabel; give labels: \[name of 0"):
        provider(bare).tasks()


def test_three_inputs_with_vendored_wic_templates(tmp_path):
    save(tmp_path / "wic", {"train": WIC, "validation": WIC}, features(word="string", sentence1="string", sentence2="string",
                                                                       label=["False", "True"]))
    card = write_card(tmp_path, name="wic", type="WSD", dataset={"path": str(tmp_path / "wic")}, splits={"train": "train", "test": "validation"},
                      inputs={"X1": "word", "X2": "sentence1", "X3": "sentence2"}, verbalizers={"False": "no", "True": "yes"},
                      templates={"file": str(PS / "super_glue" / "wic" / "templates.yml"), "names": ["GPT-3-prompt", "similar-sense"]})
    hf = provider(card)
    task = hf.task("wic")
    assert task.input_fields == ("X1", "X2", "X3") and task.labels == ("False", "True")
    assert task.prompts[1] == "[X2]\n[X3]\nSimilar sense of [X1]? _ ||| No ||| Yes"
    first = hf.examples("wic", "train")[0]
    assert first.inputs == {"X1": "place", "X2": WIC["sentence1"][0], "X3": WIC["sentence2"][0]} and first.target == "False"


def test_multiple_choice_with_option_columns_where_and_a_list_column(tmp_path):
    save(tmp_path / "copa", {"train": COPA, "validation": COPA},
         features(premise="string", choice1="string", choice2="string", question="string", label=["choice1", "choice2"]))
    card = write_card(tmp_path, name="copa_effect", type="COMPLETION", dataset={"path": "copa"}, where={"question": "effect"},
                      splits={"train": "train", "test": "validation"}, inputs={"X1": "premise", "X2": "choice1", "X3": "choice2"},
                      options=["choice1", "choice2"],
                      templates={"file": str(PS / "super_glue" / "copa" / "templates.yml"), "names": ["plausible_alternatives", "choose"]})
    hf = provider(card)
    task = hf.task("copa_effect")
    assert task.multiple_choice and task.metric == "micro_f1" and task.labels == ()
    assert task.prompts[0] == "[X1] As a consequence...\nHelp me pick the more plausible option:\n- [X2]\n- [X3] _"
    examples = hf.examples("copa_effect", "train")
    assert [e.target for e in examples] == ["Water flowed from the spout.", "She lost her appetite."]  # effect rows only
    assert examples[0].candidates == ("The toilet filled with water.", "Water flowed from the spout.")
    # hellaswag's shape: one column holding the endings, the label as text.
    from datasets import Dataset

    rows = {"ctx": ["A man is sitting on a roof. he", "A woman is outside with a bucket and a dog. the dog"],
            "endings": [["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.",
                         "starts pulling up roofing on a roof."],
                        ["is running around trying to avoid a bath.", "gets into the bath tub with the dog.",
                         "gets the dog wet, then it runs away again.", "gets into a bath tub with the dog."]],
            "label": ["3", ""]}
    Dataset.from_dict(rows).save_to_disk(str(tmp_path / "hellaswag"))
    swag = write_card(tmp_path, name="swag", type="COMPLETION", dataset={"path": "hellaswag"}, inputs={"X": "ctx"}, options="endings",
                      templates={"file": str(PS / "hellaswag" / "templates.yml"), "names": ["Open-ended completion", "how_ends"]})
    hf = provider(swag, on_bad_rows="skip")
    assert hf.task("swag").prompts == ("Complete the sentence: [X] _",)
    assert [(name, why[:42]) for name, _, why in hf.skipped_templates["swag"]] == [("how_ends", "its answer choices ['Ending 1', 'Ending 2'")]
    pool = hf.examples("swag", "train") + hf.examples("swag", "test")  # one Dataset: a hold-out
    assert [e.target for e in pool] == ["starts pulling up roofing on a roof."] and hf.skipped["swag"]["missing label"] == 1


def test_a_card_whose_data_is_absent_is_listed_and_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path / "cache"))
    base = dict(type="NLI", dataset={"path": "{cache}/hf/super_glue/rte"}, splits={"train": "train", "test": "validation"},
                inputs={"X1": "premise", "X2": "hypothesis"}, prompts=["[X1] Question: [X2] True or False? _ ||| True ||| False"])
    card = write_card(tmp_path, name="rte", labels=["entailment", "not_entailment"], **base)
    hf = provider(card)
    assert hf.task("rte").labels == ("entailment", "not_entailment") and not hf.available("rte")
    with pytest.raises(DataError) as error:
        hf.examples("rte", "train")
    folder = tmp_path / "cache" / "hf" / "super_glue" / "rte"
    assert f"{folder} has no save_to_disk dataset" in str(error.value)
    assert f"save_to_disk('{folder}')" in str(error.value) and "scripts/save_t0_heldout.py" in str(error.value)
    unlabelled = write_card(tmp_path, name="rte2", **base)
    with pytest.raises(DataError, match=r"give the labels in the card \(labels: \[\.\.\.\]"):
        provider(unlabelled).tasks()


def test_a_hub_dataset_without_a_hub_names_the_id_and_the_local_form(tmp_path, monkeypatch):
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # no hub here: fail at once rather than retry
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    card = write_card(tmp_path, name="rte", type="NLI", dataset={"hub": "super_glue", "config": "rte"},
                      splits={"train": "train", "test": "validation"}, inputs={"X1": "premise", "X2": "hypothesis"},
                      labels=["entailment", "not_entailment"], templates={"file": str(PS / "super_glue" / "rte" / "templates.yml")})
    hf = provider(card)
    assert len(hf.task("rte").prompts) == 10
    with pytest.raises(DataError) as error:
        hf.examples("rte", "train")
    message = str(error.value)
    assert "cannot load hub dataset 'super_glue' (config 'rte')" in message
    assert "load_dataset('super_glue', 'rte').save_to_disk('FOLDER')" in message and "dataset: {path: FOLDER}" in message
    no_labels = write_card(tmp_path, name="cb", type="NLI", dataset={"hub": "super_glue", "config": "cb"}, inputs={"X1": "p", "X2": "h"})
    with pytest.raises(DataError, match="a hub dataset's features are not read when tasks are listed; give labels"):
        provider(no_labels).tasks()


def test_bad_rows_and_card_mistakes_say_what_to_fix(tmp_path):
    rows = {"premise": ["No Weapons of Mass Destruction Found in Iraq Yet.", ""],
            "hypothesis": ["Weapons of Mass Destruction Found in Iraq.", "Pope Benedict XVI is the new leader of the Roman Catholic Church."],
            "label": [1, 0]}
    save(tmp_path / "rte", {"train": rows, "validation": rows}, features(premise="string", hypothesis="string", label="int64"))
    base = dict(type="NLI", dataset={"path": "rte"}, splits={"train": "train", "test": "validation"},
                inputs={"X1": "premise", "X2": "hypothesis"}, prompts=["[X1] Question: [X2] True or False? _"])
    card = write_card(tmp_path, name="rte", labels=["entailment", "not_entailment"], **base)
    with pytest.raises(DataError, match=r"rte split 'train' row 1: empty text: input X1 is empty \(task 'rte'\)"):
        provider(card).examples("rte", "train")
    assert len(provider(card, on_bad_rows="skip").examples("rte", "train")) == 1
    three = write_card(tmp_path, name="rte3", labels=["entailment"], **base)
    with pytest.raises(DataError, match=r"row 0: unknown label: index 1 is out of range for the task's 1 labels \['entailment'\]"):
        provider(three).examples("rte3", "train")
    save(tmp_path / "named", {"train": rows, "validation": rows}, features(premise="string", hypothesis="string", label=["e", "n"]))
    wrong = write_card(tmp_path, name="named", labels=["n", "e"], **{**base, "dataset": {"path": "named"}})
    with pytest.raises(DataError, match=r"labels \['n', 'e'\] differ from the ClassLabel names \['e', 'n'\] of column 'label'"):
        provider(wrong).tasks()
    typo = write_card(tmp_path, name="typo", labels=["e", "n"],
                      **{**base, "dataset": {"path": "named"}, "inputs": {"X1": "premis", "X2": "hypothesis"}})
    with pytest.raises(DataError, match=r"column\(s\) 'premis' are not in the dataset; its columns are: premise, hypothesis, label"):
        provider(typo).tasks()
    split = write_card(tmp_path, name="split", **{**base, "dataset": {"path": "named"}, "splits": {"train": "train", "test": "test"}})
    with pytest.raises(DataError, match=r"the dataset has no split 'test'; its splits are train, validation"):
        provider(split).tasks()
    both = write_card(tmp_path, name="both", labels=["e"], options=["a", "b"], **base)
    with pytest.raises(DataError, match="give options \\(multiple choice\\) or labels, not both"):
        provider(both)


def test_inline_cards_and_every_t0_card_list_without_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    from zp_datasets.hf_datasets import HfDatasetsProvider

    inline = HfDatasetsProvider(tasks=[{"name": "wic", "type": "WSD", "dataset": {"path": "{cache}/hf/super_glue/wic"},
                                        "inputs": {"X1": "word", "X2": "sentence1", "X3": "sentence2"}, "labels": ["False", "True"],
                                        "templates": {"file": str(PS / "super_glue" / "wic" / "templates.yml")}}])
    assert len(inline.task("wic").prompts) == 10
    t0 = provider(REPO / "experiments" / "t0_heldout")
    counts = {t.name: len(t.prompts) for t in t0.tasks()}
    assert counts == {"t0_anli_r1": 15, "t0_cb": 15, "t0_copa_cause": 10, "t0_copa_effect": 10, "t0_hellaswag": 4, "t0_rte": 10,
                      "t0_story_cloze": 5, "t0_wic": 10, "t0_winogrande": 5, "t0_wsc": 4}
    assert not any(t0.skipped_templates.values())


def test_importing_the_plugin_imports_neither_datasets_nor_jinja2():
    code = "import sys, zp_datasets.plugin, zp_datasets.hf_datasets; print(sorted({'datasets', 'jinja2'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_validate_stops_with_status_2_on_a_hostile_template(tmp_path, cli):
    (tmp_path / "templates.yaml").write_text(textwrap.dedent("""\
        templates:
          0a1b: !Template
            answer_choices: Yes ||| No
            id: 0a1b
            jinja: '{{ premise }} {{ hypothesis }} {{ ''''.__class__.__mro__[1].__subclasses__() }} ||| {{ answer_choices[label] }}'
            name: sneaky
        """), encoding="utf-8")
    write_card(tmp_path, name="hostile", type="NLI", dataset={"path": "absent"}, inputs={"X1": "premise", "X2": "hypothesis"},
               labels=["entailment", "not_entailment"], templates={"file": "templates.yaml"})
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "name": "hostile", "seed": 0, "tasks": {"providers": [{"name": "hf_datasets", "cards": [str(tmp_path / "hostile.yaml")]}],
                                                "names": ["hostile"]},
        "model": {"backend": "hf_causal", "name": "smollm2-135m-instruct"}, "fitness": {"name": "dev_metric"},
        "search": {"generations": 1, "top_k": 2, "children_per_parent": 1}, "mutators": [{"name": "edit"}],
    }), encoding="utf-8")
    result = cli("validate", str(config))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"promptsource template 'sneaky' (id 0a1b) in {tmp_path / 'templates.yaml'} tries to reach Python internals" in result.stderr


def _save_t0_shaped(root: Path) -> None:
    """One or two real rows of each T0 held-out dataset, saved with its hub features and split names."""
    from datasets import ClassLabel, Features, Sequence, Value

    text = Value("string")
    number = Value("int32")
    nli = {"premise": ["No Weapons of Mass Destruction Found in Iraq Yet.",
                       "A place of sorrow, after Pope John Paul II died, became a place of celebration."],
           "hypothesis": ["Weapons of Mass Destruction Found in Iraq.", "Pope Benedict XVI is the new leader of the Roman Catholic Church."]}
    nli_features = {"premise": text, "hypothesis": text}
    for folder, names, splits in [("super_glue/rte", ["entailment", "not_entailment"], ("train", "validation")),
                                  ("super_glue/cb", ["entailment", "contradiction", "neutral"], ("train", "validation")),
                                  ("anli", ["entailment", "neutral", "contradiction"], ("train_r1", "dev_r1", "test_r1"))]:
        save(root / folder, {s: {**nli, "label": [1, 0]} for s in splits}, Features({**nli_features, "label": ClassLabel(names=names)}))
    wic = {k: v[::2] for k, v in WIC.items()}
    save(root / "super_glue/wic", {s: {**wic, "start1": [31, 35]} for s in ("train", "validation")},
         Features({"word": text, "sentence1": text, "sentence2": text, "start1": number, "label": ClassLabel(names=["False", "True"])}))
    wsc = {"text": ["Mark told Pete many lies about himself, which Pete included in his book. He should have been more truthful."],
           "span1_index": [0], "span2_index": [13], "span1_text": ["Mark"], "span2_text": ["He"], "label": [1]}
    save(root / "super_glue/wsc.fixed", {s: wsc for s in ("train", "validation")},
         Features({"text": text, "span1_index": number, "span2_index": number, "span1_text": text, "span2_text": text,
                   "label": ClassLabel(names=["False", "True"])}))
    save(root / "super_glue/copa", {s: COPA for s in ("train", "validation")},
         Features({"premise": text, "choice1": text, "choice2": text, "question": text, "label": ClassLabel(names=["choice1", "choice2"])}))
    wino = {"sentence": ["Sarah was a much better surgeon than Maria so _ always got the harder cases."], "option1": ["Sarah"],
            "option2": ["Maria"], "answer": ["1"]}
    save(root / "winogrande/winogrande_xl", {s: wino for s in ("train", "validation")}, Features({k: text for k in wino}))
    swag = {"ctx": ["Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. then"],
            "endings": [[", the man adds wax to the windshield and cuts it.", ", a person board a ski lift.",
                         ", the man puts on a christmas coat, knitted with netting.", ", the man continues removing the snow on his car."]],
            "activity_label": ["Removing ice from car"], "label": ["3"]}
    save(root / "hellaswag", {s: swag for s in ("train", "validation")},
         Features({"ctx": text, "endings": Sequence(text), "activity_label": text, "label": text}))
    story = {"input_sentence_1": ["Rick grew up in a troubled household."],
             "input_sentence_2": ["He never found good support in family, and turned to gangs."],
             "input_sentence_3": ["It wasn't long before Rick got shot in a robbery."],
             "input_sentence_4": ["The incident caused him to turn a new leaf."],
             "sentence_quiz1": ["He is happy now."], "sentence_quiz2": ["He joined a gang."], "answer_right_ending": [1]}
    save(root / "story_cloze/2016", {s: story for s in ("validation", "test")},
         Features({**{k: text for k in story if k != "answer_right_ending"}, "answer_right_ending": number}))


def test_every_t0_card_reads_data_shaped_like_its_hub_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    _save_t0_shaped(tmp_path / "hf")
    t0 = provider(REPO / "experiments" / "t0_heldout")
    firsts = {t.name: t0.examples(t.name, "train")[0].target for t in t0.tasks()}  # the templates are checked on these rows too
    assert firsts == {"t0_anli_r1": "neutral", "t0_cb": "contradiction", "t0_copa_cause": "The sun was rising.",
                      "t0_copa_effect": "Water flowed from the spout.", "t0_hellaswag": ", the man continues removing the snow on his car.",
                      "t0_rte": "not_entailment", "t0_story_cloze": "He is happy now.", "t0_wic": "False", "t0_winogrande": "Sarah",
                      "t0_wsc": "True"}
    assert not any(t0.skipped_templates.values()) and all(t0.available(name) for name in firsts)
