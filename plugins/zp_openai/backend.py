"""The ``openai_compatible`` backend: rank classification and generation through a server.

The search process holds no weights: a vLLM, llama.cpp or hosted endpoint does. Queries
are assembled exactly as ``hf_causal`` assembles them (:mod:`zp_hf.formatting`, which
imports no torch), so the two backends score the same text; each candidate answer is one
prompt ``context + answer`` whose answer-token log-probabilities are summed
(:mod:`zp_openai.logprobs`). Requests run on a thread pool (``concurrency`` in flight);
where the server takes a list of prompts (vLLM, OpenAI), up to ``batch_prompts`` go in
one request.

Per predicted item the backend keeps what its requests cost (:attr:`item_usage`), so
the fitness can put each prompt's share in its ``EvalResult.usage``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from zp_evolve.errors import ModelError
from zp_hf import formatting
from zp_hf.formatting import PredictItem, Query
from zp_hf.placement import VerbalizerSetting
from zp_openai import logprobs
from zp_openai.client import RequestRejected, ServerClient, Usage

log = logging.getLogger(__name__)


class OpenAICompatibleBackend:
    """Scores label candidates and generates answers with a model behind an OpenAI-compatible API.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8080/v1`` (``zp-evolve serve``) or a vLLM server's.
        model: the served model's name (none: the first one ``/models`` lists).
        api_key_env: the NAME of the environment variable that holds the API key; the key
            itself never goes in the config.
        timeout: seconds per request.
        retry_seconds: how long one request is retried (backoff doubling from 0.5 s) before the run stops.
        concurrency: requests in flight at once.
        batch_prompts: prompts per request where the server accepts lists (probed); 1 turns lists off.
        dialect: ``auto`` (probe), ``echo`` or ``prompt_logprobs`` (see :mod:`zp_openai.logprobs`).
        length_normalize: average (not sum) the answer's token log-probabilities.
        use_verbalizers: where V goes (:mod:`zp_hf.placement`: before, after_input, answer_format,
            none; true and false mean before and none).
        use_description: D: the prompt template; off, only the inputs and the blank.
        max_new_tokens: generation tasks: tokens per answer (greedy).
        max_input_chars: each input field is cut to this many characters.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        retry_seconds: float = 60.0,
        concurrency: int = 8,
        batch_prompts: int = 16,
        dialect: str = "auto",
        length_normalize: bool = False,
        use_verbalizers: VerbalizerSetting = True,
        use_description: bool = True,
        max_new_tokens: int = 32,
        max_input_chars: int = 2000,
    ) -> None:
        if concurrency < 1 or batch_prompts < 1 or max_new_tokens < 1:
            raise ModelError("openai_compatible: concurrency, batch_prompts and max_new_tokens must be at least 1")
        if dialect not in ("auto", "echo", "prompt_logprobs"):
            raise ModelError(f"openai_compatible: dialect must be auto, echo or prompt_logprobs, not {dialect!r}")
        self.client = ServerClient(base_url, api_key_env=api_key_env, timeout=timeout, retry_seconds=retry_seconds)
        self.concurrency = concurrency
        self.length_normalize = length_normalize
        self.use_verbalizers = use_verbalizers
        self.use_description = use_description
        self.max_new_tokens = max_new_tokens
        self.max_input_chars = max_input_chars
        self.usage = Usage()
        self._item_usage: list[Usage] = []
        self._usage_lock = threading.Lock()
        self.model = model or first_model(self.client)
        self.dialect, self.batch_prompts = probe(self.client, self.model, dialect, batch_prompts)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="zp_openai")

    # -- the backend contract -----------------------------------------------
    def predict(self, items: Sequence[PredictItem]) -> list[Any]:
        """Per item: ``{key: log-likelihood}`` (classification) or the generated text."""
        queries = [
            formatting.make_query(
                item, use_verbalizers=self.use_verbalizers, use_description=self.use_description,
                max_input_chars=self.max_input_chars,
            )  # fmt: skip
            for item in items
        ]
        self._item_usage = [Usage() for _ in queries]
        out: list[Any] = [None] * len(queries)
        scored = [i for i, q in enumerate(queries) if not q.is_generation]
        generated = [i for i, q in enumerate(queries) if q.is_generation]
        for index, scores in zip(scored, self.score([queries[i] for i in scored], owners=scored)):
            out[index] = scores
        for index, text in zip(generated, self.generate([queries[i] for i in generated], owners=generated)):
            out[index] = text
        return out

    @property
    def item_usage(self) -> list[dict[str, int]]:
        """Per item of the last :meth:`predict`: the usage of the requests it led."""
        return [usage.to_json() for usage in self._item_usage]

    def score(self, queries: Sequence[Query], owners: Sequence[int] | None = None) -> list[dict[str, float]]:
        """Rank classification: each query's candidates with their log-likelihoods."""
        owners = list(owners) if owners is not None else list(range(len(queries)))
        texts: list[tuple[str, int, int]] = []  # (prompt, answer start, owner)
        for query, owner in zip(queries, owners):
            context = formatting.causal_context(query.prompt, query.language)
            for candidate in query.candidates:
                texts.append((context + formatting.causal_answer(context, candidate, query.language), len(context), owner))
        chunks = [texts[i : i + self.batch_prompts] for i in range(0, len(texts), self.batch_prompts)]
        values: list[float] = []
        for chunk_values in self._pool.map(self._score_chunk, chunks):
            values.extend(chunk_values)
        out, position = [], 0
        for query in queries:
            out.append(dict(zip(query.keys, values[position : position + len(query.candidates)])))
            position += len(query.candidates)
        return out

    def _score_chunk(self, chunk: Sequence[tuple[str, int, int]]) -> list[float]:
        prompts = [text for text, _, _ in chunk]
        body = logprobs.request_body(self.dialect, self.model, prompts if len(prompts) > 1 else prompts[0])

        def check(answer: dict) -> None:
            choices = sorted(answer["choices"], key=lambda c: c.get("index", 0))
            if len(choices) != len(chunk):
                raise ValueError(f"{len(choices)} choices for {len(chunk)} prompts")
            answer["_values"] = [
                self._reduce(logprobs.answer_logprobs(self.dialect, choice, boundary, len(text)))
                for choice, (text, boundary, _) in zip(choices, chunk)
            ]

        answer = self.client.post("completions", body, check=check)
        self._account(answer, chunk[0][2])
        return answer["_values"]

    def _reduce(self, values: list[float]) -> float:
        return sum(values) / len(values) if self.length_normalize else sum(values)

    def _account(self, answer: dict, owner: int) -> None:
        """The answer's usage goes to the run's total and to the first item it served."""
        with self._usage_lock:
            self.usage.add(answer)
            if owner < len(self._item_usage):
                self._item_usage[owner].add(answer)

    def generate(self, queries: Sequence[Query], owners: Sequence[int] | None = None) -> list[str]:
        """Greedy answers of generation queries (first line), one completion request each."""
        owners = list(owners) if owners is not None else list(range(len(queries)))

        def one(pair: tuple[Query, int]) -> str:
            query, owner = pair
            context = formatting.causal_context(query.prompt, query.language)
            answer = complete(self.client, self.model, context, max_tokens=self.max_new_tokens, temperature=0.0)
            self._account(answer, owner)
            return answer["choices"][0]["text"].strip().split("\n", 1)[0].strip()

        return list(self._pool.map(one, zip(queries, owners)))

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def complete(client: ServerClient, model: str, prompt: str, **options: Any) -> dict:
    """One completions request, its answer checked to hold a text."""

    def check(answer: dict) -> None:
        str(answer["choices"][0]["text"])

    return client.post("completions", {"model": model, "prompt": prompt, **options}, check=check)


