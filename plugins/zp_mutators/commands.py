"""``zp-evolve mutate``: show the offspring that mutators make of real prompts.

The command runs mutators exactly as the GPS engine does (one batched call per
operator, parents repeated once per child slot, the engine's offspring checks)
and prints each child with the engine's verdict, so a newcomer can see what an
operator does before spending a search on it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import yaml

from zp_evolve.cjk import has_cjk
from zp_evolve.errors import ConfigError


def mutate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mutator", "-m", action="append", required=True, metavar="SPEC",
                        help="a mutator name, or a YAML mapping such as '{name: back_translation, pivots: [spa]}' "
                             "(repeatable)")
    parser.add_argument("--task", help="use this task's handcrafted prompts (and pass the task to the mutators)")
    parser.add_argument("--provider", default="packaged", help="task provider of --task (default: packaged)")
    parser.add_argument("--prompt", "-p", action="append", default=[], help="a prompt template (repeatable)")
    parser.add_argument("--children", type=int, default=1, help="child slots per parent, as search.children_per_parent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-chars", type=int, default=400, help="as search.max_prompt_chars")
    parser.add_argument("--json", action="store_true", help="one JSON object per child")


def _spec(text: str) -> dict[str, Any]:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"--mutator {text!r} is neither a name nor a YAML mapping: {error}") from None
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value
    raise ConfigError(f"--mutator {text!r} must be a name or a mapping with 'name', e.g. '{{name: edit, children: 2}}'")


def mutate_command(args: argparse.Namespace) -> int:
    from zp_evolve.plugins import load_plugins
    from zp_evolve.prompts import check_template, normalize, placeholders, split_choices
    from zp_evolve.tasks import Task
    from zp_gps.breeding import build_operators
    from zp_gps.offspring import admit_child

    plugins = load_plugins()
    if args.task:
        provider = plugins.build("tasks", {"name": args.provider}, path=f"--provider {args.provider}")
        found = {t.name: t for t in provider.tasks()}
        if args.task not in found:
            raise ConfigError(f"provider {args.provider!r} has no task {args.task!r}; 'zp-evolve tasks' lists them")
        task = found[args.task]
        prompts = args.prompt or list(task.prompts)
    else:
        if not args.prompt:
            raise ConfigError("give --task NAME or at least one --prompt TEMPLATE")
        prompts = args.prompt
        template, choices = split_choices(prompts[0])
        fields = tuple(dict.fromkeys(placeholders(template)))
        language = "zh" if has_cjk(template) else "en"
        # the first prompt's answer choices (if any) stand for the labels; the others must fit them
        for prompt in prompts:
            check_template(prompt, fields, where="--prompt", labels=choices)
        task = Task(name="prompts", type="ANY", language=language, input_fields=fields, labels=choices, verbalizers=choices,
                    metric="accuracy", prompts=tuple(prompts))
    for prompt in prompts:
        check_template(prompt, task.input_fields, where="--prompt", labels=task.fixed_labels)
    if args.children < 1:
        raise ConfigError("--children must be >= 1")

    operators = build_operators([_spec(s) for s in args.mutator], plugins)
    parents = [normalize(p) for p in prompts for _ in range(args.children)]
    for op in operators:
        seen = {normalize(p) for p in prompts}
        start = time.perf_counter()
        children = op.mutate(parents, random.Random(f"{args.seed}:{op.label}"), task)
        seconds = time.perf_counter() - start
        verdicts: dict[str, int] = {}
        if not args.json:
            print(f"== {op.label} on {task.name} ({len(parents)} parent slots, {seconds:.1f} s)")
        last_parent = None
        for parent, kids in zip(parents, children):
            if not args.json and parent != last_parent:
                print(f"  {parent}")
                last_parent = parent
            for kid in kids:
                # without --task the verbalizers are the first prompt's choices: show children's choices as they come
                reason, marked = admit_child(kid, parent, required=task.input_fields, max_chars=args.max_chars, seen=seen,
                                             labels=task.fixed_labels, verbalizers=task.verbalizers if args.task else ())
                if reason is None:
                    seen.add(marked)
                    kid = marked  # with the parent's span marks back, as the search keeps it
                verdicts[reason or "accepted"] = verdicts.get(reason or "accepted", 0) + 1
                if args.json:
                    print(json.dumps({"operator": op.label, "task": task.name, "parent": parent, "child": kid,
                                      "verdict": reason or "accepted"}, ensure_ascii=False))
                else:
                    print(f"    {'->' if reason is None else 'x '} {kid}" + ("" if reason is None else f"   [{reason}]"))
        if not args.json:
            stats = getattr(op.mutator, "stats", None)
            extra = f"; samples: {stats}" if stats else ""
            print(f"  verdicts: {verdicts}{extra}\n")
    return 0
