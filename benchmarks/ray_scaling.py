"""Fitness-evaluation throughput against the number of Ray actors, on this machine.

Scores a fixed batch of real (prompt, task) requests with a real model (SmolLM2-135M
by default, or any ``--model`` the hf_causal backend loads, e.g. ``tiny``) and the
``dev_metric`` fitness: first in this process (the serial executor, 1 thread, and all
cores), then on a local Ray with 1, 2, ... actors of one thread each, up to the cores.
Actor start-up (model load) is timed apart from scoring. Every Ray run must give the
serial fitness values. The last line printed is one JSON object; each row's
``vs_1_actor`` is its throughput over the 1-actor Ray row of the same run.

    .venv/bin/python benchmarks/ray_scaling.py                       # SmolLM2, 2 tasks
    .venv/bin/python benchmarks/ray_scaling.py --model tiny --prompts 16
    # on a cluster (here the namespace cluster of .ci/ray_multinode.sh, 2 workers x 2 CPUs):
    .ci/ray_multinode.sh exec -- .venv/bin/python benchmarks/ray_scaling.py \
        --address 10.225.0.1:6379 --actors 1 2 4 --spread --no-threaded-serial
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Quiet model loading: progress bars would bury the table (the actors inherit these).
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TQDM_DISABLE", "1")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="hf_causal model name, or 'tiny'")
    parser.add_argument("--tasks", nargs="+", default=["rotten_tomatoes", "trec_coarse"], help="packaged tasks")
    parser.add_argument("--prompts", type=int, default=6, help="prompts per task")
    parser.add_argument("--dev", type=int, default=16, help="dev examples per task (size and per-label cap)")
    parser.add_argument("--max-actors", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--actors", type=int, nargs="+", help="pool sizes to time (default: 1 to --max-actors)")
    parser.add_argument("--address", help="join this Ray cluster (HOST:PORT) instead of starting a local Ray")
    parser.add_argument("--spread", action="store_true", help="spread each pool over the cluster's nodes")
    parser.add_argument("--no-threaded-serial", action="store_true", help="skip the serial run with all cores")
    parser.add_argument("--chunks-per-actor", type=int, default=2)
    return parser.parse_args()


def _workload(args: argparse.Namespace):
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.evaluation import EvalRequest
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sampling import DevRule

    plugins = load_plugins()
    catalog = TaskCatalog(plugins, [{"name": "packaged", "include": list(args.tasks)}])
    rule = DevRule(args.dev, max(1, args.dev // 4), 5)
    tasks = {name: catalog.eval_task(name, 0, rule, 0) for name in args.tasks}
    edit = plugins.build("mutators", {"name": "edit"})
    rng = random.Random(0)
    requests = []
    for name, eval_task in tasks.items():
        prompts = list(dict.fromkeys(eval_task.task.prompts))
        while len(prompts) < args.prompts + 1:
            children = edit.mutate(prompts[: args.prompts], rng=rng)
            prompts.extend(c for kids in children for c in kids if c not in prompts)
        # The first prompt of each task warms the workers up; the others are timed.
        requests.append([EvalRequest(name, p) for p in prompts[: args.prompts + 1]])
    warm = [group[0] for group in requests]
    timed = [r for group in requests for r in group[1:]]
    return tasks, warm, timed


def _timed(executor, factory, warm, timed) -> dict:
    started = time.perf_counter()
    executor.start(factory)
    executor.evaluate(warm * max(1, getattr(executor, "num_actors", None) or 1))
    ready = time.perf_counter()
    results = executor.evaluate(timed)
    done = time.perf_counter()
    placement = executor.placement() if hasattr(executor, "placement") else {}
    executor.close()
    nodes: dict[str, int] = {}
    for where in placement.values():
        nodes[where["ip"]] = nodes.get(where["ip"], 0) + 1
    return {"start_s": round(ready - started, 2), "score_s": round(done - ready, 2), "values": [r.fitness for r in results],
            "nodes": nodes}


def main() -> int:
    args = _arguments()
    import torch

    from zp_evolve.executors import SerialExecutor
    from zp_evolve.workers import WorkerFactory
    from zp_ray import session
    from zp_ray.executor import RayExecutor

    torch.set_num_threads(1)
    model = args.model
    if model == "tiny":
        from zp_hf.tiny import tiny_model

        model = tiny_model("causal")
    tasks, warm, timed = _workload(args)
    examples = sum(len(tasks[r.task].dev) for r in timed)
    cores = os.cpu_count() or 1

    def factory(threads: int) -> WorkerFactory:
        spec = {"backend": "hf_causal", "name": model, "threads": threads}
        return WorkerFactory(fitness={"name": "dev_metric"}, tasks=tasks, model=spec)

    rows = []

    def record(label: str, actors: int, threads: int, run: dict, reference: list[float] | None) -> None:
        row = {
            "executor": label, "actors": actors, "threads_each": threads, "start_s": run["start_s"],
            "score_s": run["score_s"], "prompts_per_s": round(len(timed) / run["score_s"], 3),
            "examples_per_s": round(examples / run["score_s"], 1),
            "same_as_serial": reference is None or run["values"] == reference, "actors_per_node": run["nodes"],
        }
        rows.append(row)
        print(f"{label:<7} actors={actors} threads={threads}  start {row['start_s']:6.1f}s  score {row['score_s']:6.1f}s  "
              f"{row['prompts_per_s']:7.3f} prompts/s  {row['examples_per_s']:7.1f} examples/s  same={row['same_as_serial']}",
              flush=True)

    load_before = os.getloadavg()[0]
    print(f"{len(timed)} prompts x {args.dev} dev examples ({examples} forward items), model {args.model}, {cores} cores")
    serial = _timed(SerialExecutor(), factory(1), warm, timed)
    record("serial", 1, 1, serial, None)
    if cores > 1 and not args.no_threaded_serial:
        record("serial", 1, cores, _timed(SerialExecutor(), factory(cores), warm, timed), serial["values"])
    sizes = args.actors or list(range(1, min(args.max_actors, cores) + 1))
    # One Ray connection for every pool size: a local Ray with a CPU per actor, or the cluster.
    session.acquire(args.address, num_cpus=None if args.address else max(cores, *sizes))
    try:
        for actors in sizes:
            executor = RayExecutor(address=args.address, num_actors=actors, threads_per_actor=1,
                                   chunks_per_actor=args.chunks_per_actor, spread=args.spread)
            record("ray", actors, 1, _timed(executor, factory(1), warm, timed), serial["values"])
    finally:
        session.release()
    base = rows[0]["prompts_per_s"]
    one_actor = next((row["prompts_per_s"] for row in rows if row["executor"] == "ray" and row["actors"] == 1), None)
    for row in rows:
        row["speedup_vs_serial_1_thread"] = round(row["prompts_per_s"] / base, 2)
        if one_actor:
            row["vs_1_actor"] = round(row["prompts_per_s"] / one_actor, 2)
    print(json.dumps({
        "benchmark": "ray_scaling", "model": args.model, "tasks": args.tasks, "prompts": len(timed),
        "dev_examples": args.dev, "machine": f"{platform.machine()} {cores} cores, {platform.system()}",
        "python": platform.python_version(), "address": args.address,
        # Other work on the machine slows every row; compare rows of one run only.
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)], "rows": rows,
    }))
    return 0 if all(row["same_as_serial"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
