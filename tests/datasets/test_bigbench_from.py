"""``zp-evolve data pull bigbench --from``: the shapes a BIG-bench copy comes in, and its failures.

The archives are built from real BIG-bench examples (tests/data/bigbench) in the real
layouts: the old PyPI sdist, a GitHub archive (tar or zip) and a clone's folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "bigbench"
TASKS = ("causal_judgment", "disambiguation_qa", "disfl_qa", "abstract_narrative_understanding")


def _members(prefix: str) -> dict[str, bytes]:
    files = {f"{prefix}bigbench/benchmark_tasks/{t}/task.json": (SAMPLE / t / "task.json").read_bytes() for t in TASKS}
    files[f"{prefix}bigbench/benchmark_tasks/{TASKS[0]}/README.md"] = b"# not a task\n"
    files[f"{prefix}setup.py"] = b"# the rest of the repository\n"
    return files


def build_tar(path: Path, prefix: str) -> Path:
    with tarfile.open(path, "w:gz") as bundle:
        for name, data in _members(prefix).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return path


def build_zip(path: Path, prefix: str) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in _members(prefix).items():
            bundle.writestr(name, data)
    return path


def build_folder(path: Path) -> Path:
    for name, data in _members("").items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path / "cache"))
    return {"ZP_EVOLVE_CACHE": str(tmp_path / "cache")}


def _listed(cli, env) -> dict[str, dict]:
    out = cli("tasks", "--provider", "bigbench", "--json", **env)
    assert out.returncode == 0, out.stderr
    return {row["name"]: row for row in map(json.loads, out.stdout.splitlines())}


@pytest.mark.parametrize("shape", ["sdist", "github-tar", "github-zip", "clone"])
def test_every_shape_of_a_copy_gives_the_same_tasks(shape, tmp_path, cache, cli):
    origin = {
        "sdist": lambda: build_tar(tmp_path / "bigbench-1.0.0.tar.gz", "bigbench-1.0.0/"),
        "github-tar": lambda: build_tar(tmp_path / "HEAD.tar.gz", "BIG-bench-6436ed17f979/"),
        "github-zip": lambda: build_zip(tmp_path / "main.zip", "BIG-bench-main/"),
        "clone": lambda: build_folder(tmp_path / "BIG-bench"),
    }[shape]()
    pulled = cli("data", "pull", "bigbench", "--from", str(origin), "--no-progress", **cache)
    assert pulled.returncode == 0, pulled.stderr
    assert "bigbench: pulled" in pulled.stdout
    tasks = _listed(cli, cache)
    # abstract_narrative_understanding has 10 examples: below the 32 a dev set needs.
    assert set(tasks) == {"bb_causal_judgment", "bb_disambiguation_qa", "bb_disfl_qa"}
    assert tasks["bb_causal_judgment"]["labels"] == ["Yes", "No"] and tasks["bb_causal_judgment"]["metric"] == "auc"
    assert tasks["bb_disambiguation_qa"]["multiple_choice"] and tasks["bb_disfl_qa"]["metric"] == "string_f1"
    assert all(row["data_ready"] for row in tasks.values())

    from zp_datasets.bigbench import BigBenchProvider

    rows = BigBenchProvider().examples("bb_disambiguation_qa", "train")
    assert rows and all(e.target in e.candidates and len(e.candidates) >= 2 for e in rows)


def test_the_copy_is_recorded_and_found_again(tmp_path, cache, cli):
    archive = build_tar(tmp_path / "HEAD.tar.gz", "BIG-bench-abc/")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert cli("data", "pull", "bigbench", "--from", str(archive), "--sha256", digest, **cache).returncode == 0
    origins = json.loads((Path(cache["ZP_EVOLVE_CACHE"]) / "data" / "origins.json").read_text())
    assert origins["bigbench"] == {"origin": str(archive), "sha256": digest}
    again = cli("data", "pull", "bigbench", "--force", "--no-progress", **cache)  # no --from: the recorded copy
    assert again.returncode == 0 and "bigbench: pulled" in again.stdout, again.stderr
    listing = json.loads(cli("data", "list", "--json", **cache).stdout)
    row = next(r for r in listing if r["name"] == "bigbench")
    assert row["extracted"] and row["origin"] == str(archive)


def test_a_url_copy_is_downloaded(tmp_path, cache, cli):
    archive = build_zip(tmp_path / "main.zip", "BIG-bench-main/")
    pulled = cli("data", "pull", "bigbench", "--from", archive.as_uri(), "--no-progress", **cache)
    assert pulled.returncode == 0, pulled.stderr
    assert len(_listed(cli, cache)) == 3


def _not_ready(cache) -> None:
    folder = Path(cache["ZP_EVOLVE_CACHE"]) / "data"
    assert not (folder / "bigbench").exists() and not (folder / "bigbench.part").exists()


def test_a_wrong_sha256_exits_2_and_extracts_nothing(tmp_path, cache, cli):
    archive = build_tar(tmp_path / "HEAD.tar.gz", "BIG-bench-abc/")
    out = cli("data", "pull", "bigbench", "--from", str(archive), "--sha256", "0" * 64, **cache)
    assert out.returncode == 2 and "SHA-256 is" in out.stderr and "0" * 64 in out.stderr
    _not_ready(cache)


def test_a_truncated_archive_exits_2_and_is_never_ready(tmp_path, cache, cli):
    archive = build_tar(tmp_path / "HEAD.tar.gz", "BIG-bench-abc/")
    whole = archive.read_bytes()
    archive.write_bytes(whole[: len(whole) // 2])
    out = cli("data", "pull", "bigbench", "--from", str(archive), **cache)
    assert out.returncode == 2 and "truncated" in out.stderr, out.stderr
    _not_ready(cache)
    listed = cli("tasks", "--provider", "bigbench", **cache)
    assert listed.returncode == 0 and "data source 'bigbench' is not here" in listed.stderr


def test_a_wrong_layout_exits_2_naming_the_expected_one(tmp_path, cache, cli):
    folder = tmp_path / "not-bigbench"
    shutil.copytree(SAMPLE, folder / "tasks")  # task.json files, but not under bigbench/benchmark_tasks/
    out = cli("data", "pull", "bigbench", "--from", str(folder), **cache)
    assert out.returncode == 2 and "bigbench/benchmark_tasks/<task>/task.json" in out.stderr
    _not_ready(cache)
    missing = cli("data", "pull", "bigbench", "--from", str(tmp_path / "nowhere.tar.gz"), **cache)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_from_takes_exactly_one_source(tmp_path, cache, cli):
    out = cli("data", "pull", "--all", "--from", str(tmp_path), **cache)
    assert out.returncode == 2 and "--from pulls one source" in out.stderr
