"""Fitness-evaluation throughput: the naive loop against the fast scorers, in one run.

For SmolLM2-135M-Instruct (and a T5-small-shaped model built locally with random
weights, since no pretrained T5 installs offline) it scores a real task's dev set
under its handcrafted prompts with each variant and prints examples/s, the speed-up
over naive, the executed FLOP/s against the fp32 matmul peak measured in the same
run, and the argmax agreement with naive. The last line is one JSON object.

Run: ``python benchmarks/fitness_throughput.py`` or ``zp-evolve bench``.
Imports torch only when run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="rotten_tomatoes", help="packaged task to score (default: rotten_tomatoes)")
    parser.add_argument("--examples", type=int, default=32, help="dev examples (default: 32)")
    parser.add_argument("--prompts", type=int, default=None,
                        help="handcrafted prompts scored per example (default: 1; 2 with --random-init)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per variant; the best is kept")
    parser.add_argument("--clock", default="wall", choices=sorted(CLOCKS),
                        help="wall: elapsed time (needs a quiet machine); cpu: this process's CPU time, "
                             "robust to other load on a shared machine (use with --threads 1)")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per batch of the fast path (default: 16; "
                        "256 on a GPU with --random-init)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--skip-t5", action="store_true", help="only SmolLM2")
    parser.add_argument("--gps-memory", action="store_true", help="also run a short GPS and report its peak RSS")
    add_random_init_arguments(parser)


def add_random_init_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("random init (GPU benchmark: real shapes, random weights, no download)")
    group.add_argument("--random-init", action="store_true",
                       help="packed scoring vs plain transformers and the FLOP bound, random weights of real shapes")
    group.add_argument("--pack", metavar="DIR", help="bench pack to read (default: built from the cache on the fly)")
    group.add_argument("--make-pack", metavar="DIR", help="write a bench pack from the cache into DIR and stop")
    group.add_argument("--model", default="smollm2-135m-instruct", help="model whose shape and tokenizer go in the pack")
    group.add_argument("--items", type=int, help="(prompt, example) pairs (default: 4096 on cuda, 48 on cpu)")
    group.add_argument("--agree", type=int, help="items checked against the naive fp32 loop (default: 256 / 16)")
    group.add_argument("--max-batch-tokens", type=int, help="token budget per batch (default: 65536 / 4096)")
    group.add_argument("--t5", default="base", choices=["base", "small", "tiny"], help="T5 shape (default: base)")
    group.add_argument("--shared-processes", type=int, help="workers sharing the device (default: 4 on cuda, none on cpu)")
    group.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                       help="also measure compile: true (default: on cuda only)")
    group.add_argument("--stages", default="causal,seq2seq,shared,compile", help="stages to run, in order")
    group.add_argument("--out", metavar="FILE", help="JSON report, rewritten after every measurement")
    group.add_argument("--time-budget", type=float, default=540.0,
                       help="seconds after which no new measurement starts (default: 540)")


def run_from_args(args: argparse.Namespace) -> int:
    if args.make_pack:
        from zp_hf.benchmarking.pack import load_pack, make_pack

        pack = load_pack(make_pack(args.make_pack, model=args.model, task=args.task))
        print(f"bench pack: {pack.folder} ({pack.model_name} config and tokenizer, {len(pack.examples)} "
              f"{pack.task.name} examples)")  # fmt: skip
        return 0
    if args.random_init:
        from zp_hf.benchmarking.random_init import run_random_init

        cuda = args.device == "cuda"
        if args.shared_processes is None:
            args.shared_processes = 4 if cuda else 0
        if args.compile is None:
            args.compile = cuda
        return run_random_init(args)
    import torch

    torch.set_num_threads(args.threads)
    report: dict[str, Any] = {"machine": machine(args.device), "threads": args.threads, "task": args.task, "clock": args.clock}
    peak = matmul_peak(args.device, CLOCKS[args.clock])
    report["matmul_peak_gflops"] = {k: round(v / 1e9, 1) for k, v in peak.items()}
    print(f"machine: {report['machine']}; torch threads {args.threads}; {args.clock} clock")
    print(f"measured matmul peak: fp32 {peak['fp32'] / 1e9:.1f} GFLOP/s, bf16 {peak['bf16'] / 1e9:.1f} GFLOP/s")
    items = task_items(args.task, args.examples, args.prompts or 1)
    print(f"task {args.task}: {len(items)} (prompt, example) pairs\n")
    smol = compare("smollm2-135m-instruct", "hf_causal", items, peak, args, fast_modes=("bf16", "int8"))
    report["smollm2"] = smol
    if not args.skip_t5:
        with tempfile.TemporaryDirectory() as folder:
            from zp_hf.tiny import build_tiny_t5

            t5 = build_tiny_t5(Path(folder) / "t5", vocab_size=8000, d_model=512, layers=6, num_heads=8, d_kv=64, d_ff=2048)
            report["t5_small_shaped"] = compare(t5, "hf_seq2seq", items, peak, args, fast_modes=("bf16",))
    if args.gps_memory:
        report["gps_peak_rss_mb"] = gps_peak_rss(args.task, args.threads)
        print(f"\nGPS run with SmolLM2 (serial executor, one model): peak RSS {report['gps_peak_rss_mb']:.0f} MB")
    fast = smol["variants"][smol["fast_mode"]]
    report.update(
        speedup_fp32=smol["variants"]["fp32"]["speedup"],
        speedup_fast=fast["speedup"],
        fast_mode=smol["fast_mode"],
        peak_fraction_fp32=smol["variants"]["fp32"]["peak_fraction"],
        agreement_fp32=smol["variants"]["fp32"]["agreement"],
        agreement_fast=fast["agreement"],
    )
    print(json.dumps(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def machine(device: str) -> str:
    import os

    import torch

    if device == "cuda":
        return torch.cuda.get_device_name(0)
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} CPUs, torch {torch.__version__}"


def matmul_peak(device: str, clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Best FLOP/s of square matmuls, fp32 and bf16, with the current thread count."""
    import torch

    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        best = 0.0
        for n in (512, 1024, 2048):
            a = torch.randn(n, n, dtype=dtype, device=device)
            b = torch.randn(n, n, dtype=dtype, device=device)
            a @ b
            reps = max(2, int(2e10 / (2 * n**3)) if device == "cpu" else 50)
            for _ in range(3):
                _sync(device)
                start = clock()
                for _ in range(reps):
                    a @ b
                _sync(device)
                best = max(best, 2 * n**3 * reps / (clock() - start))
        out[name] = best
    return out


