"""The client's fault handling (unit tests on a scripted loopback server; the real one is in test_server.py)."""

from __future__ import annotations

import pytest

from tests.openai.fake_server import FakeServer
from zp_evolve.errors import ModelError
from zp_openai.client import RequestRejected, ServerClient
from zp_openai.serve import free_port


def client(url: str, **options) -> tuple[ServerClient, list[float]]:
    pauses: list[float] = []
    options.setdefault("retry_seconds", 5.0)
    return ServerClient(url, sleep=pauses.append, **options), pauses


def test_429_and_5xx_are_retried_with_exponential_backoff():
    with FakeServer([(429, {}), (503, {}), (500, {}), (200, {"choices": []})]) as server:
        c, pauses = client(server.base_url)
        assert c.post("completions", {"prompt": "x"}) == {"choices": []}
    assert pauses == [0.5, 1.0, 2.0] and c.retries == 3 and len(server.requests) == 4


def test_malformed_answers_are_retried():
    with FakeServer([(200, b"{not json"), (200, {"choices": "no list"}), (200, {"choices": [{"text": "ok"}]})]) as server:
        c, pauses = client(server.base_url)
        answer = c.post("completions", {}, check=lambda a: a["choices"][0]["text"])
    assert answer["choices"][0]["text"] == "ok" and len(pauses) == 2


def test_a_4xx_is_not_retried():
    with FakeServer([(400, {"error": "bad field"})]) as server:
        c, pauses = client(server.base_url)
        with pytest.raises(RequestRejected, match="HTTP 400.*bad field"):
            c.post("completions", {})
    assert pauses == [] and len(server.requests) == 1


def test_a_server_that_stays_down_stops_with_the_url_after_the_budget():
    url = f"http://127.0.0.1:{free_port()}/v1"
    c = ServerClient(url, retry_seconds=0.3, backoff=0.05)
    with pytest.raises(ModelError, match=rf"{url}/completions did not answer after \d+ tries.*zp-evolve resume"):
        c.post("completions", {})
    assert c.retries >= 2


def test_a_timeout_is_retried_then_reported():
    with FakeServer([("sleep", 1.0), ("sleep", 1.0)], default=(200, {"choices": []})) as server:
        c = ServerClient(server.base_url, timeout=0.2, retry_seconds=5.0, backoff=0.01)
        assert c.post("completions", {}) == {"choices": []}
        assert c.retries == 2
        c = ServerClient(server.base_url, timeout=0.2, retry_seconds=0.3, backoff=0.01)
        server.default = ("sleep", 1.0)
        with pytest.raises(ModelError, match="timed out|TimeoutError|timeout"):
            c.post("completions", {})


def test_the_key_comes_from_the_named_variable_and_is_never_kept(monkeypatch):
    monkeypatch.setenv("ZP_TEST_KEY", "sk-secret-123")
    with FakeServer([]) as server:
        c, _ = client(server.base_url, api_key_env="ZP_TEST_KEY")
        c.get("models")
        assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret-123" not in repr(c) and "sk-secret-123" not in repr(vars(c))
    monkeypatch.delenv("ZP_TEST_KEY")
    with pytest.raises(ModelError, match="'ZP_TEST_KEY' is not set"):
        ServerClient("http://127.0.0.1:1/v1", api_key_env="ZP_TEST_KEY")


def test_the_probe_names_a_server_without_prompt_logprobs():
    from zp_openai.backend import probe

    plain = {"choices": [{"text": "17", "logprobs": None}], "usage": {}}
    with FakeServer([], default=(200, plain)) as server:
        with pytest.raises(ModelError, match=rf"{server.base_url} returns no prompt log-probabilities.*prompt_logprobs"):
            probe(ServerClient(server.base_url, retry_seconds=1), "m", "auto", 1)


def test_the_probe_refuses_shifted_echo_logprobs():
    from tests.openai.test_logprobs import echo_choice
    from zp_openai import logprobs
    from zp_openai.backend import probe

    tokens = [logprobs.COUNTING[i : i + 2] for i in range(0, len(logprobs.COUNTING), 2)]
    shifted = {"choices": [echo_choice(tokens, [None] + [-8.0] * (len(tokens) - 1))], "usage": {}}
    with FakeServer([], default=(200, shifted)) as server:
        with pytest.raises(ModelError, match="shifted by one token.*issue 1983"):
            probe(ServerClient(server.base_url, retry_seconds=1), "m", "echo", 1)
