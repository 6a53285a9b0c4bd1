"""A two-node Ray cluster on 127.0.0.1 for tests: ``python ray_two_nodes.py LIFETIME``.

Starts a head and one joined node (one CPU each) with Ray's cluster utilities, prints one JSON line
``{"address": "127.0.0.1:PORT", "nodes": [HEAD_ID, NODE_ID]}`` and keeps the cluster up until its stdin
closes or ``LIFETIME`` seconds pass, then shuts both nodes down. Ray's settings (token authentication, its
temp dir) come from the environment, which every node process inherits.
"""

from __future__ import annotations

import json
import select
import sys

from ray.cluster_utils import Cluster

#: Loopback only: a node's IP is also what its servers bind to.
NODE = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 80 * 2**20,
        "include_dashboard": False}


def main(lifetime: float) -> None:
    cluster = Cluster(initialize_head=True, head_node_args=NODE)
    try:
        node = cluster.add_node(**NODE)
        cluster.wait_for_nodes()
        print(json.dumps({"address": cluster.address, "nodes": [cluster.head_node.node_id, node.node_id]}),
              flush=True)
        select.select([sys.stdin], [], [], lifetime)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main(float(sys.argv[1]))
