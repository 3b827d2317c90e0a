"""Rank classification throughput: the openai_compatible backend (a llama.cpp server) vs hf_causal, in one run.

Both score the same examples (Rotten Tomatoes and SMS spam test rows, each task's first
handcrafted prompt) with SmolLM2-135M-Instruct: the server runs the packaged Q4_1 GGUF,
hf_causal the dequantised fp32 weights. Prints examples/s for both and their argmax
agreement. Starts its own server on loopback unless --base-url names one.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/openai_backend.py --per-task 100
"""

from __future__ import annotations

import argparse
import os
import platform


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-task", type=int, default=100, help="examples per task (two tasks)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the server and of hf_causal")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--base-url", default=None, help="an already running server (default: start one)")
    parser.add_argument("--chunk", type=int, default=20, help="examples per turn; the backends take turns")
    args = parser.parse_args()

    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_openai.agreement import Timed, argmax_agreement, comparison_items, timed_predict
    from zp_openai.backend import OpenAICompatibleBackend
    from zp_openai.serve import LlamaServer

    plugins = load_plugins()
    items = comparison_items(TaskCatalog(plugins, [{"name": "packaged"}]), ["rotten_tomatoes", "sms_spam"], args.per_task)
    local = plugins.build("backends", {"backend": "hf_causal", "name": "smollm2-135m-instruct", "threads": args.threads})
    server = None if args.base_url else LlamaServer(threads=args.threads).start()
    try:
        served = OpenAICompatibleBackend(args.base_url or server.base_url, concurrency=args.concurrency)
        timed_predict(served, items[:4])  # warm both up outside the timing
        timed_predict(local, items[:4])
        served.usage.__init__()  # count the timed requests only
        # interleaved chunks, so a busy machine's load falls on both alike
        remote, hf = Timed([], 0.0), Timed([], 0.0)
        for begin in range(0, len(items), args.chunk):
            chunk = items[begin : begin + args.chunk]
            for backend, total in ((served, remote), (local, hf)):
                part = timed_predict(backend, chunk)
                total.predictions.extend(part.predictions)
                object.__setattr__(total, "seconds", total.seconds + part.seconds)
    finally:
        if server is not None:
            server.stop()
    n = len(items)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load}; {n} examples, 2 labels each")
    print(f"openai_compatible (llama.cpp, Q4_1 GGUF, {args.threads} threads, {args.concurrency} in flight): "
          f"{remote.per_second(n):.1f} examples/s ({served.usage.requests} requests, {served.usage.prompt_tokens} prompt tokens)")
    print(f"hf_causal (fp32, scoring fast, {args.threads} threads): {hf.per_second(n):.1f} examples/s")
    print(f"argmax agreement: {argmax_agreement(remote.predictions, hf.predictions)}/{n}")


if __name__ == "__main__":
    main()
