"""A throw-away Ray cluster on loopback, for tests: ``ray start --head --block`` on free
ports in its own temp folder, stopped by signalling that one process (never ``ray stop``,
which would kill every Ray on the machine)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_under(folder: str) -> list[int]:
    """Ids of live processes whose command line mentions ``folder`` (Ray puts its session
    folder on every process it starts)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if folder in cmdline:
            found.append(int(entry.name))
    return found


class LoopbackCluster:
    """One head node with ``num_cpus`` logical CPUs and ``num_gpus`` logical GPUs (a number
    Ray schedules by; no GPU need exist), reachable at :attr:`address` (loopback).

    ``node_ip_address=None`` lets Ray pick this machine's IP, as a plain ``ray start --head``
    does; the node then lives at that IP while :attr:`address` still reaches it through
    loopback. Drivers given ``RAY_TMPDIR=`` :attr:`root` find it with ``address: auto``,
    as drivers on a cluster machine find the cluster that ``ray start`` started there.
    """

    def __init__(self, num_cpus: int = 2, node_ip_address: str | None = "127.0.0.1", num_gpus: int = 0) -> None:
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.node_ip_address = node_ip_address
        # Short path: Ray's Unix sockets must fit in 107 characters. Ray's own layout under
        # RAY_TMPDIR is RAY_TMPDIR/ray, where `address: auto` looks for the latest cluster.
        self.root = tempfile.mkdtemp(prefix="zpray", dir="/tmp")
        self.temp_dir = os.path.join(self.root, "ray")
        os.mkdir(self.temp_dir)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> "LoopbackCluster":
        ports = [free_port() for _ in range(8)]
        # Workers get ports outside Ray's default range (10002-19999) and below the
        # kernel's ephemeral range, so this cluster does not collide with others.
        worker_low = 20000 + (self.port % 100) * 100
        command = [
            RAY, "start", "--head", "--block", "--disable-usage-stats",
            *(["--node-ip-address", self.node_ip_address] if self.node_ip_address else []), "--port", str(self.port),
            "--num-cpus", str(self.num_cpus), "--num-gpus", str(self.num_gpus),
            "--include-dashboard", "false", "--temp-dir", self.temp_dir,
            "--object-store-memory", str(200 * 1024 * 1024),
            "--node-manager-port", str(ports[0]), "--object-manager-port", str(ports[1]),
            "--ray-client-server-port", str(ports[2]), "--dashboard-agent-listen-port", str(ports[3]),
            "--dashboard-agent-grpc-port", str(ports[4]), "--runtime-env-agent-port", str(ports[5]),
            "--metrics-export-port", str(ports[6]),
            "--min-worker-port", str(worker_low), "--max-worker-port", str(worker_low + 99),
        ]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # plugins must reach workers through the executor's runtime env
        env.pop("RAY_ADDRESS", None)
        env.setdefault("OMP_NUM_THREADS", "1")
        self.log = open(Path(self.temp_dir) / "ray_start.log", "w")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd="/", start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited with {self.process.returncode}: {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    # `ray start` writes the address `auto` reads a moment after the port opens
                    if (Path(self.temp_dir) / "ray_current_cluster").is_file():
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"ray start did not open port {self.port} in {timeout_s}s: {self.read_log()}")

    def read_log(self) -> str:
        return (Path(self.temp_dir) / "ray_start.log").read_text(errors="replace")[-3000:]

    def stop(self, timeout_s: float = 60.0) -> list[int]:
        """Stop the cluster; returns the ids of stragglers that had to be killed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        stragglers = kill_processes_under(self.temp_dir)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)
        return stragglers


def kill_processes_under(folder: str, grace_s: float = 5.0) -> list[int]:
    """SIGKILL the processes :func:`processes_under` finds, after ``grace_s`` to exit alone."""
    deadline = time.monotonic() + grace_s
    while processes_under(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    stragglers = processes_under(folder)
    for pid in stragglers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return stragglers


def _main(argv: list[str] | None = None) -> int:
    """``python -m tests.ray.cluster start|stop|status [--state DIR]`` (used by .ci/ray_cluster.sh)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="a loopback Ray head node for CI")
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--state", default=os.environ.get("ZP_RAY_STATE", "/tmp/zp_ray_ci"),
                        help="folder for the cluster's pid, address and temp dir")
    parser.add_argument("--num-cpus", type=int, default=2)
    args = parser.parse_args(argv)
    state = Path(args.state)
    info_path = state / "cluster.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else None
    alive = bool(info) and Path(f"/proc/{info['pid']}").exists()
    if args.action == "status":
        print(f"running at {info['address']} (pid {info['pid']})" if alive else "not running")
        return 0 if alive else 1
    if args.action == "start":
        if alive:
            print(info["address"])
            return 0
        cluster = LoopbackCluster(num_cpus=args.num_cpus).start()
        state.mkdir(parents=True, exist_ok=True)
        info_path.write_text(json.dumps({"pid": cluster.process.pid, "address": cluster.address, "temp_dir": cluster.temp_dir, "root": cluster.root}))
        print(cluster.address)
        return 0
    if info is None:
        print("not running")
        return 0
    if alive:
        os.kill(info["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{info['pid']}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    stragglers = kill_processes_under(info["temp_dir"])
    shutil.rmtree(info.get("root", info["temp_dir"]), ignore_errors=True)
    info_path.unlink()
    print(f"stopped{f' (killed stragglers {stragglers})' if stragglers else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
