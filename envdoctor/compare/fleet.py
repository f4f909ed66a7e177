"""Probe every node of a Ray cluster with the engine the cluster already runs, then compare.

One zero-CPU task per alive node, pinned to it with Ray's node-affinity scheduling (hard,
so a task never lands on another node), runs envdoctor's probe in that node's worker and
returns the environment as JSON; the driver compares them. No agent, no SSH: Ray's own
scheduler carries the probe. A node may point its probe at another interpreter with the
``ENVDOCTOR_PYTHON`` environment variable (set on the node, e.g. ``ray start --env``-style
worker environment), which is how a mixed fleet is inspected.

Ray is an optional extra (``pip install 'envdoctor[ray]'``); importing this module does not
import Ray.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from envdoctor.compare.reports import NamedEnvironment
from envdoctor.errors import BadInputError
from envdoctor.model import Environment, from_jsonable, to_jsonable

__all__ = ["PYTHON_VARIABLE", "probe_node", "probe_ray_cluster"]

#: The node-side variable naming the interpreter to inspect (default: the worker's own).
PYTHON_VARIABLE = "ENVDOCTOR_PYTHON"


def probe_node(python: str | None, deep: bool, timeout: float) -> dict[str, Any]:
    """Run on a node: probe ``python`` (or ``$ENVDOCTOR_PYTHON``, or this worker's interpreter)."""
    from envdoctor.probe import collect

    target = python or os.environ.get(PYTHON_VARIABLE) or sys.executable
    environment = collect(target, deep=deep, timeout=timeout)
    return {"host": socket.gethostname(), "environment": to_jsonable(environment)}


def probe_ray_cluster(
    address: str | None,
    *,
    python: str | None = None,
    deep: bool = False,
    timeout: float = 60.0,
) -> tuple[list[NamedEnvironment], list[str]]:
    """Probe each alive node of the cluster at ``address`` (``auto``, ``ray://...``, ``host:port``).

    Returns the nodes' environments and one line per node that could not be probed (a node
    that fails never hides the others).
    """
    try:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    except ImportError:
        raise BadInputError("--ray needs Ray: pip install 'envdoctor[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise BadInputError(f"--ray {address}: cannot connect ({exc})") from None
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
        if not nodes:
            raise BadInputError(f"--ray {address}: the cluster has no alive node")
        remote = ray.remote(num_cpus=0, max_retries=0)(probe_node)
        pending = {
            node["NodeID"]: remote.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(python, deep, timeout)
            for node in nodes
        }
        results: list[NamedEnvironment] = []
        failures: list[str] = []
        for node in nodes:
            node_id = node["NodeID"]
            name = f"{node.get('NodeManagerHostname') or 'node'}-{node_id[:8]}"
            try:
                answer = ray.get(pending[node_id], timeout=timeout + 30)
                environment = from_jsonable(Environment, answer["environment"])
            except Exception as exc:  # a node that cannot be probed is reported, not fatal
                failures.append(f"{name}: the probe failed ({type(exc).__name__}: {str(exc)[:300]})")
                continue
            results.append(NamedEnvironment(name, f"ray:{node_id}", environment))
        if not results:
            raise BadInputError(f"--ray {address}: no node could be probed: " + "; ".join(failures))
        return results, failures
    finally:
        if started_here:
            ray.shutdown()
