"""Walk-generation throughput: vectorized PyTorch walks against a plain Python loop.

    python benchmarks/bench_walks.py [--threads 2] [--repeats 3]

For Cora and for a random graph with 1,000,000 directed edges, it times
``gnncourse.walks.random_walks`` (every walker steps at once) for uniform (DeepWalk) and
node2vec (p, q) walks, and a plain Python per-walker loop over adjacency lists on fewer
walkers, in the same run. It prints walk steps per second (best of ``--repeats``) and the
ratio vectorized / Python per step. Timings vary with the machine's load; the ratio is the
figure to compare. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gnncourse.walks import random_walks, to_csr  # noqa: E402


def python_walks(adj, starts, walk_length, p, q, rng):
    """The reference: one walker at a time, node2vec weights computed for every step."""
    walks = []
    for s in starts:
        walk = [s]
        while len(walk) <= walk_length:
            v = walk[-1]
            nbrs = adj[v]
            if not nbrs:
                walk.append(v)
                continue
            if len(walk) == 1 or (p == 1 and q == 1):
                walk.append(rng.choice(nbrs))
                continue
            t = walk[-2]
            t_nbrs = adj_sets[t]
            weights = [1 / p if x == t else (1.0 if x in t_nbrs else 1 / q) for x in nbrs]
            walk.append(rng.choices(nbrs, weights)[0])
        walks.append(walk)
    return walks


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench(name, edge_index, num_nodes, walkers, py_walkers, walk_length, repeats):
    global adj_sets
    rowptr, col = to_csr(edge_index, num_nodes)
    adj = [col[rowptr[v]:rowptr[v + 1]].tolist() for v in range(num_nodes)]
    adj_sets = [set(a) for a in adj]
    print(f"\n{name}: {num_nodes:,} nodes, {col.numel():,} directed edges, walk length {walk_length}")
    print(f"{'walk':>22} {'torch M steps/s':>16} {'python M steps/s':>17} {'ratio':>8}")
    for label, p, q in [("uniform (DeepWalk)", 1.0, 1.0), ("node2vec p=1, q=0.5", 1.0, 0.5),
                        ("node2vec p=0.25, q=4", 0.25, 4.0)]:
        start = torch.arange(walkers) % num_nodes
        gen = torch.Generator().manual_seed(0)
        sec = best_time(lambda: random_walks(rowptr, col, start, walk_length, p=p, q=q, generator=gen), repeats)
        torch_rate = walkers * walk_length / sec
        rng = random.Random(0)
        py_start = list(range(py_walkers))
        py_sec = best_time(lambda: python_walks(adj, py_start, walk_length, p, q, rng), 1)
        py_rate = py_walkers * walk_length / py_sec
        print(f"{label:>22} {torch_rate / 1e6:16.2f} {py_rate / 1e6:17.3f} {torch_rate / py_rate:7.0f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")

    from gnncourse.data import load_cora

    cora = load_cora()[0]
    bench("Cora", cora.edge_index, cora.num_nodes, walkers=10 * cora.num_nodes, py_walkers=2000,
          walk_length=40, repeats=args.repeats)

    # A random undirected graph with 500,000 edges each way: 1,000,000 directed edges.
    gen = torch.Generator().manual_seed(0)
    n = 100_000
    e = torch.randint(0, n, (2, 500_000), generator=gen)
    e = e[:, e[0] != e[1]]
    edge_index = torch.cat([e, e.flip(0)], dim=1)
    bench("Synthetic (1M edges)", edge_index, n, walkers=n, py_walkers=2000, walk_length=40,
          repeats=args.repeats)


if __name__ == "__main__":
    main()
