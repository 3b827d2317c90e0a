"""Hook implementations of the zp_ray built-in plugin: the ``ray`` executor and the
``remote`` mutator wrapper. Ray itself is imported only when they are used."""

from __future__ import annotations

from zp_evolve import hookimpl


@hookimpl
def zp_register_executors(register):
    from zp_ray.executor import RayExecutor

    register("ray", RayExecutor, description="a pool of Ray actors: local Ray by default, a cluster by address")


@hookimpl
def zp_register_mutators(register):
    from zp_ray.remote_mutator import RemoteMutator, check_task

    register("remote", RemoteMutator, check_task=check_task, description="runs another mutator on a Ray actor (for heavy models)")
