"""Runs the transformer of a packed scorer: eagerly, compiled, through CUDA graphs, or both.

The packed scorers (:mod:`zp_hf.packed`, :mod:`zp_hf.packed_seq2seq`) give the model
only a few input shapes (bucketed widths and row counts), which is what makes both
tools pay:

* ``compile``: *regional* ``torch.compile``: the model's repeated block (Llama's
  decoder layer, T5's block: ``model._no_split_modules``) is compiled once, with
  dynamic shapes, and that code serves every layer, every batch shape and every later
  call. Compiling the whole 30-layer forward instead took minutes before the first
  result; one block compiles in the time of one layer. The compiled blocks are active
  only inside this runner's calls, so generation (``model.generate``) stays eager.
  :attr:`Runner.compiled_graphs` counts the graphs dynamo compiled during this runner's
  calls, so a recompilation shows.
* ``graphs``: one CUDA graph captured per input shape (after one warm-up run), then
  replayed: a forward becomes one launch instead of hundreds, which is what a small
  model at large batch needs on a fast GPU. Inputs are copied into the graph's static
  buffers; the output buffer is overwritten by the next replay, so callers read it first.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

import torch

from zp_evolve.errors import ModelError

Args = Sequence["torch.Tensor | None"]


def repeated_blocks(model: Any) -> list[torch.nn.Module]:
    """The modules of ``model`` whose class is one of its ``_no_split_modules`` (its layers)."""
    names = set(getattr(model, "_no_split_modules", None) or ())
    return [module for module in model.modules() if type(module).__name__ in names]


class Runner:
    """Calls ``fn(*tensors)`` eagerly, with compiled blocks and/or as replayed CUDA graphs.

    Args:
        fn: the forward to run; takes tensors (or ``None``) and returns one tensor.
        device: where the tensors live; CUDA graphs need ``cuda``.
        blocks: the modules to compile (:func:`repeated_blocks`), with ``compile``.
        compile: compile ``blocks`` with ``torch.compile`` (dynamic shapes).
        graphs: capture one CUDA graph per input shape and replay it.
        compile_backend: the ``torch.compile`` backend (``inductor``; tests use ``eager``).
    """

    def __init__(
        self,
        fn: Callable[..., torch.Tensor],
        *,
        device: torch.device,
        blocks: Sequence[torch.nn.Module] = (),
        compile: bool = False,
        graphs: bool = False,
        compile_backend: str = "inductor",
    ) -> None:
        if graphs and device.type != "cuda":
            raise ModelError("cuda_graphs: true needs device: cuda (CUDA graphs do not exist on the CPU)")
        if compile and not blocks:
            raise ModelError(
                "compile: true found no repeated transformer block to compile in this model "
                "(its class lists no _no_split_modules); set compile: false"
            )
        self.fn = fn
        self.graphs = graphs
        self.compile = compile
        self.compiled_graphs = 0
        self.captured: dict[tuple, tuple[list[torch.Tensor | None], torch.Tensor, Any]] = {}
        self._pool: Any = None
        self._blocks = list(blocks) if compile else []
        self._compiled: list[Any] = []
        for block in self._blocks:
            try:
                self._compiled.append(torch.compile(block._call_impl, backend=compile_backend, dynamic=True))
            except Exception as error:  # an unknown backend
                raise ModelError(f"compile: true, but torch.compile cannot be set up here: {error}") from error

    def __call__(self, args: Args) -> torch.Tensor:
        """``fn(*args)``."""
        with self._compiled_blocks():
            if self.graphs:
                return self._replay(args)
            return self.fn(*args)

    @contextlib.contextmanager
    def _compiled_blocks(self) -> Iterator[None]:
        if not self._blocks:
            yield
            return
        from torch._dynamo.exc import TorchDynamoException
        from torch._dynamo.utils import counters

        for block, compiled in zip(self._blocks, self._compiled):
            block._compiled_call_impl = compiled  # what nn.Module.compile sets; __call__ then uses it
        before = counters["stats"]["unique_graphs"]
        try:
            with _no_duck_shapes():
                yield
        except TorchDynamoException as error:  # e.g. no C++ compiler for inductor on this machine
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise ModelError(f"compile: true, but torch.compile failed on this model ({first}); set compile: false") from error
        finally:
            self.compiled_graphs += counters["stats"]["unique_graphs"] - before
            for block in self._blocks:
                block._compiled_call_impl = None

    def _replay(self, args: Args) -> torch.Tensor:
        key = tuple(None if a is None else (tuple(a.shape), a.dtype) for a in args)
        entry = self.captured.get(key)
        if entry is None:
            entry = self.captured[key] = self._capture(args)
        static, out, graph = entry
        for buffer, tensor in zip(static, args):
            if buffer is not None:
                buffer.copy_(tensor, non_blocking=True)
        graph.replay()
        return out

    def _capture(self, args: Args) -> tuple[list[torch.Tensor | None], torch.Tensor, Any]:
        static = [None if a is None else a.clone() for a in args]
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()  # one memory pool: replays never overlap
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.fn(*static)  # warm-up off the capture: lazy inits, cuBLAS workspaces, compilation
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, pool=self._pool):
                out = self.fn(*static)
        except Exception as error:
            raise ModelError(
                f"cuda_graphs: true, but this model's forward cannot be captured as a CUDA graph ({error}); "
                "set cuda_graphs: false"
            ) from error
        return static, out, graph


@contextlib.contextmanager
def _no_duck_shapes() -> Iterator[None]:
    """Compile without duck sizing: otherwise a first batch whose row count happens to equal
    a static size of the model (64 = Llama's head dim) gets specialised to it, and every
    later row count recompiles."""
    try:
        import torch.fx.experimental._config as config
    except ImportError:
        config = None
    if config is None or not hasattr(config, "use_duck_shape"):
        yield
        return
    with config.patch(use_duck_shape=False):
        yield
