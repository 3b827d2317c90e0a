"""The openai_compatible backend against a real llama.cpp server (llama-cpp-python) on loopback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import gps_search
from zp_openai import logprobs
from zp_openai.backend import OpenAICompatibleBackend
from zp_openai.client import ServerClient

SECRET = "sk-zp-test-never-written"


def served_config(tmp_path, base_url: str, **model: object) -> dict:
    """Two real tasks, two generations (G0 and G1), model-free mutations: a short served search."""
    return {
        "name": "served",
        "seed": 3,
        "output_dir": str(tmp_path),
        "tasks": {"providers": [{"name": "packaged"}], "names": ["rotten_tomatoes", "sms_spam"],
                  "dev": {"size": 8, "per_label": 4}, "test": {"max_examples": 8}},  # fmt: skip
        "model": {"backend": "openai_compatible", "base_url": base_url, "concurrency": 2, "timeout": 300, **model},
        "fitness": {"name": "dev_metric"},
        "search": {"generations": 1, "top_k": 2, "children_per_parent": 1},
        "mutators": [{"name": "edit"}],
        "executor": {"name": "serial", "batch_size": 2},
    }


def test_the_probe_finds_echo_logprobs_unshifted(llama_server):
    backend = OpenAICompatibleBackend(llama_server.base_url)
    assert (backend.model, backend.dialect, backend.batch_prompts) == ("smollm2-135m-instruct", "echo", 1)
    # the launcher's fix for llama-cpp-python issue 1983: counting is near-certain, token after token
    answer = ServerClient(llama_server.base_url).post("completions", logprobs.request_body("echo", backend.model, logprobs.COUNTING))
    values = logprobs.answer_logprobs("echo", answer["choices"][0], len(logprobs.COUNTING) // 2, len(logprobs.COUNTING))
    assert sum(values) / len(values) > -1.0


def test_a_served_search_gives_the_same_summary_twice_and_counts_usage(tmp_path, llama_server, catalog, monkeypatch):
    monkeypatch.setenv("ZP_TEST_KEY", SECRET)
    raw = served_config(tmp_path, llama_server.base_url, api_key_env="ZP_TEST_KEY")
    lines: list[str] = []
    first = gps_search(tmp_path / "a", raw)
    first.echo = lines.append
    summary = first.run()
    second = gps_search(tmp_path / "b", raw).run()
    assert summary == second
    assert summary["usage"]["requests"] > 0 and summary["usage"]["prompt_tokens"] > 0
    assert any(" | tokens " in line and " | requests " in line for line in lines if line.startswith("gen 1/1"))
    events = [json.loads(line) for line in (tmp_path / "a" / "events.jsonl").read_text().splitlines()]
    assert sum(e.get("usage", {}).get("requests", 0) for e in events) == summary["usage"]["requests"]
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "api_key_env: ZP_TEST_KEY" in (tmp_path / "a" / "config.yaml").read_text()


def test_ptm_paraphrase_samples_from_the_server(llama_server):
    import random

    from zp_mutators.paraphrase import PTMParaphrase

    task = None
    mutator = PTMParaphrase(server={"base_url": llama_server.base_url}, unit="sentence", candidates=4, min_overlap=0)
    parents = ["Review: [X] Is this review positive or negative? _", "[X] All in all, the movie was _ ."]
    first = mutator.mutate(parents, rng=random.Random(5), task=task)
    again = PTMParaphrase(server={"base_url": llama_server.base_url}, unit="sentence", candidates=4, min_overlap=0)
    assert again.mutate(parents, rng=random.Random(5), task=task) == first  # seeded samples
    assert mutator.stats["generated"] == 2 * 4
    assert any(first), mutator.stats
    assert mutator._served.usage.requests == 2 * 4


def test_the_served_model_experiment_runs_against_a_local_server(tmp_path, llama_server, catalog, cli):
    url = llama_server.base_url
    result = cli(
        "run", "experiments/served_model.yaml", "--run-dir", str(tmp_path / "run"), "--no-progress",
        "--set", f"model.base_url={url}", "--set", f"mutators.0.server.base_url={url}",
        "--set", "tasks.dev.size=8", "--set", "tasks.dev.per_label=4", "--set", "tasks.test.max_examples=8",
        "--set", "search.generations=1", "--set", "search.children_per_parent=1", timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["usage"]["requests"] > 0
    assert set(summary["operators"]) >= {"manual"} and "tokens" in result.stdout
