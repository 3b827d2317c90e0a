"""The stages of ``zp-evolve bench --random-init`` (driven by :mod:`zp_hf.benchmarking.random_init`).

Every stage scores the same token ids (the items encoded once), times each variant
after a warm-up call (best of ``repeats``, the device synchronised around each), and
compares every variant's argmax with the naive reference in fp32 on the first
``agree`` items. Results go into the report as soon as each variant is measured.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any, Callable, Sequence

#: Variants of the packed path (backend options on top of dtype, device and batch budget).
PACKED_VARIANTS: dict[str, dict[str, Any]] = {
    "packed": {"scoring": "packed", "layout": "packed"},
    "padded": {"scoring": "packed", "layout": "padded"},
    "packed+graphs": {"scoring": "packed", "layout": "packed", "cuda_graphs": True},
    "padded+graphs": {"scoring": "packed", "layout": "padded", "cuda_graphs": True},
}
COMPILE_VARIANTS: dict[str, dict[str, Any]] = {
    "compile": {"scoring": "packed", "layout": "packed", "compile": True},
    "compile+graphs": {"scoring": "packed", "layout": "packed", "compile": True, "cuda_graphs": True},
}


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def free(device: str) -> None:
    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()


def timed(call: Callable[[], Any], device: str, repeats: int) -> tuple[float, float, Any]:
    """``(best seconds, first-call seconds, output)``: one warm-up call (graph capture,
    compilation, allocator), then the best of ``repeats`` timed calls."""
    sync(device)
    start = time.perf_counter()
    out = call()
    sync(device)
    first = time.perf_counter() - start
    best = first if repeats < 1 else float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        out = call()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best, first, out


def argmax(row: Sequence[float]) -> int:
    return max(range(len(row)), key=row.__getitem__)


def agreement(out: Sequence[Sequence[float]], reference: Sequence[Sequence[float]]) -> float:
    """Share of the reference's items whose argmax ``out`` repeats."""
    pairs = list(zip(out, reference))
    return round(sum(argmax(a) == argmax(b) for a, b in pairs) / len(pairs), 4)


def max_difference(out: Sequence[Sequence[float]], reference: Sequence[Sequence[float]]) -> float:
    return max(abs(x - y) for a, b in zip(out, reference) for x, y in zip(a, b))


class Family:
    """One model family's comparison: naive reference, plain-HF anchor, variants, bound."""

    def __init__(self, bench: Any, name: str, model_dir: str, backend_class: Any) -> None:
        self.bench = bench
        self.name = name
        self.model_dir = model_dir
        self.backend_class = backend_class
        self.section: dict[str, Any] = {"family": name, "variants": {}}
        self.encoded: list[Any] = []
        self.naive: list[list[float]] = []
        self.outputs: dict[str, list[list[float]]] = {}
        self.options: dict[str, dict[str, Any]] = {}

    def backend(self, **options: Any) -> Any:
        common = {"device": self.bench.device, "dtype": "bf16", "max_batch_tokens": self.bench.tokens}
        return self.backend_class(self.model_dir, **{**common, **options})

    def encode(self) -> Any:
        """Encode the items once (timed: the tokenizer's share of a ``predict`` call)."""
        backend = self.backend(scoring="packed")
        start = time.perf_counter()
        self.encoded = backend.encode(backend.queries(self.bench.items))
        self.section["tokenize_s"] = round(time.perf_counter() - start, 3)
        self.section["items"] = len(self.encoded)
        self.section["mean_context_tokens"] = round(statistics.mean(len(i.context) for i in self.encoded), 2)
        return backend

    def reference(self) -> None:
        """The naive loop in fp32 on the first ``agree`` items: the exact function."""
        naive = self.backend_class(self.model_dir, device=self.bench.device, dtype="fp32", scoring="naive")
        subset = self.encoded[: self.bench.agree]
        seconds, _, self.naive = timed(lambda: naive.scorer.score(subset), self.bench.device, 0)
        self.section["naive_fp32"] = {"items": len(subset), "examples_per_s": round(len(subset) / seconds, 2)}
        del naive
        free(self.bench.device)

    def bound(self, flops_per_item: Sequence[float]) -> None:
        mean = statistics.mean(flops_per_item)
        self.section["flops_per_item"] = round(mean)
        self.section["flop_bound_examples_per_s"] = round(self.bench.peak / mean, 1)

    def anchor(self, run: Callable[[], list[list[float]]]) -> None:
        try:
            seconds, _, out = timed(run, self.bench.device, self.bench.repeats)
            self.section["plain_hf"] = self._row(seconds, None, out)
        except Exception as error:  # e.g. multi-token answers: the variants are still worth measuring
            self.section["plain_hf"] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        self.bench.report.write()

    def variant(self, name: str, options: dict[str, Any], backend: Any = None) -> None:
        """Time one variant's scorer on the encoded items (``backend`` reuses a built one)."""
        made = backend is None
        backend = backend if backend is not None else self.backend(**options)
        scorer = backend.scorer
        seconds, first, out = timed(lambda: scorer.score(self.encoded), self.bench.device, self.bench.repeats)
        row = self._row(seconds, first, out)
        call = getattr(scorer, "last_call", None) or {}
        if call:
            row["row_fill"] = round(call["real_tokens"] / call["row_tokens"], 3)
            row["batches"] = call["batches"]
            row["shapes"] = len(call["shapes"])
        self.section["variants"][name] = row
        self.outputs[name] = out
        self.options[name] = options
        self.bench.report.write()
        if made:
            del backend, scorer
            free(self.bench.device)

    def _row(self, seconds: float, first: float | None, out: list[list[float]]) -> dict[str, Any]:
        rate = len(self.encoded) / seconds
        row: dict[str, Any] = {"examples_per_s": round(rate, 1), "seconds": round(seconds, 4)}
        if first is not None:
            row["first_call_s"] = round(first, 3)
        if self.naive:
            row["agreement"] = agreement(out, self.naive)
            row["max_abs_diff_vs_naive_fp32"] = round(max_difference(out, self.naive), 4)
        anchor = self.section.get("plain_hf", {}).get("examples_per_s")
        if anchor and first is not None:
            row["vs_plain_hf"] = round(rate / anchor, 3)
        bound = self.section.get("flop_bound_examples_per_s")
        if bound:
            row["bound_fraction"] = round(rate / bound, 4)
        return row

    def best(self, eligible: Sequence[str]) -> str | None:
        rows = self.section["variants"]
        names = [n for n in eligible if n in rows]
        if not names:
            return None
        best = max(names, key=lambda n: rows[n]["examples_per_s"])
        self.section["best"] = best
        return best

    def predict_end_to_end(self, name: str) -> None:
        """The best variant's ``predict`` on the texts: tokenization included."""
        backend = self.backend(**self.options[name])
        seconds, _, _ = timed(lambda: backend.predict(self.bench.items), self.bench.device, self.bench.repeats)
        self.section["predict_examples_per_s"] = round(len(self.bench.items) / seconds, 1)
        self.bench.report.write()
        del backend
        free(self.bench.device)


def run_variants(family: Family, variants: dict[str, dict[str, Any]], first_backend: Any = None) -> None:
    """Each variant that this device supports, while the time budget lasts."""
    for name, options in variants.items():
        if options.get("cuda_graphs") and family.bench.device != "cuda":
            continue
        if not family.bench.time_left(f"{family.name}/{name}"):
            return
        try:
            reuse = first_backend if name == "packed" else None
            family.variant(name, options, reuse)
        except Exception as error:  # one broken variant must not lose the others' figures
            family.section["variants"][name] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
            family.bench.report.write()
            free(family.bench.device)
