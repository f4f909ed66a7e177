"""``envdoctor fleet --ray``: a real local Ray cluster of three nodes, one pointed at another interpreter.

Ray's own test utility starts the nodes as separate raylets on this machine;
the node whose workers see ``ENVDOCTOR_PYTHON`` probes a different environment and must be
singled out as the odd one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.envbuilder import make_env

ray = pytest.importorskip("ray", reason="the Ray path needs envdoctor[ray] (installed by the test extra)")
cluster_utils = pytest.importorskip("ray.cluster_utils")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    other = make_env(
        tmp_path_factory.mktemp("fleet"), name="other", dists={"transformers": "4.29.1", "numpy": "1.26.4"}
    )
    # Ray's raylets bind this machine's own address (its loopback-only mode does not accept
    # a driver from another process); nothing leaves the machine.
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1, env_vars={"ENVDOCTOR_PYTHON": str(other)})
    cluster.wait_for_nodes()
    try:
        yield cluster, other
    finally:
        cluster.shutdown()


def test_the_odd_node_is_singled_out(cluster: tuple[Any, Path]) -> None:
    handle, _other = cluster
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "fleet", "--ray", handle.address, "--json", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
        check=False,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    document = json.loads(result.stdout)
    assert document["schema"] == "envdoctor.compare/1"
    names = [e["name"] for e in document["environments"]]
    assert len(names) == 3
    groups = document["groups"]
    assert [len(g) for g in groups] == [2, 1], groups
    odd = groups[1][0]
    transformers = next(d for d in document["differences"] if d["dimension"] == "transformers")
    assert transformers["odd"] == [odd]
    assert transformers["values"][odd] == "4.29.1"
    assert all(transformers["values"][n] != "4.29.1" for n in groups[0])
