"""``zp-evolve bench --random-init``: the packed (GPU) scoring path against plain
transformers, at real shapes, with no download.

Random weights of the packaged model's exact shape (from its config), its real
tokenizer, and real task texts, from a bench pack (:mod:`zp_hf.benchmarking.pack`). In one
run: the naive reference (fp32), the plain-transformers anchor and the FLOP bound,
the packed variants (eager, CUDA graphs; packed or padded rows), the CPU-tuned
``fast`` path for reference, T5 at T5-base shape, several workers sharing the device,
and ``compile: true`` (last: in a child process with a deadline, so a slow compiler
cannot cost the other figures). The JSON report is rewritten after every measurement
(``--out``), so a run cut short still reports what it measured; the last line
printed is the summary as one JSON object.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from zp_hf.benchmarking.stages import COMPILE_VARIANTS, PACKED_VARIANTS, Family, free, run_variants

#: Headline figures and the targets of issue 13.
TARGETS = {
    "gpu_vs_plain_hf": (">=", 2.5),
    "gpu_bound_fraction": (">=", 0.30),
    "agreement": (">=", 0.99),
    "compile_warmup_s": ("<=", 60.0),
    "seq2seq_vs_plain_hf": (">=", 2.0),
    "shared_gpu_efficiency": (">=", 0.70),
}


class Report:
    """The JSON report, rewritten (atomically) after every change."""

    def __init__(self, path: str | None, data: dict[str, Any]) -> None:
        self.path = Path(path) if path else None
        self.data = data
        self.write()

    def write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(self.path.suffix + ".partial")
        partial.write_text(json.dumps({**self.data, "summary": summary(self.data)}, indent=1))
        os.replace(partial, self.path)


class Bench:
    """What the stages share: settings, the pack's items, the report and the clock."""

    def __init__(self, args: Any, pack: Any, work: Path, report: Report, peak: float) -> None:
        cuda = args.device == "cuda"
        self.args = args
        self.device = args.device
        self.pack = pack
        self.work = work
        self.report = report
        self.peak = peak
        self.repeats = args.repeats
        self.agree = args.agree or (256 if cuda else 16)
        self.tokens = args.max_batch_tokens or (65536 if cuda else 4096)
        self.items = pack.items(args.items or (4096 if cuda else 48), prompts=args.prompts or 2)
        self.deadline = time.monotonic() + args.time_budget
        self.causal: Family | None = None

    def time_left(self, what: str, need: float = 5.0) -> bool:
        """Whether ``what`` may start; if not, the report says it was skipped."""
        if time.monotonic() + need <= self.deadline:
            return True
        self.report.data.setdefault("skipped", {})[what] = "time budget (--time-budget) spent"
        self.report.write()
        return False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def causal_stage(bench: Bench) -> None:
    from zp_hf.anchors import causal_anchor, causal_item_flops
    from zp_hf.backends import HFCausalBackend
    from zp_hf.benchmarking.pack import random_causal_model

    model_dir = random_causal_model(bench.pack, bench.work / "causal")
    family = bench.causal = Family(bench, "causal", model_dir, HFCausalBackend)
    family.section["model"] = f"{bench.pack.model_name} shape, random init"
    bench.report.data["causal"] = family.section
    first = family.encode()
    family.section["parameters"] = sum(p.numel() for p in first.model.parameters())
    family.bound(causal_item_flops(first.model, [len(i.context) for i in family.encoded]))
    family.reference()
    family.anchor(lambda: causal_anchor(first.model, family.encoded, pad_id=first.scorer.pad_id))
    run_variants(family, PACKED_VARIANTS, first_backend=first)
    del first
    free(bench.device)
    fast = {"scoring": "fast", "batch_size": bench.args.batch_size or (256 if bench.device == "cuda" else 16)}
    run_variants(family, {"fast (CPU path)": fast})
    best = family.best(list(PACKED_VARIANTS))
    if best and bench.time_left("causal/predict"):
        family.predict_end_to_end(best)


