"""``python -m zp_openai.llama_server ARGS``: llama-cpp-python's OpenAI server, with echo log-probabilities fixed.

llama-cpp-python (0.3.x, issue 1983) pairs each echoed prompt token with the
log-softmax of the logits *at* its position (the distribution of the next token)
whenever the model adds no BOS token, as SmolLM2 does: every prompt log-probability is
off by one token. With a BOS token the BOS is dropped from the echoed tokens and the
pairing is right. :func:`patch` shifts the scores one row down for exactly the calls that
take the faulty path (echo, logprobs, no BOS), so row ``i`` is the distribution after
token ``i - 1``; it patches nothing when the faulty code is not there (a fixed release).
``zp_openai.logprobs.counting_is_shifted`` checks the result from the client's side.

The same path sorts the whole vocabulary in Python for every prompt token to find the
top ``logprobs`` alternatives (49,152 tuples per token for SmolLM2: 5.3 s for a 65-token
prompt on the busy 2-core VM here, against 9 ms without echo). During those calls the
module's ``sorted`` is replaced by an exact top-k in numpy (same entries, same order,
ties included); everywhere else it is the builtin.

llama.cpp's "extra buffer types" (weights repacked for the CPU's AMX tiles or other
kernels) crash ``llama_decode`` with a segmentation fault on Sapphire Rapids CPUs
(``amx_int8``) for the packaged Q4_1 SmolLM2: the server dies on its first completion.
:func:`without_extra_buffers` turns them off unless ``ZP_LLAMA_EXTRA_BUFFERS=1``; the
plain CPU kernels give the same scores everywhere.
"""

from __future__ import annotations

import builtins
import inspect
import os
import runpy
import sys
import threading
from typing import Any

SLOW_SORT = "sorted(zip(logprobs_token, range(len(logprobs_token))), reverse=True)"
FAULTY_LINES = ("logits_to_logprobs(self._scores)[token_offset:]", "prompt_tokens[1 if prompt_tokens[0] == self.token_bos() else 0 :]")
_state = threading.local()


def needs_patch(llama_class: type) -> bool:
    """Whether ``Llama._create_completion`` still has the echo pairing of issue 1983."""
    source = _source(llama_class)
    return all(_squeezed(line) in source for line in FAULTY_LINES)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _source(llama_class: type) -> str:
    """``_create_completion``'s source without whitespace (its lines wrap differently across releases)."""
    try:
        return _squeezed(inspect.getsource(llama_class._create_completion))
    except (OSError, TypeError):
        return ""


def top_sorted(iterable: Any, *, key: Any = None, reverse: bool = False) -> list:
    """``sorted(zip(row, range(n)), reverse=True)`` cut to the top ``_state.top`` entries, in numpy;
    anything else goes to the builtin."""
    top = getattr(_state, "top", None)
    if top is not None and key is None and reverse and type(iterable) is zip:
        row = _zipped_row(iterable)
        if row is not None:
            import numpy as np

            if top <= 0:
                return []
            top = min(top, len(row))
            # every entry at least as large as the top-th value, then the builtin's order on
            # (value, index) tuples: descending by value, ties by descending index
            threshold = np.partition(row, len(row) - top)[len(row) - top]
            chosen = np.flatnonzero(row >= threshold)
            order = chosen[np.lexsort((-chosen, -row[chosen]))][:top]
            return [(row[i], int(i)) for i in order]
    return builtins.sorted(iterable, key=key, reverse=reverse)


def _zipped_row(pair: zip) -> Any:
    """The 1-D numpy array a fresh ``zip(array, range(len(array)))`` reads, or ``None``."""
    try:
        _, (values, indices) = pair.__reduce__()
        _, (row,), position = values.__reduce__()
        _, (span,), start = indices.__reduce__()
    except (TypeError, ValueError, AttributeError):
        return None
    fresh = position == 0 and start == 0 and isinstance(span, range) and len(span) == len(row)
    return row if fresh and getattr(row, "ndim", 0) == 1 else None


def patch(llama_class: type) -> bool:
    """Fix echo log-probabilities on ``llama_class`` (``llama_cpp.Llama``); returns whether it patched."""
    if getattr(llama_class, "_zp_echo_fixed", False) or not needs_patch(llama_class):
        return False
    import numpy as np

    create, to_logprobs = llama_class._create_completion, llama_class.logits_to_logprobs
    module = sys.modules[llama_class.__module__]
    if _squeezed(SLOW_SORT) in _source(llama_class):
        module.sorted = top_sorted  # a module global shadows the builtin for that module only

    def _create_completion(self, *args, **kwargs):
        adds_bos = self._model.add_bos_token() and self.token_bos() != -1
        wants = kwargs.get("logprobs")
        _state.shift = bool(kwargs.get("echo")) and wants is not None and not adds_bos
        _state.top = int(wants) if wants is not None else None
        try:
            yield from create(self, *args, **kwargs)
        finally:
            _state.shift, _state.top = False, None

    def logits_to_logprobs(logits, axis: int = -1):
        out = to_logprobs(logits, axis=axis)
        if not getattr(_state, "shift", False) or np.ndim(out) != 2 or len(out) == 0:
            return out
        # row i must score token i: the distribution after token i - 1 (row 0 is never read: the first token has none)
        return np.concatenate([np.zeros_like(out[:1]), out[:-1]], axis=0)

    llama_class._create_completion = _create_completion
    llama_class.logits_to_logprobs = staticmethod(logits_to_logprobs)
    llama_class._zp_echo_fixed = True
    return True


def without_extra_buffers(bindings: Any) -> bool:
    """Make ``bindings.llama_model_default_params()`` (``llama_cpp.llama_cpp``) turn off
    llama.cpp's extra buffer types (AMX / repacked weights); returns whether it did."""
    if os.environ.get("ZP_LLAMA_EXTRA_BUFFERS") == "1" or getattr(bindings, "_zp_no_extra_buffers", False):
        return False
    defaults = bindings.llama_model_default_params
    if not hasattr(defaults(), "use_extra_bufts"):
        return False  # a release without them

    def llama_model_default_params():
        params = defaults()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = llama_model_default_params
    bindings._zp_no_extra_buffers = True
    return True


def main() -> None:
    import llama_cpp.llama_cpp as bindings
    from llama_cpp import Llama

    fixed = patch(Llama)
    print(f"zp_openai.llama_server: echo logprob fix (issue 1983) {'applied' if fixed else 'not needed'}", file=sys.stderr, flush=True)
    if without_extra_buffers(bindings):
        print("zp_openai.llama_server: llama.cpp extra buffer types (AMX, repack) off", file=sys.stderr, flush=True)
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
