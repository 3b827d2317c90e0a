"""``zp-evolve bench``: throughput and equivalence of the scoring variants, kept apart from the backends.

:mod:`.command` is the CLI; :mod:`.pack` writes and reads bench packs (tokenizer, config and
real task texts, the 64 MiB a device machine receives); :mod:`.random_init` runs the real
architectures with random weights built from a config; :mod:`.stages` times each variant.
"""
