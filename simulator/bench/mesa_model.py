"""Watts (2002) threshold cascades written for Mesa, for the speed comparison in BENCHMARKS.md.

The same model as `kind = "watts"` in signet-sim: a node adopts once at least a fraction phi
of its neighbours have adopted; each run starts from one uniformly random seed node and runs
in synchronous rounds until nothing changes. Written the way a Mesa user would write it: one
agent per node on a NetworkGrid, every agent re-evaluated every round.

Usage: python mesa_model.py --edges edges.csv --runs 50 --phi 0.18 [--seed 1]
Prints one JSON line with the run count, mean cascade size, share of global cascades
(>= 10 % of nodes) and the wall time of the runs (graph loading excluded).
"""

import argparse
import csv
import json
import random
import time

import mesa
import networkx as nx


class Firm(mesa.Agent):
    """One node: adopts when the adopted share of its neighbours reaches its threshold."""

    def __init__(self, model, node, phi):
        super().__init__(model)
        self.node = node
        self.phi = phi
        self.adopted = False
        self.next_state = False

    def decide(self):
        if self.adopted:
            self.next_state = True
            return
        neighbours = self.model.grid.get_neighbors(self.node, include_center=False)
        if not neighbours:
            self.next_state = False
            return
        adopted = sum(1 for n in neighbours if n.adopted)
        self.next_state = adopted / len(neighbours) >= self.phi

    def apply(self):
        self.adopted = self.next_state


class WattsCascade(mesa.Model):
    """One cascade from one seed node on graph G."""

    def __init__(self, graph, phi, seed_node, rng_seed):
        super().__init__(seed=rng_seed)
        self.grid = mesa.space.NetworkGrid(graph)
        self.by_node = {}
        for node in graph.nodes:
            agent = Firm(self, node, phi)
            self.grid.place_agent(agent, node)
            self.by_node[node] = agent
        self.by_node[seed_node].adopted = True
        self.size = 1
        self.changed = True

    def step(self):
        self.agents.do("decide")
        self.agents.do("apply")
        size = sum(1 for a in self.agents if a.adopted)
        # Mesa wraps step() and drops its return value, so report through an attribute.
        self.changed = size != self.size
        self.size = size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", required=True)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--phi", type=float, default=0.18)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=None, help="node count (isolated nodes)")
    args = parser.parse_args()

    graph = nx.Graph()
    with open(args.edges, newline="") as f:
        for row in csv.DictReader(f):
            graph.add_edge(int(row["buyer"]), int(row["supplier"]))
    if args.nodes:
        graph.add_nodes_from(range(args.nodes))
    nodes = sorted(graph.nodes)
    rng = random.Random(args.seed)

    start = time.perf_counter()
    sizes = []
    for run in range(args.runs):
        model = WattsCascade(graph, args.phi, rng.choice(nodes), args.seed * 100003 + run)
        while model.changed:
            model.step()
        sizes.append(model.size)
    elapsed = time.perf_counter() - start
    n = len(nodes)
    print(json.dumps({
        "implementation": f"mesa {mesa.__version__}",
        "nodes": n,
        "edges": graph.number_of_edges(),
        "runs": args.runs,
        "mean_cascade_fraction": sum(sizes) / (len(sizes) * n),
        "p_global_cascade": sum(1 for s in sizes if s >= 0.1 * n) / len(sizes),
        "seconds": elapsed,
    }))


if __name__ == "__main__":
    main()
