"""GPS over a Hugging Face dataset folder whose generation 0 mixes a handcrafted prompt with
promptsource templates (each with its own answer choices): a tiny causal LM scores it,
``answer_choices`` and ``edit`` breed it, and a run cut after its first generation resumes to
the summary of an uninterrupted one. The rows are real (the packaged product_matching)."""

from __future__ import annotations

from tests.conftest import cut_search, gps_search
from tests.datasets.test_hf_datasets import PS, features, products, save, write_card  # noqa: F401 (a fixture)
from zp_evolve.prompts import split_choices


def _config(tmp_path, card, model) -> dict:
    return {
        "name": "promptsource_e2e",
        "seed": 1,
        "output_dir": str(tmp_path),
        "tasks": {"providers": [{"name": "hf_datasets", "cards": [str(card)]}], "names": ["products"],
                  "dev": {"size": 8, "per_label": 4}, "test": {"max_examples": 8}},
        "model": {"backend": "hf_causal", "name": model, "batch_size": 16},
        "fitness": {"name": "dev_metric"},
        "search": {"generations": 2, "top_k": 3, "children_per_parent": 2},
        "mutators": [{"name": "answer_choices", "sets": [["different", "same"], ["distinct", "identical"]]}, {"name": "edit"}],
        "executor": {"name": "serial"},
    }


def test_promptsource_generation_0_searches_and_resumes(tmp_path, products, tiny_causal):  # noqa: F811
    save(tmp_path / "products", products, features(sentence1="string", sentence2="string", label=["no", "yes"]))
    card = write_card(
        tmp_path, name="products", type="PARA", dataset={"path": "products"}, splits={"train": "train", "test": "validation"},
        inputs={"X1": "sentence1", "X2": "sentence2"}, verbalizers={"no": "different", "yes": "same"},
        prompts=['Product 1: "[X1]" Product 2: "[X2]" These are _ products.'],
        templates={"file": str(PS / "glue" / "mrpc" / "templates.yml")},
    )
    raw = _config(tmp_path, card, tiny_causal)
    whole_search = gps_search(tmp_path / "whole", raw)
    whole = whole_search.run()

    cut_search(tmp_path / "cut", raw, 1)
    assert gps_search(tmp_path / "cut", raw).run(resume=True) == whole

    manual = [m["prompt"] for m in whole["tasks"]["products"]["manual"]]
    assert len(manual) == 6  # the card's prompt and the 5 MRPC templates with answer choices (2 generate text)
    assert sum(bool(split_choices(p)[1]) for p in manual) == 5
    assert {split_choices(p)[1] for p in manual} == {(), ("no", "yes"), ("not equivalent", "equivalent")}
    children = [e for e in whole_search.run_dir.events() if e["split"] == "dev" and e["generation"] > 0]
    assert {e["operator"] for e in children} == {"answer_choices", "edit"}
    assert all(split_choices(e["prompt"])[1] == split_choices(e["parent"])[1] for e in children if e["operator"] == "edit")
