"""Sampling text from a served model, for mutators (``ptm_paraphrase``'s ``server:`` option).

One request per sample, each with its own seed drawn from the caller's ``rng``, so the
same run seed gives the same samples from a server that honours ``seed`` (llama.cpp,
vLLM). A request is a prompt string (completions endpoint) or a list of chat messages
(chat endpoint). Samples stop at the end of their first line, as local generation does.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping, Sequence

from zp_evolve.errors import ConfigError
from zp_openai.client import ServerClient, Usage

SERVER_KEYS = ("base_url", "model", "api_key_env", "timeout", "retry_seconds", "concurrency")


class ServedGenerator:
    """Samples completions from an OpenAI-compatible server.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8080/v1``.
        model: the served model (none: the first one the server lists).
        api_key_env: the NAME of the environment variable holding the key.
        timeout: seconds per request.
        retry_seconds: retry budget of one request.
        concurrency: requests in flight.
    """

    def __init__(
        self, base_url: str, model: str | None = None, api_key_env: str | None = None, timeout: float = 60.0,
        retry_seconds: float = 60.0, concurrency: int = 8,
    ) -> None:  # fmt: skip
        from zp_openai.backend import first_model

        self.client = ServerClient(base_url, api_key_env=api_key_env, timeout=timeout, retry_seconds=retry_seconds)
        self.model = model or first_model(self.client)
        self.concurrency = max(1, concurrency)
        self.usage = Usage()

    @classmethod
    def from_config(cls, server: Mapping[str, Any], owner: str) -> "ServedGenerator":
        check_server(server, owner)
        return cls(**dict(server))

    def sample(
        self, requests: Sequence[str | list[dict[str, str]]], rng: random.Random, *, candidates: int, temperature: float,
        top_p: float, max_tokens: int,
    ) -> list[list[str]]:  # fmt: skip
        """``candidates`` samples per request."""
        base_seed = rng.getrandbits(31)
        jobs = [(i, k) for i in range(len(requests)) for k in range(candidates)]

        def one(job: tuple[int, int]) -> str:
            index, k = job
            request = requests[index]
            body: dict[str, Any] = {
                "model": self.model, "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
                "stop": ["\n"], "seed": (base_seed + index * candidates + k) % 2**31,
            }  # fmt: skip
            if isinstance(request, str):
                answer = self.client.post("completions", {**body, "prompt": request}, check=_has_text)
                text = answer["choices"][0]["text"]
            else:
                answer = self.client.post("chat/completions", {**body, "messages": request}, check=_has_message)
                text = answer["choices"][0]["message"]["content"] or ""
            self.usage.add(answer)
            return text.split("\n", 1)[0]

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            texts = list(pool.map(one, jobs))
        out: list[list[str]] = [[] for _ in requests]
        for (index, _), text in zip(jobs, texts):
            out[index].append(text)
        return out


def check_server(server: Mapping[str, Any], owner: str) -> None:
    """A ``server:`` option names base_url and only known keys (the key itself is never one: api_key_env names it)."""
    unknown = sorted(set(server) - set(SERVER_KEYS))
    if unknown or "base_url" not in server:
        raise ConfigError(
            f"{owner}: server needs base_url and takes only {', '.join(SERVER_KEYS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )


def _has_text(answer: dict) -> None:
    str(answer["choices"][0]["text"])


def _has_message(answer: dict) -> None:
    answer["choices"][0]["message"]["content"]
