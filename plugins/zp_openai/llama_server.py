"""``python -m zp_openai.llama_server ARGS``: llama-cpp-python's OpenAI server, with echo log-probabilities fixed.

llama-cpp-python (0.3.x, issue 1983) pairs each echoed prompt token with the
log-softmax of the logits *at* its position (the distribution of the next token)
whenever the model adds no BOS token, as SmolLM2 does: every prompt log-probability is
off by one token. With a BOS token the BOS is dropped from the echoed tokens and the
pairing is right. :func:`patch` shifts the scores one row down for exactly the calls that
take the faulty path (echo, logprobs, no BOS), so row ``i`` is the distribution after
token ``i - 1``; it patches nothing when the faulty code is not there (a fixed release).
``zp_openai.logprobs.counting_is_shifted`` checks the result from the client's side.
"""

from __future__ import annotations

import inspect
import runpy
import sys
import threading

FAULTY_LINES = ("logits_to_logprobs(self._scores)[token_offset:]", "prompt_tokens[1 if prompt_tokens[0] == self.token_bos() else 0 :]")
_state = threading.local()


def needs_patch(llama_class: type) -> bool:
    """Whether ``Llama._create_completion`` still has the echo pairing of issue 1983."""
    try:
        source = inspect.getsource(llama_class._create_completion)
    except (OSError, TypeError):
        return False
    return all(line in source for line in FAULTY_LINES)


def patch(llama_class: type) -> bool:
    """Fix echo log-probabilities on ``llama_class`` (``llama_cpp.Llama``); returns whether it patched."""
    if getattr(llama_class, "_zp_echo_fixed", False) or not needs_patch(llama_class):
        return False
    import numpy as np

    create, to_logprobs = llama_class._create_completion, llama_class.logits_to_logprobs

    def _create_completion(self, *args, **kwargs):
        adds_bos = self._model.add_bos_token() and self.token_bos() != -1
        _state.shift = bool(kwargs.get("echo")) and kwargs.get("logprobs") is not None and not adds_bos
        try:
            yield from create(self, *args, **kwargs)
        finally:
            _state.shift = False

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


def main() -> None:
    from llama_cpp import Llama

    fixed = patch(Llama)
    print(f"zp_openai.llama_server: echo logprob fix (issue 1983) {'applied' if fixed else 'not needed'}", file=sys.stderr, flush=True)
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