#: ``--clock``: wall (elapsed) time, or this process's CPU time (robust to other load).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def task_items(name: str, examples: int, prompts: int) -> list[Any]:
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sampling import DevRule
    from zp_hf.formatting import PredictItem

    catalog = TaskCatalog(load_plugins(), [{"name": "packaged"}])
    eval_task = catalog.eval_task(name, 0, DevRule(examples, max(1, examples // 4), 5), 0)
    task = eval_task.task
    return [PredictItem(task, prompt, example) for prompt in task.prompts[:prompts] for example in eval_task.dev]


def timed(backend: Any, items: Sequence[Any], device: str, clock: Callable[[], float]) -> tuple[float, list[Any]]:
    """The time of one run (after a short warm-up) and its predictions."""
    backend.predict(items[:2])  # warm-up (allocator, oneDNN kernels)
    _sync(device)
    start = clock()
    out = backend.predict(items)
    _sync(device)
    return clock() - start, out


def flops(backend: Any, items: Sequence[Any]) -> float:
    """FLOPs the scorer executes for ``items`` (padding included), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        backend.predict(items)
    return float(counter.get_total_flops())


def _argmax(prediction: dict[str, float]) -> str:
    return max(prediction, key=prediction.get)


def compare(name: str, backend_name: str, items: Sequence[Any], peak: dict[str, float], args: argparse.Namespace,
            fast_modes: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    label = "SmolLM2-135M" if backend_name == "hf_causal" else "T5-small-shaped (random init)"
    base = {"backend": backend_name, "name": name, "device": args.device, "batch_size": args.batch_size or 16}
    variants = {
        "naive": {**base, "scoring": "naive"},
        "fp32": base,
        "bf16": {**base, "dtype": "bf16"},
        "int8": {**base, "quantize": "int8"},
    }
    order = ("naive", "fp32", *fast_modes)
    backends = {variant: plugins.build("backends", variants[variant], path="model") for variant in order}
    # Rounds over all variants, best time per variant: on a shared machine each variant
    # gets several chances at a quiet moment, and none is favoured by running last.
    best = {variant: float("inf") for variant in order}
    outputs: dict[str, list[Any]] = {}
    for _ in range(args.repeats):
        for variant in order:
            seconds, outputs[variant] = timed(backends[variant], items, args.device, CLOCKS[args.clock])
            best[variant] = min(best[variant], seconds)
    naive_time, naive_out = best["naive"], outputs["naive"]
    results: dict[str, Any] = {}
    print(f"{label}")
    print(f"  {'variant':<8} {'examples/s':>10} {'speed-up':>9} {'GFLOP/s':>8} {'of peak':>8} {'agreement':>10}")
    for variant in order:
        seconds, out = best[variant], outputs[variant]
        # FLOPs the variant executes (padding included), counted by torch; int8 kernels
        # are not counted (quantized ops), so int8 gets no FLOP figures.
        executed = flops(backends[variant], items) if variant != "int8" else float("nan")
        dtype_peak = peak["bf16"] if variant == "bf16" else peak["fp32"]
        agree = sum(_argmax(a) == _argmax(b) for a, b in zip(out, naive_out)) / len(items)
        row = {
            "examples_per_s": round(len(items) / seconds, 2),
            "seconds": round(seconds, 3),
            "speedup": round(naive_time / seconds, 2),
            "gflops": None if variant == "int8" else round(executed / seconds / 1e9, 1),
            "peak_fraction": None if variant == "int8" else round(executed / seconds / dtype_peak, 3),
            "executed_gflop": None if variant == "int8" else round(executed / 1e9, 1),
            "agreement": round(agree, 4),
        }
        if variant == "fp32":
            row["max_abs_diff"] = max(abs(a[k] - b[k]) for a, b in zip(out, naive_out) for k in a)
        results[variant] = row
        peak_name = "bf16" if variant == "bf16" else "fp32"
        flop_columns = (
            f"{row['gflops']:>8.1f} {row['peak_fraction']:>7.0%}{'' if peak_name == 'fp32' else '*'}"
            if row["gflops"] is not None else f"{'-':>8} {'-':>8}"
        )  # fmt: skip
        print(f"  {variant:<8} {row['examples_per_s']:>10.2f} {row['speedup']:>8.2f}x {flop_columns} {row['agreement']:>10.2%}")
    del backends
    print("  (GFLOP/s: FLOPs executed, counted by torch; * of the bf16 peak; "
          "agreement: same argmax as naive)\n")  # fmt: skip
    return {"variants": results, "fast_mode": "bf16"}


def gps_peak_rss(task: str, threads: int) -> float:
    """Peak RSS (MB) of a short ``zp-evolve run`` with SmolLM2 in a child process."""
    import yaml

    with tempfile.TemporaryDirectory() as folder:
        config = {
            "name": "bench_memory",
            "seed": 0,
            "output_dir": folder,
            "tasks": {"providers": [{"name": "packaged"}], "names": [task], "test": {"max_examples": 32}},
            "model": {"backend": "hf_causal", "name": "smollm2-135m-instruct", "threads": threads},
            "search": {"generations": 1, "top_k": 2, "children_per_parent": 2},
            "mutators": [{"name": "edit"}],
        }
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        subprocess.run([sys.executable, "-m", "zp_evolve.cli.main", "run", str(path), "--no-progress"], check=True,
                       capture_output=True, text=True)  # fmt: skip
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
