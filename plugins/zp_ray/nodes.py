"""Where the executor's actors run, and which of their nodes the cluster has lost.

A node that disappears (its machine, its raylet) takes its actors with it. Ray then
restarts them elsewhere only if another node has room; otherwise a call to the lost
actor waits forever for a restart that cannot happen. So the executor asks this watch,
whenever it has waited a while, which actors sit on nodes that Ray reports dead, and
drops them from the pool (:meth:`RayExecutor.evaluate`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterable

log = logging.getLogger("zp_ray.executor")


class NodeWatch:
    """The node of each actor slot (``{"pid", "node_id", "ip"}``), learnt from the actors."""

    def __init__(self, check_every_s: float = 2.0) -> None:
        self.check_every_s = check_every_s
        self.placement: dict[int, dict[str, Any]] = {}
        self._asked: dict[Any, int] = {}  # pending ``where()`` call -> slot
        self._checked = 0.0

    def track(self, slot: int, actor: Any) -> None:
        """Ask ``actor`` (new in ``slot``) where it runs; the answer is read later, without waiting."""
        self.placement.pop(slot, None)
        self._asked = {ref: s for ref, s in self._asked.items() if s != slot}
        self._asked[actor.where.remote()] = slot

    def resolve(self, timeout_s: float = 0.0) -> None:
        """Record the answers that have arrived (all of them, given ``timeout_s``), logging each."""
        import ray
        from ray.exceptions import RayError

        if not self._asked:
            return
        done, _ = ray.wait(list(self._asked), num_returns=len(self._asked), timeout=timeout_s)
        for ref in done:
            slot = self._asked.pop(ref)
            try:
                self.placement[slot] = ray.get(ref)
            except RayError:  # the actor died before it answered: it has no node to watch
                continue
            where = self.placement[slot]
            log.info("ray executor: actor %d (pid %d) on node %s (%s)", slot, where["pid"], where["node_id"][:12], where["ip"])

    def summary(self) -> str:
        """``"10.0.0.2: 2 actors, 10.0.0.3: 1 actor"``: the pool's spread over nodes."""
        counts: dict[str, int] = {}
        for where in self.placement.values():
            counts[where["ip"]] = counts.get(where["ip"], 0) + 1
        return ", ".join(f"{ip}: {n} actor{'s' * (n != 1)}" for ip, n in sorted(counts.items()))

    def due(self) -> bool:
        """Whether ``check_every_s`` has passed since the last :meth:`on_dead_nodes`."""
        return time.monotonic() - self._checked >= self.check_every_s

    def on_dead_nodes(self, slots: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The slots among ``slots`` whose node Ray reports dead, with that node."""
        import ray

        self._checked = time.monotonic()
        self.resolve()
        slots = [s for s in slots if s in self.placement]
        if not slots:
            return {}
        try:
            dead = {node["NodeID"] for node in ray.nodes() if not node.get("Alive", True)}
        except Exception as error:  # noqa: BLE001 - the GCS is busy or briefly away: look again later
            log.debug("ray executor: could not list nodes: %s", error)
            return {}
        return {s: self.placement[s] for s in slots if self.placement[s]["node_id"] in dead}

    def forget(self, slot: int) -> None:
        self.placement.pop(slot, None)
        self._asked = {ref: s for ref, s in self._asked.items() if s != slot}
