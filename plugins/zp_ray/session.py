"""The Ray connection: a local Ray on this machine, or an existing cluster by address.

The executor and remote mutators share one connection in a process. Whoever opens it
(the first :func:`acquire`) owns it; it is shut down when the last holder calls
:func:`release`. A Ray that the caller had already initialised (a notebook, a test
fixture, ``ray job submit``) is used as it is and never shut down here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from zp_evolve.errors import ConfigError, ExecutorError
from zp_evolve.plugins import ENV_PLUGINS, env_plugin_modules

log = logging.getLogger(__name__)

_lock = threading.Lock()
_holders = 0
_owned = False

HOW_TO_START = (
    "Start a cluster with 'ray start --head --port 6379' on the head machine and "
    "'ray start --address HEAD_IP:6379' on each worker machine, then set executor.address "
    "to 'HEAD_IP:6379' (or 'auto' on a cluster machine). If the cluster uses token "
    "authentication, set RAY_AUTH_MODE=token and give this machine its token "
    "('ray get-auth-token' on the head). Leave executor.address unset to start a private "
    "local Ray instead."
)


def kill_actor(actor: Any) -> None:
    """Stop one actor for good (no restart); one already gone is fine."""
    import ray

    try:
        ray.kill(actor, no_restart=True)
    except Exception:  # noqa: BLE001 - already dead, or Ray already down
        pass


def check_address(address: str | None, *, where: str = "executor.address") -> None:
    """Reject address strings Ray would misread, before anything starts."""
    if address is None or address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"{where} {address!r} is not 'auto', 'HOST:PORT' or 'ray://HOST:PORT'. "
            "Leave it unset to start a local Ray."
        )


def join_target(address: str | None) -> str:
    """The address to join: ``address``, else ``$RAY_ADDRESS``; ``auto`` with ``$RAY_ADDRESS``
    set to ``HOST:PORT`` joins that address.

    Ray resolves ``auto`` through ``$RAY_ADDRESS`` itself, but it rewrites a loopback
    address to the node's IP, and then no longer sends this machine's auth token: on
    the head node, ``RAY_ADDRESS=127.0.0.1:6379`` with ``address: auto`` failed with
    ``InvalidAuthToken`` where ``address: 127.0.0.1:6379`` worked. Naming the address
    explicitly takes the path that works (probe, loopback token).
    """
    environment = os.environ.get("RAY_ADDRESS", "").strip()
    target = address or environment
    if target == "auto" and environment not in ("", "auto"):
        check_address(environment, where="$RAY_ADDRESS")
        return environment
    return target


def _probe(address: str, timeout_s: float) -> None:
    """Fail fast on an unreachable ``HOST:PORT``: Ray itself retries for minutes."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return
    except OSError as error:
        raise ExecutorError(
            f"cannot connect to the Ray cluster at {address}: {error}. Is it running? {HOW_TO_START}"
        ) from None


@contextlib.contextmanager
def _quiet_auth_notice() -> Iterator[None]:
    """Ray 2.5x says at WARNING level that it turned token auth on: the safe default,
    nothing to act on, and noise at the top of every run."""
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        yield
    finally:
        notice.setLevel(level)


