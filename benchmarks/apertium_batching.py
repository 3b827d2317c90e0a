"""Why back_translation batches: one Apertium call for many prompts versus one call per prompt.

Translates the packaged English prompts eng -> spa both ways, in the same run,
and prints the times and their ratio. Needs apertium and apertium-eng-spa.

    .venv/bin/python benchmarks/apertium_batching.py
"""

from __future__ import annotations

import time


def main() -> None:
    from zp_evolve.plugins import load_plugins
    from zp_mutators.apertium import ApertiumTranslator
    from zp_mutators.protect import protect

    provider = load_plugins().build("tasks", {"name": "packaged"})
    prompts = list(dict.fromkeys(p for t in provider.tasks() if t.language == "en" for p in t.prompts))
    lines = [protect(p).text for p in prompts]
    translator = ApertiumTranslator()
    translator.mode("eng", "spa")  # list the modes outside the timing

    start = time.perf_counter()
    batched = translator.translate(lines, "eng", "spa")
    one_call = time.perf_counter() - start

    start = time.perf_counter()
    single = [translator.translate([line], "eng", "spa")[0] for line in lines]
    per_prompt = time.perf_counter() - start

    assert batched == single, "batching must not change a translation"
    print(f"{len(lines)} prompts eng->spa: one call {one_call:.2f} s, one call per prompt {per_prompt:.2f} s, "
          f"ratio {per_prompt / one_call:.1f}x (same output)")


if __name__ == "__main__":
    main()
