"""A multi-node Ray cluster on one machine: each node in its own Linux network namespace.

Three namespaces (a head and two workers, by default) hang on a private bridge through
veth pairs, each with its own address (``10.225.0.1``, ``.2``, ...). ``ray start --head``
runs in the head's namespace and ``ray start --address`` in the workers', each node with
its own ``--temp-dir``, so the nodes reach each other over a network, not loopback, and a
node can be lost whole: :meth:`NetnsCluster.kill_node` SIGKILLs every process of its
namespace (raylet, object store, actors). Drivers run in the head's namespace
(:meth:`NetnsCluster.command`); no traffic leaves the namespaces and the bridge, which has
no address on the host.

Cleanup is by construction, not by bookkeeping: every Ray process of a node lives in its
namespace (``ip netns pids``), deleting a namespace deletes its veth, and the bridge and
temp folders carry this cluster's names. :meth:`stop` runs from ``finally``, from
``atexit`` and from ``python -m tests.ray.netns_cluster stop``, and removes whatever is
left, even after a failed start. Needs root and ``ip``; :func:`unavailable` says why not.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
GCS_PORT = 6379  # each namespace has its own ports: nothing collides with a Ray on the host
DASHBOARD_PORT = 8265


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None: they can)."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "the 'ip' command (iproute2) is missing"
    probe = f"zpprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def netns_pids(namespace: str) -> list[int]:
    """Ids of the processes in ``namespace`` (none when it does not exist)."""
    result = _ip("netns", "pids", namespace, check=False)
    return [int(p) for p in result.stdout.split()] if result.returncode == 0 else []


def kill_namespace_processes(namespace: str, timeout_s: float = 10.0) -> list[int]:
    """SIGKILL every process of ``namespace``, until none is left or ``timeout_s`` passed."""
    killed: list[int] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = netns_pids(namespace)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return killed


@dataclass(frozen=True)
class Node:
    name: str
    namespace: str
    ip: str
    temp_dir: str


class NetnsCluster:
    """``workers`` worker nodes and a head node, each in its own network namespace.

    Args:
        workers: worker nodes.
        head_cpus: logical CPUs of the head (0: actors run on the workers only).
        worker_cpus: logical CPUs of each worker node.
        prefix: names of the namespaces (``PREFIX-head``, ``PREFIX-w1``), veths and bridge.
        subnet: the first three octets of the nodes' addresses; the head is ``.1``.
        object_store_mb: each node's object store.
        dashboard: run the dashboard's HTTP server on the head (``ray job submit`` needs it).
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        head_cpus: int = 0,
        worker_cpus: int = 1,
        prefix: str = os.environ.get("ZP_NETNS_PREFIX", "zpn25"),
        subnet: str = os.environ.get("ZP_NETNS_SUBNET", "10.225.0"),
        object_store_mb: int = 80,
        dashboard: bool = False,
    ) -> None:
        self.with_dashboard = dashboard
        self.prefix = prefix
        self.subnet = subnet
        self.head_cpus = head_cpus
        self.worker_cpus = worker_cpus
        self.object_store_mb = object_store_mb
        self.bridge = f"{prefix}br"
        self.root = f"/tmp/{prefix}-ray"  # short: Ray's Unix socket paths must fit 107 characters
        names = ["head"] + [f"w{i}" for i in range(1, workers + 1)]
        self.nodes = [
            Node(name, f"{prefix}-{name}", f"{subnet}.{i + 1}", f"{self.root}/{name}") for i, name in enumerate(names)
        ]
        self.head = self.nodes[0]
        self.address = f"{self.head.ip}:{GCS_PORT}"
        self.dashboard = f"http://{self.head.ip}:{DASHBOARD_PORT}"
        # Token authentication, as a shared cluster should run it; every process here gets it.
        self.token = secrets.token_hex(16)
        self._registered = False

    # -- the cluster ------------------------------------------------------------
    def start(self, timeout_s: float = 120.0) -> "NetnsCluster":
        """Make the network, start every node, return once all of them are alive."""
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True
        try:
            self._make_network()
            for node in self.nodes:
                self.start_node(node)
            self.wait_nodes(len(self.nodes), timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _make_network(self) -> None:
        self.stop()  # a cluster of the same names left by a killed session
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("link", "set", self.bridge, "up")
        for index, node in enumerate(self.nodes):
            host_end, node_end = f"{self.prefix}v{index}", f"{self.prefix}p{index}"
            _ip("netns", "add", node.namespace)
            _ip("-n", node.namespace, "link", "set", "lo", "up")  # Ray's processes also talk over loopback
            _ip("link", "add", host_end, "type", "veth", "peer", "name", node_end)
            _ip("link", "set", host_end, "master", self.bridge)
            _ip("link", "set", host_end, "up")
            _ip("link", "set", node_end, "netns", node.namespace)
            _ip("-n", node.namespace, "link", "set", node_end, "name", "eth0")
            _ip("-n", node.namespace, "addr", "add", f"{node.ip}/24", "dev", "eth0")
            _ip("-n", node.namespace, "link", "set", "eth0", "up")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process of the cluster, drivers included."""
        env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "PYTHONPATH")}
        env.update(
            RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=self.token, RAY_USAGE_STATS_ENABLED="0", OMP_NUM_THREADS="1",
            # Lose a node in seconds, not the default ~30 s of missed health checks.
            RAY_health_check_period_ms="1000", RAY_health_check_failure_threshold="3",
        )
        env.update(extra)
        return env

    def start_node(self, node: Node) -> None:
        """``ray start`` for ``node`` in its namespace (the daemons stay there)."""
        os.makedirs(node.temp_dir, exist_ok=True)
        common = [
            "--node-ip-address", node.ip, "--temp-dir", node.temp_dir, "--disable-usage-stats",
            "--object-store-memory", str(self.object_store_mb * 1024 * 1024),
        ]
        if node is self.head:
            role = [
                "--head", "--port", str(GCS_PORT), "--num-cpus", str(self.head_cpus),
                "--include-dashboard", str(self.with_dashboard).lower(),
                "--dashboard-host", node.ip, "--dashboard-port", str(DASHBOARD_PORT),
            ]
        else:
            role = ["--address", self.address, "--num-cpus", str(self.worker_cpus)]
        result = subprocess.run(
            self.command([RAY, "start", *role, *common], node), env=self.env(), cwd="/",
            capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ray start on {node.name} failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")

    def command(self, argv: list[str], node: Node | None = None) -> list[str]:
        """``argv`` run in ``node``'s namespace (the head's by default)."""
        return ["ip", "netns", "exec", (node or self.head).namespace, *argv]

    def run(self, argv: list[str], *, timeout: float, node: Node | None = None, **env: str) -> subprocess.CompletedProcess:
        """Run ``argv`` in a namespace with the cluster's environment; output captured."""
        return subprocess.run(
            self.command(argv, node), env=self.env(**env), capture_output=True, text=True, timeout=timeout
        )

    def alive_nodes(self, timeout: float = 60.0) -> list[dict]:
        """``ray.nodes()`` as a driver in the head's namespace sees it."""
        script = (
            "import json, ray; ray.init(address=%r, logging_level='ERROR', log_to_driver=False); "
            "print(json.dumps([{'ip': n['NodeManagerAddress'], 'id': n['NodeID'], 'alive': n['Alive'], "
            "'cpus': n['Resources'].get('CPU', 0)} for n in ray.nodes()]))" % self.address
        )
        result = self.run([sys.executable, "-c", script], timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"could not list the cluster's nodes: {result.stderr[-1500:]}")
        return [n for n in json.loads(result.stdout.strip().splitlines()[-1]) if n["alive"]]

    def wait_nodes(self, count: int, timeout_s: float) -> list[dict]:
        """Wait until ``count`` nodes are alive (at most ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        seen: list[dict] = []
        while time.monotonic() < deadline:
            try:
                seen = self.alive_nodes(timeout=max(5.0, deadline - time.monotonic()))
            except (RuntimeError, subprocess.TimeoutExpired):
                seen = []
            if len(seen) >= count:
                return seen
            time.sleep(1.0)
        raise RuntimeError(f"{len(seen)} of {count} Ray nodes alive after {timeout_s:.0f}s: {seen}")

    def revive(self, timeout_s: float = 120.0) -> None:
        """Start again each worker node that was killed, and wait for all nodes."""
        for node in self.nodes[1:]:
            if not netns_pids(node.namespace):
                self.start_node(node)
        self.wait_nodes(len(self.nodes), timeout_s)

    def kill_node(self, node: Node) -> list[int]:
        """Lose ``node`` whole: SIGKILL every process of its namespace (raylet, store, actors)."""
        return kill_namespace_processes(node.namespace)

    def stop(self) -> None:
        """Remove everything this cluster made (safe to repeat, and after a failed start)."""
        for node in reversed(self.nodes):  # workers first: they would retry the head meanwhile
            kill_namespace_processes(node.namespace)
            _ip("netns", "del", node.namespace, check=False)  # takes its veth end along
        for index in range(len(self.nodes)):
            _ip("link", "del", f"{self.prefix}v{index}", check=False)
        _ip("link", "del", self.bridge, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def state(self) -> dict:
        return {"prefix": self.prefix, "subnet": self.subnet, "workers": len(self.nodes) - 1, "address": self.address,
                "dashboard": self.dashboard, "token": self.token, "head_namespace": self.head.namespace}


def _main(argv: list[str] | None = None) -> int:
    """``python -m tests.ray.netns_cluster start|stop|status|exec`` (used by .ci/ray_multinode.sh)."""
    import argparse

    parser = argparse.ArgumentParser(description="a 3-node Ray cluster in network namespaces, for CI")
    parser.add_argument("action", choices=["start", "stop", "status", "exec"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-cpus", type=int, default=1)
    parser.add_argument("--dashboard", action="store_true", help="serve the job API (ray job submit)")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []  # exec's command, after "--"
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    reason = unavailable()
    if reason:
        print(f"cannot make network namespaces: {reason}", file=sys.stderr)
        return 2
    cluster = NetnsCluster(args.workers, worker_cpus=args.worker_cpus, dashboard=args.dashboard)
    state_file = Path(f"/tmp/{cluster.prefix}-cluster.json")
    state = json.loads(state_file.read_text()) if state_file.exists() else None
    alive = bool(netns_pids(cluster.head.namespace)) and state is not None
    if args.action == "status":
        print(json.dumps({**state, "running": True}) if alive else "not running")
        return 0 if alive else 1
    if args.action == "stop":
        cluster.stop()
        state_file.unlink(missing_ok=True)
        print("stopped")
        return 0
    if args.action == "exec":
        if not alive:
            print("not running: start it first", file=sys.stderr)
            return 1
        cluster.token = state["token"]
        os.execvpe("ip", cluster.command(command or ["bash"]), cluster.env(PYTHONPATH=os.environ.get("PYTHONPATH", "")))
    atexit.unregister(cluster.stop)
    cluster._registered = True  # the cluster outlives this command; `stop` removes it
    cluster.start()
    state_file.write_text(json.dumps(cluster.state()))
    print(json.dumps(cluster.state()))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
