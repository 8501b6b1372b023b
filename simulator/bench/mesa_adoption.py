"""The e-signature adoption model (federated deployment) written for Mesa, for BENCHMARKS.md.

Re-implements MODEL.md §3 and §7.2–7.3 (SaaS/federated rules) in idiomatic Mesa: one agent
per firm, every agent visited every step. Static inputs come from signet-sim so both
implementations run the same firms on the same network:

    signet-sim export SCENARIO --edges edges.csv --deployment federated --firms firms.csv

Each step: (1) every pending firm adopts with probability review_rate; (2) every other firm
that has not adopted and does not refuse adopts spontaneously with probability
spontaneous_rate; (3) adoptions are applied: neighbours' contract volume with adopters grows,
neighbours whose volume plus anticipated volume reaches their threshold become pending, and a
firm that uses its power makes the suppliers it has power over pending.

Usage: python mesa_adoption.py --edges edges.csv --firms firms.csv --runs 20 --steps 100
Prints one JSON line: mean adopter share after each step, and the wall time of the runs.
"""

import argparse
import csv
import json
import time

import mesa
import networkx as nx


class Firm(mesa.Agent):
    def __init__(self, model, index, row):
        super().__init__(model)
        self.index = index
        self.blocked = row["blocked"] == "1"
        self.mandates = row["mandates"] == "1"
        self.threshold = int(row["threshold"])
        self.anticipated = int(row["anticipated"])
        self.adopted = False
        self.pending = False
        self.adopting = False
        self.gain = 0

    def consider(self):
        if self.adopted or self.pending or self.blocked:
            return
        if self.gain + self.anticipated >= self.threshold:
            self.pending = True

    def decide(self):
        """Draws on the state at the start of the step."""
        m = self.model
        if self.pending:
            if self.random.random() < m.review_rate:
                self.adopting = True
        elif not self.adopted and not self.blocked:
            if self.random.random() < m.spontaneous_rate:
                self.adopting = True

    def apply(self):
        if not self.adopting:
            return
        self.adopting = False
        self.pending = False
        if self.adopted or self.blocked:
            return
        self.adopted = True
        m = self.model
        for other, volume in m.neighbours[self.index]:
            agent = m.firms[other]
            agent.gain += volume
            agent.consider()
        if self.mandates:
            for supplier in m.powered_suppliers[self.index]:
                agent = m.firms[supplier]
                if not agent.adopted and not agent.pending and not agent.blocked:
                    agent.pending = True


class AdoptionModel(mesa.Model):
    def __init__(self, graph, firm_rows, powered, spontaneous_rate, review_rate, seed):
        super().__init__(seed=seed)
        self.spontaneous_rate = spontaneous_rate
        self.review_rate = review_rate
        self.neighbours = [
            [(j, graph[i][j]["volume"]) for j in graph.neighbors(i)] for i in range(len(firm_rows))
        ]
        self.powered_suppliers = powered
        self.firms = [Firm(self, i, row) for i, row in enumerate(firm_rows)]
        for firm in self.firms:
            firm.consider()

    def step(self):
        self.agents.do("decide")
        self.agents.do("apply")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", required=True)
    parser.add_argument("--firms", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--spontaneous-rate", type=float, default=0.002)
    parser.add_argument("--review-rate", type=float, default=0.15)
    parser.add_argument("--dependency-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with open(args.firms, newline="") as f:
        firm_rows = list(csv.DictReader(f))
    n = len(firm_rows)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    sales = [0] * n
    edges = []
    with open(args.edges, newline="") as f:
        for row in csv.DictReader(f):
            b, s, v = int(row["buyer"]), int(row["supplier"]), int(row["contracts_per_year"])
            graph.add_edge(b, s, volume=v)
            sales[s] += v
            edges.append((b, s, v))
    powered = [[] for _ in range(n)]
    for b, s, v in edges:
        if v >= args.dependency_share * sales[s]:
            powered[b].append(s)

    start = time.perf_counter()
    curves = []
    for run in range(args.runs):
        model = AdoptionModel(
            graph, firm_rows, powered, args.spontaneous_rate, args.review_rate, args.seed * 1009 + run
        )
        curve = []
        for _ in range(args.steps):
            model.step()
            curve.append(sum(1 for a in model.firms if a.adopted) / n)
        curves.append(curve)
    elapsed = time.perf_counter() - start
    mean = [sum(c[t] for c in curves) / len(curves) for t in range(args.steps)]
    print(json.dumps({
        "implementation": f"mesa {mesa.__version__}",
        "firms": n,
        "runs": args.runs,
        "steps": args.steps,
        "mean_adoption": mean,
        "seconds": elapsed,
    }))


if __name__ == "__main__":
    main()