def first_model(client: ServerClient) -> str:
    """The first model the server lists (a llama.cpp server serves one)."""
    answer = client.get("models")
    try:
        return str(answer["data"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise ModelError(f"{client.url('models')} lists no model; set model.model to the served model's name") from None


def probe(client: ServerClient, model: str, dialect: str, batch_prompts: int) -> tuple[logprobs.Dialect, int]:
    """Which prompt log-probability dialect the server speaks, and whether it takes lists of prompts."""
    tried = ["echo", "prompt_logprobs"] if dialect == "auto" else [dialect]
    found: logprobs.Dialect | None = None
    for name in tried:
        try:
            answer = client.post("completions", logprobs.request_body(name, model, logprobs.COUNTING))  # type: ignore[arg-type]
        except RequestRejected:
            continue
        choices = answer.get("choices") or [{}]
        if logprobs.has_prompt_logprobs(choices[0], name):  # type: ignore[arg-type]
            if logprobs.counting_is_shifted(choices[0], name):  # type: ignore[arg-type]
                raise ModelError(
                    f"the server at {client.base_url} returns prompt log-probabilities shifted by one token "
                    "(llama-cpp-python issue 1983, models without a BOS token): label scores would be wrong. "
                    "Serve the model with 'zp-evolve serve', whose launcher fixes it."
                )
            found = name  # type: ignore[assignment]
            break
    if found is None:
        raise ModelError(
            f"the server at {client.base_url} returns no prompt log-probabilities (tried {', '.join(tried)}): rank "
            "classification needs echo with logprobs (llama-cpp-python, OpenAI legacy completions) or vLLM's "
            "prompt_logprobs (vllm serve MODEL --max-logprobs 1); llama.cpp's own llama-server has neither."
        )
    if batch_prompts > 1:
        try:
            body = logprobs.request_body(found, model, [logprobs.COUNTING] * 2)
            answer = client.post("completions", body, retry_seconds=0)  # a server without lists may answer 500
            if len(answer.get("choices") or []) != 2:
                batch_prompts = 1
        except (RequestRejected, ModelError):
            batch_prompts = 1
    log.info("server %s: model %s, dialect %s, %d prompt(s) per request", client.base_url, model, found, batch_prompts)
    return found, batch_prompts