def seq2seq_stage(bench: Bench) -> None:
    from zp_hf.anchors import seq2seq_anchor, seq2seq_item_flops
    from zp_hf.backends import HFSeq2SeqBackend
    from zp_hf.benchmarking.pack import random_t5_model

    model_dir = random_t5_model(bench.pack, bench.work / "t5", shape=bench.args.t5)
    family = Family(bench, "seq2seq", model_dir, HFSeq2SeqBackend)
    family.section["model"] = f"T5-{bench.args.t5} shape, random init, tokenizer trained on the pack"
    bench.report.data["seq2seq"] = family.section
    first = family.encode()
    prefix = first.scorer.prefix
    family.section["parameters"] = sum(p.numel() for p in first.model.parameters())
    family.bound(seq2seq_item_flops(first.model, family.encoded, len(prefix)))
    family.reference()
    family.anchor(lambda: seq2seq_anchor(first.model, family.encoded, pad_id=first.scorer.pad_id, prefix=prefix))
    run_variants(family, PACKED_VARIANTS, first_backend=first)
    del first
    free(bench.device)
    fast = {"scoring": "fast", "batch_size": bench.args.batch_size or (256 if bench.device == "cuda" else 16)}
    run_variants(family, {"fast (CPU path)": fast})
    family.best(list(PACKED_VARIANTS))


def shared_stage(bench: Bench) -> None:
    """The best causal variant, its items split over ``--shared-processes`` workers at once."""
    import importlib.util

    from zp_hf.benchmarking.stages import agreement, max_difference
    from zp_hf.shared_device import score_in_processes, score_on_ray_actors

    family = bench.causal
    best = family.section.get("best") if family else None
    if family is None or best is None:
        raise RuntimeError("the causal stage found no best variant to share the device with")
    workers = bench.args.shared_processes
    options = {**family.options[best], "device": bench.device, "dtype": "bf16", "max_batch_tokens": bench.tokens}
    single = family.section["variants"][best]["examples_per_s"]
    section: dict[str, Any] = {"variant": best, "workers": workers, "single_process_examples_per_s": single}
    bench.report.data["shared"] = section
    threads = max(1, (os.cpu_count() or 1) // workers)
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "processes": lambda: score_in_processes(family.model_dir, options, family.encoded, workers=workers,
                                                rounds=bench.repeats, threads=threads,
                                                timeout_s=max(30.0, bench.remaining() - 5)),
    }  # fmt: skip
    if importlib.util.find_spec("ray") is not None:
        runs["ray"] = lambda: score_on_ray_actors(family.model_dir, options, family.encoded, workers=workers,
                                                  gpus_per_worker=1.0 / workers, rounds=bench.repeats)  # fmt: skip
    else:
        section["ray"] = {"error": "ray is not installed here; the processes measure the same placement"}
    for name, run in runs.items():
        if not bench.time_left(f"shared/{name}", need=30):
            continue
        result = run()
        scores = result.pop("scores")
        result["efficiency"] = round(result["examples_per_s"] / single, 3)
        result["agreement_with_single_process"] = agreement(scores, family.outputs[best])
        result["max_abs_diff_vs_single_process"] = round(max_difference(scores, family.outputs[best]), 5)
        section[name] = result
        bench.report.write()


def compile_stage(bench: Bench) -> None:
    """``compile: true``: warm-up, speed, agreement and recompilations on later calls, in
    a child process (killed at the deadline) on a GPU, in this one on the CPU."""
    family = bench.causal
    if family is None:
        raise RuntimeError("the compile stage needs the causal stage's model")
    payload = {
        "model_dir": family.model_dir, "pack": str(bench.pack.folder), "items": len(bench.items),
        "prompts": bench.args.prompts or 2, "device": bench.device, "tokens": bench.tokens, "repeats": bench.repeats,
        "naive": family.naive, "threads": bench.args.threads,
        "variants": {n: v for n, v in COMPILE_VARIANTS.items() if bench.device == "cuda" or not v.get("cuda_graphs")},
    }  # fmt: skip
    result_path = bench.work / "compile.json"
    section: dict[str, Any] = {}
    bench.report.data["compile"] = section
    if bench.device == "cuda":
        context = multiprocessing.get_context("spawn")
        child = context.Process(target=compile_child, args=(payload, str(result_path)), daemon=True)
        child.start()
        limit = max(10.0, bench.remaining() - 5)
        deadline = time.monotonic() + limit
        while child.is_alive() and time.monotonic() < deadline:
            child.join(timeout=2)
            if result_path.exists():
                section.update(json.loads(result_path.read_text()))
                bench.report.write()
        if child.is_alive():
            child.kill()
            section["error"] = f"no complete result within {limit:.0f} s; the child was stopped"
    else:
        compile_child(payload, str(result_path))
    if result_path.exists():
        section.update(json.loads(result_path.read_text()))
    eager = family.section["variants"]
    for name, row in section.get("variants", {}).items():
        base = eager.get("packed+graphs" if "graphs" in name else "packed", {}).get("examples_per_s")
        if base and "examples_per_s" in row:
            row["gain_over_eager"] = round(row["examples_per_s"] / base, 3)
    bench.report.write()