def _use_local_token_for_loopback(address: str) -> None:
    """Send this machine's Ray auth token to a cluster on this machine, as Ray does for
    ``address='auto'`` (it never does for an explicit address, so that a token does not
    leak to another host). Ray 2.5x clusters started with ``ray start`` use token auth
    once ``~/.ray/auth_token`` exists."""
    host = address.removeprefix("ray://").rpartition(":")[0].strip("[]")
    if host not in ("localhost", "::1") and not host.startswith("127."):
        return
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray without token auth
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def acquire(
    address: str | None,
    *,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    log_to_driver: bool = False,
    connect_timeout_s: float = 10.0,
) -> None:
    """Make sure this process is connected to Ray; start a local one if ``address`` is None.

    Raises:
        ExecutorError: the cluster cannot be reached; the message says how to start one.
    """
    global _holders, _owned
    import ray

    with _lock:
        if ray.is_initialized():
            if _owned:
                _holders += 1
            return
        check_address(address)
        kwargs: dict[str, Any] = {
            "log_to_driver": log_to_driver,
            "logging_level": logging.WARNING,
            "include_dashboard": False,
            "namespace": "zp_evolve",
        }
        joining = address not in (None, "local") or (address is None and bool(os.environ.get("RAY_ADDRESS")))
        with _quiet_auth_notice():
            if joining:
                target = join_target(address)
                if target != "auto":
                    _probe(target, connect_timeout_s)
                    _use_local_token_for_loopback(target)
                kwargs["address"] = target
                del kwargs["include_dashboard"]  # a property of the cluster, not of this driver
                if num_cpus is not None or num_gpus is not None:
                    log.warning("num_cpus/num_gpus are ignored when joining a cluster at %s", target)
            else:
                # Telemetry off for the laptop default, unless the user decided otherwise.
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                if address == "local":
                    kwargs["address"] = "local"
                kwargs["num_cpus"] = num_cpus
                kwargs["num_gpus"] = num_gpus
            try:
                ray.init(**kwargs)
            except ConnectionError as error:
                raise ExecutorError(f"cannot connect to a Ray cluster ({error}). {HOW_TO_START}") from None
            except Exception as error:  # Ray raises RuntimeError/ValueError for bad set-ups
                where = f"join the Ray cluster at {kwargs.get('address')}" if joining else "start a local Ray"
                raise ExecutorError(f"could not {where}: {type(error).__name__}: {error}. {HOW_TO_START}") from error
        _owned = True
        _holders = 1
        if not joining:
            log.info("started a local Ray with %s CPUs", ray.cluster_resources().get("CPU"))


def release() -> None:
    """Give up one hold on the connection; shut Ray down when this process opened it and
    nobody holds it any more."""
    global _holders, _owned
    with _lock:
        if not _owned:
            return
        _holders -= 1
        if _holders > 0:
            return
        _owned = False
        _holders = 0
        import ray

        if ray.is_initialized():
            ray.shutdown()


def module_roots(plugins: Iterable[object]) -> list[str]:
    """The ``sys.path`` folders the given plugin objects (modules or instances) import from.

    Workers need them on their ``PYTHONPATH`` to unpickle the objects. Returns folders
    in first-seen order, without duplicates.
    """
    roots: list[str] = []
    for plugin in plugins:
        name = plugin.__name__ if isinstance(plugin, type(sys)) else type(plugin).__module__
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if not path:
            continue
        root = Path(path).resolve().parent
        depth = name.count(".") + (1 if Path(path).name == "__init__.py" else 0)
        for _ in range(depth):
            root = root.parent
        if str(root) not in roots:
            roots.append(str(root))
    return roots


def worker_runtime_env(
    runtime_env: Mapping[str, Any] | None,
    *,
    plugins: Iterable[object] = (),
    threads: int | None = None,
) -> dict[str, Any]:
    """The runtime env for actors: the user's, plus what makes plugins import and threads obey.

    Adds the folders of ``plugins`` (and of the modules named in ``$ZP_EVOLVE_PLUGINS``) to
    ``PYTHONPATH`` (the runtime env's, else the driver's), forwards ``$ZP_EVOLVE_PLUGINS``, and caps BLAS/OpenMP threads so that
    actors sharing a machine do not oversubscribe its cores. The user's values win.
    """
    env: dict[str, Any] = dict(runtime_env or {})
    env_vars = {str(k): str(v) for k, v in dict(env.get("env_vars") or {}).items()}
    named = env_plugin_modules()
    if named and ENV_PLUGINS not in env_vars:
        env_vars[ENV_PLUGINS] = ",".join(named)
    modules = [sys.modules[n] for n in named if n in sys.modules]
    roots = module_roots([*plugins, *modules])
    if roots:
        # Setting PYTHONPATH replaces the worker's own, so start from the driver's: an actor must
        # import the same code as the driver (a checkout on PYTHONPATH, not an older installed copy).
        base = env_vars.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        existing = [p for p in base.split(os.pathsep) if p]
        env_vars["PYTHONPATH"] = os.pathsep.join(existing + [r for r in roots if r not in existing])
    if threads is not None:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env_vars.setdefault(name, str(threads))
    if env_vars:
        env["env_vars"] = env_vars
    return env
