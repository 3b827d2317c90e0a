"""A small HTTP client of an OpenAI-compatible server: retries, backoff, usage counts.

Standard library only (``urllib``), so the plugin adds no dependency. Every fault a
server can have mid-run (connection refused, a 429 or 5xx answer, a timeout, a body
that is not the JSON it should be) is retried with exponential backoff until
``retry_seconds`` are spent; then :class:`~zp_evolve.errors.ModelError` names the URL,
and the CLI exits 2. The API key is read from the environment variable named in the
config, at request time, and is never stored on the object (which is pickled to Ray
workers and shown in reprs).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from zp_evolve.errors import ModelError

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class RequestRejected(ModelError):
    """The server answered a 4xx (other than 429): the request itself is wrong; no retry."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    """A transient fault: try again after a pause."""


@dataclass
class Usage:
    """Token usage and request count, summed over the answers that came back."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    def add(self, answer: Mapping[str, Any]) -> None:
        usage = answer.get("usage") or {}
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        self.requests += 1

    def to_json(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "requests": self.requests}


@dataclass
class ServerClient:
    """POSTs JSON to ``base_url`` (e.g. ``http://127.0.0.1:8080/v1``) and returns the parsed answer.

    Args:
        base_url: the server's API root, ending in ``/v1`` for OpenAI-compatible servers.
        api_key_env: the NAME of an environment variable holding the key (none: no key).
        timeout: seconds per request.
        retry_seconds: the budget of time spent retrying one request before giving up.
        backoff: the first pause; each retry doubles it, up to ``max_backoff``.
    """

    base_url: str
    api_key_env: str | None = None
    timeout: float = 60.0
    retry_seconds: float = 60.0
    backoff: float = 0.5
    max_backoff: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.api_key_env and self.api_key_env not in os.environ:
            raise ModelError(
                f"api_key_env: the environment variable {self.api_key_env!r} is not set; "
                f"export it with the key of {self.base_url}, or drop api_key_env for a server without keys"
            )

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key_env:
            headers["Authorization"] = f"Bearer {os.environ[self.api_key_env]}"
        return headers

    def post(
        self, path: str, body: Mapping[str, Any], *, check: Callable[[dict], None] | None = None, retry_seconds: float | None = None
    ) -> dict:
        """The JSON answer to ``body``; ``check`` raises ``KeyError``/``TypeError``/``ValueError`` on a malformed one."""
        return self._with_retries("POST", path, json.dumps(body).encode("utf-8"), check, retry_seconds)

    def get(self, path: str) -> dict:
        return self._with_retries("GET", path, None, None, None)

    def _with_retries(
        self, method: str, path: str, data: bytes | None, check: Callable[[dict], None] | None, budget: float | None
    ) -> dict:
        url = self.url(path)
        budget = self.retry_seconds if budget is None else budget
        deadline = time.monotonic() + budget
        pause, tries = self.backoff, 0
        while True:
            tries += 1
            try:
                answer = self._once(method, url, data)
                if check is not None:
                    try:
                        check(answer)
                    except (KeyError, TypeError, ValueError, IndexError) as error:
                        raise _Retryable(f"malformed answer ({type(error).__name__}: {error})") from None
                return answer
            except _Retryable as error:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ModelError(
                        f"the model server at {url} did not answer after {tries} tries over {budget:.0f}s "
                        f"(last: {error}). Check that it is running (zp-evolve serve starts a local one) and that "
                        "model.base_url is right; then zp-evolve resume RUN_DIR goes on without rescoring what was scored."
                    ) from None
                with self._lock:
                    self.retries += 1
                self.sleep(min(pause, left))
                pause = min(pause * 2, self.max_backoff)

    def _once(self, method: str, url: str, data: bytes | None) -> dict:
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace")
            if error.code in RETRY_STATUSES:
                raise _Retryable(f"HTTP {error.code}: {detail}") from None
            raise RequestRejected(f"the model server at {url} rejected the request: HTTP {error.code}: {detail}", error.code) from None
        except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise _Retryable(f"{type(reason).__name__}: {reason}") from None
        try:
            answer = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _Retryable(f"malformed JSON ({error}): {raw[:80]!r}") from None
        if not isinstance(answer, dict):
            raise _Retryable(f"malformed JSON: expected an object, got {type(answer).__name__}")
        return answer
