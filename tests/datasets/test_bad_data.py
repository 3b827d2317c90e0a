"""Bad data files, as a new user makes them, through the real CLI: exit status 2, the file
(and line) named with what to fix, no traceback, and no half-written run directory."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from zp_datasets.files import FilesProvider
from zp_evolve.errors import DataError


def _config(card_dir: Path, tmp_path: Path) -> Path:
    """A search over the card's task, scored by the toy fitness: no model is needed."""
    config = {
        "name": "cards",
        "tasks": {"providers": [{"name": "files", "cards": [str(card_dir / "reviews.yaml")]}], "names": ["my_reviews"]},
        "fitness": {"name": "text_fitness"},
        "search": {"generations": 1, "top_k": 2},
        "mutators": [{"name": "append_word"}],
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _run_fails(cli, card_dir: Path, tmp_path: Path, *fragments: str) -> str:
    run_dir = tmp_path / "run"
    result = cli("run", str(_config(card_dir, tmp_path)), "--run-dir", str(run_dir), "--no-progress", plugins="tests.toy_plugin")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert not run_dir.exists()  # the data is read before anything is written
    return result.stderr


def test_the_unbroken_card_runs(card_dir, tmp_path, cli):
    result = cli("run", str(_config(card_dir, tmp_path)), "--run-dir", str(tmp_path / "run"), "--no-progress", plugins="tests.toy_plugin")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["tasks"]["my_reviews"]["test_size"] == 20


def test_a_utf16_file_is_named_with_the_fix(card_dir, tmp_path, cli):
    test_csv = card_dir / "test.csv"
    test_csv.write_bytes(test_csv.read_text(encoding="utf-8").encode("utf-16"))
    _run_fails(cli, card_dir, tmp_path, f"{test_csv}:1: not UTF-8 text (it starts with a UTF-16 byte-order mark)", "Save the file as UTF-8")


def test_random_bytes_are_named_with_their_line(card_dir, tmp_path, cli):
    train = card_dir / "train.jsonl"
    lines = train.read_bytes().splitlines(keepends=True)
    broken = b"".join(lines[:3]) + random.Random(0).randbytes(64) + b"\n" + b"".join(lines[3:])
    train.write_bytes(broken)
    _run_fails(cli, card_dir, tmp_path, f"{train}:4: not UTF-8 text (byte 0x")


def test_an_empty_data_file_is_named(card_dir, tmp_path, cli):
    train = card_dir / "train.jsonl"
    train.write_text("", encoding="utf-8")
    _run_fails(cli, card_dir, tmp_path, f"{train}: the file has no rows", "names it as split 'train'")


@pytest.mark.parametrize(
    "change, file, fragment",
    [
        ({"inputs": {"X": "body"}}, "test.csv:1", "column 'body' (input X in task card"),
        ({"target": "sentiment"}, "test.csv:1", "column 'sentiment' (target in task card"),
    ],
)
def test_a_column_the_card_names_but_the_file_lacks(card_dir, tmp_path, cli, change, file, fragment):
    card = yaml.safe_load((card_dir / "reviews.yaml").read_text())
    card.update(change)
    (card_dir / "reviews.yaml").write_text(yaml.safe_dump(card))
    _run_fails(cli, card_dir, tmp_path, f"{card_dir / file}: {fragment}", "is not in the file; its columns are: text, label")


def test_a_csv_header_without_the_column(card_dir):
    rows = (card_dir / "test.csv").read_text(encoding="utf-8").splitlines()
    (card_dir / "test.csv").write_text("\n".join(["review,label", *rows[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        FilesProvider(cards=[str(card_dir)]).examples("my_reviews", "test")
    assert f"{card_dir / 'test.csv'}:1: column 'text' (input X in task card" in str(caught.value)
    assert "its columns are: review, label" in str(caught.value)


def test_a_utf8_byte_order_mark_is_accepted(card_dir):
    test_csv = card_dir / "test.csv"
    plain = FilesProvider(cards=[str(card_dir)]).examples("my_reviews", "test")
    test_csv.write_bytes(b"\xef\xbb\xbf" + test_csv.read_bytes())
    marked = FilesProvider(cards=[str(card_dir)]).examples("my_reviews", "test")
    assert [(e.inputs, e.target) for e in marked] == [(e.inputs, e.target) for e in plain] and len(plain) == 20


def test_a_jsonl_row_without_a_column_the_others_have(card_dir):
    train = card_dir / "train.jsonl"
    with open(train, "a", encoding="utf-8") as stream:
        stream.write(json.dumps({"review": "no text column here", "label": "pos"}) + "\n")
    with pytest.raises(DataError, match=r"train.jsonl:41: empty text: the row has no column 'text' \(input X\); it has 'review', 'label'"):
        FilesProvider(cards=[str(card_dir)]).examples("my_reviews", "train")
    assert len(FilesProvider(cards=[str(card_dir)], on_bad_rows="skip").examples("my_reviews", "train")) == 40


def test_a_config_that_is_not_utf8(tmp_path, cli):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\n".encode("latin-1"))
    result = cli("validate", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}:1: not UTF-8 text (byte 0xe9 at offset 9: invalid continuation byte)" in result.stderr