def compile_child(payload: dict[str, Any], result_path: str) -> None:
    """Measure the compile variants; write the result file after each step."""
    import torch

    from zp_hf.backends import HFCausalBackend
    from zp_hf.benchmarking.pack import load_pack
    from zp_hf.benchmarking.stages import agreement, timed

    torch.set_num_threads(payload["threads"])
    items = load_pack(payload["pack"]).items(payload["items"], prompts=payload["prompts"])
    result: dict[str, Any] = {"variants": {}}

    def save() -> None:
        Path(result_path).write_text(json.dumps(result))

    for name, options in payload["variants"].items():
        row: dict[str, Any] = {}
        result["variants"][name] = row
        try:
            backend = HFCausalBackend(payload["model_dir"], device=payload["device"], dtype="bf16",
                                      max_batch_tokens=payload["tokens"], **options)  # fmt: skip
            encoded = backend.encode(backend.queries(items))
            scorer = backend.scorer
            seconds, first, out = timed(lambda: scorer.score(encoded), payload["device"], payload["repeats"])
            graphs = scorer.runner.compiled_graphs
            row.update(warmup_s=round(first, 2), examples_per_s=round(len(encoded) / seconds, 1),
                       seconds=round(seconds, 4), agreement=agreement(out, payload["naive"]), graphs_compiled=graphs)  # fmt: skip
            save()
            # Later GPS generations: other item counts, other mixes; nothing may compile again.
            n = len(encoded)
            for part in (encoded[: max(2, n // 4)], encoded[n // 4 : n // 4 + max(2, n // 2)], encoded[::3]):
                scorer.score(part)
            row["recompilations_after_warmup"] = scorer.runner.compiled_graphs - graphs
            save()
        except Exception as error:
            row["error"] = f"{type(error).__name__}: {str(error)[:300]}"
            save()
    rows = [r for r in result["variants"].values() if "warmup_s" in r]
    if rows:
        result["compile_warmup_s"] = min(r["warmup_s"] for r in rows)
        result["recompilations_after_warmup"] = max(r.get("recompilations_after_warmup", 0) for r in rows)
    save()


STAGES: dict[str, Callable[[Bench], None]] = {
    "causal": causal_stage, "seq2seq": seq2seq_stage, "shared": shared_stage, "compile": compile_stage,
}  # fmt: skip


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """The headline figures (None where not measured) and whether each meets its target."""
    causal, seq2seq = data.get("causal", {}), data.get("seq2seq", {})
    shared, compiled = data.get("shared", {}), data.get("compile", {})
    best = causal.get("variants", {}).get(causal.get("best"), {})
    best_t5 = seq2seq.get("variants", {}).get(seq2seq.get("best"), {})
    compiled_rows = [r for r in compiled.get("variants", {}).values() if "gain_over_eager" in r]
    out: dict[str, Any] = {
        "device": data.get("device"),
        "gpu_variant": causal.get("best"),
        "gpu_examples_per_s": best.get("examples_per_s"),
        "plain_hf_examples_per_s": causal.get("plain_hf", {}).get("examples_per_s"),
        "gpu_vs_plain_hf": best.get("vs_plain_hf"),
        "gpu_bound_fraction": best.get("bound_fraction"),
        "agreement": best.get("agreement"),
        "plain_hf_agreement": causal.get("plain_hf", {}).get("agreement"),
        "predict_examples_per_s": causal.get("predict_examples_per_s"),
        "compile_warmup_s": compiled.get("compile_warmup_s"),
        "compile_gain": max((r["gain_over_eager"] for r in compiled_rows), default=None),
        "recompilations_after_warmup": compiled.get("recompilations_after_warmup"),
        "seq2seq_variant": seq2seq.get("best"),
        "seq2seq_examples_per_s": best_t5.get("examples_per_s"),
        "seq2seq_plain_hf_examples_per_s": seq2seq.get("plain_hf", {}).get("examples_per_s"),
        "seq2seq_vs_plain_hf": best_t5.get("vs_plain_hf"),
        "seq2seq_agreement": best_t5.get("agreement"),
        "shared_gpu_efficiency": shared.get("processes", {}).get("efficiency"),
        "ray_shared_gpu_efficiency": shared.get("ray", {}).get("efficiency"),
    }
    out["targets"] = {
        f"{key} {op} {limit:g}": None if out[key] is None else (out[key] >= limit if op == ">=" else out[key] <= limit)
        for key, (op, limit) in TARGETS.items()
    }
    return out


def run_random_init(args: Any) -> int:
    import torch

    from zp_evolve.errors import ModelError
    from zp_hf.anchors import matmul_peak
    from zp_hf.benchmarking.pack import load_pack, make_pack

    if args.device == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda, but torch sees no CUDA GPU here; use --device cpu")
    torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    with tempfile.TemporaryDirectory(prefix="zp_bench_") as folder:
        work = Path(folder)
        pack = load_pack(args.pack) if args.pack else load_pack(make_pack(work / "pack", model=args.model, task=args.task))
        import transformers

        from zp_hf.benchmarking.command import machine

        report = Report(args.out, {
            "machine": machine(args.device),
            "device": args.device, "torch": torch.__version__, "transformers": transformers.__version__,
            "python": platform.python_version(), "command": " ".join(sys.argv), "threads": args.threads,
            "pack": {"model": pack.model_name, "task": pack.task.name, "examples": len(pack.examples)},
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "errors": {},
        })  # fmt: skip
        peak = matmul_peak(args.device, sizes=(4096, 8192) if cuda else (512, 1024), reps=20 if cuda else 2)
        report.data["matmul_peak_bf16_tflops"] = round(peak / 1e12, 2)
        bench = Bench(args, pack, work, report, peak)
        report.data.update(items=len(bench.items), agree_items=bench.agree, max_batch_tokens=bench.tokens)
        stages = [s for s in args.stages.split(",") if s]
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise ModelError(f"unknown --stages {', '.join(unknown)}; choose from {', '.join(STAGES)}")
        for name in stages:
            if name == "shared" and not args.shared_processes or name == "compile" and not args.compile:
                report.data.setdefault("skipped", {})[name] = "not asked for (--shared-processes / --compile)"
                continue
            if not bench.time_left(name, need=20):
                continue
            print(f"[{time.strftime('%H:%M:%S')}] stage {name}", file=sys.stderr, flush=True)
            try:
                STAGES[name](bench)
            except Exception as error:  # keep every other stage's figures
                report.data["errors"][name] = "".join(traceback.format_exception_only(type(error), error)).strip()[:500]
                free(args.device)
            report.write()
        report.data["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        report.write()
        print_table(report.data)
        print(json.dumps(summary(report.data)))
    return 0


def print_table(data: dict[str, Any]) -> None:
    for family in ("causal", "seq2seq"):
        section = data.get(family)
        if not section:
            continue
        print(f"\n{section.get('model')}: {section.get('items')} items, {section.get('mean_context_tokens')} tokens "
              f"per context, bound {section.get('flop_bound_examples_per_s')} ex/s")  # fmt: skip
        rows = {"plain transformers": section.get("plain_hf", {}), **section.get("variants", {})}
        for name, row in rows.items():
            if "error" in row:
                print(f"  {name:<22} error: {row['error'][:90]}")
                continue
            print(f"  {name:<22} {row.get('examples_per_s', 0):>10.1f} ex/s  x{row.get('vs_plain_hf', 1.0):<6} "
                  f"bound {row.get('bound_fraction', 0):.1%}  agreement {row.get('agreement')}")  # fmt: skip
