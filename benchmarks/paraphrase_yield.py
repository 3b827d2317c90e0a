"""Yield of ptm_paraphrase: how many sampled paraphrases survive the filter, per prompt format.

Runs the real operator on the handcrafted prompts of the packaged tasks and prints,
for each configuration, the verdicts on every sample (kept, or dropped by reason),
the yield per sample, the share of parents that got a valid child, and the time,
all measured in this one run. Example (docs/mutators.md has the figures):

    .venv/bin/python benchmarks/paraphrase_yield.py
"""

from __future__ import annotations

import argparse
import random
import time


def packaged_prompts(language: str, tasks: list[str]) -> list[str]:
    from zp_evolve.plugins import load_plugins

    provider = load_plugins().build("tasks", {"name": "packaged"})
    chosen = [t for t in provider.tasks() if t.language == language and (not tasks or t.name in tasks)]
    return list(dict.fromkeys(p for task in chosen for p in task.prompts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--language", default="en", choices=["en", "zh"])
    parser.add_argument("--tasks", nargs="*", default=["rotten_tomatoes", "bbc_news", "sms_spam", "trec_coarse", "logiqa", "product_matching"],
                        help="packaged tasks whose prompts to use (none given: all of the language)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N distinct prompts (0: all)")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--configs", nargs="+", default=["prompt:0:plain", "prompt:3:chat", "prompt:3:plain",
                                                          "sentence:3:chat", "sentence:3:plain", "auto:3:plain"],
                        help="UNIT:FEW_SHOT:FORMAT triples; FORMAT is chat (the model's chat template) or plain")
    parser.add_argument("--show", type=int, default=6, help="children to print per configuration")
    args = parser.parse_args()

    import torch

    from zp_evolve.prompts import normalize
    from zp_mutators.paraphrase import PTMParaphrase

    torch.set_num_threads(args.threads)
    parents = packaged_prompts(args.language, args.tasks)
    parents = parents[: args.limit] if args.limit else parents
    print(f"{len(parents)} {args.language} packaged prompts, model {args.model}, {args.candidates} samples per parent and round")
    for config in args.configs:
        unit, shots, page = config.split(":")
        op = PTMParaphrase(model=args.model, unit=unit, few_shot=int(shots), candidates=args.candidates,  # type: ignore[arg-type]
                           chat=page == "chat")
        op.mutate(parents[:1], rng=random.Random(0))  # load the model outside the timing
        op.filter.counts.clear()
        start = time.perf_counter()
        children = op.mutate(parents, rng=random.Random(args.seed))
        seconds = time.perf_counter() - start
        served = sum(bool(kids) for kids in children)
        stats = op.stats
        print(f"\n== unit={unit} few_shot={shots} format={page}: {seconds:.1f} s, samples {stats['generated']}, "
              f"yield per sample {stats['yield']:.2f}, parents with a valid child {served}/{len(parents)}")
        print("   verdicts:", {k: v for k, v in stats.items() if k not in ("generated", "yield")})
        shown = 0
        for parent, kids in zip(parents, children):
            for kid in kids:
                if shown < args.show and normalize(kid) != normalize(parent):
                    print(f"   {parent}\n     -> {kid}")
                    shown += 1


if __name__ == "__main__":
    main()
