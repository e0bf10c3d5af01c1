"""Speed of the mean-aggregation layer against PyG's SAGEConv(aggr="mean"), same run.

    python benchmarks/bench_layers.py

Forward + backward of one layer on Cora (1433 -> 64) and on a random graph with 100K nodes
and 1M edges (64 -> 64), timed interleaved with ``benchmarks/_timing.py`` (warm-up, median,
ratio, goal: within 1.2x of PyG), so load from other processes affects both alike. Then the dense-vs-sparse crossover of the
matrix form Ã H at a fixed average degree of 10.
"""
from __future__ import annotations

import warnings

import torch

from _timing import race, report
from gnncourse.data import load_cora
from gnncourse.layers import MeanAggregation, mean_adjacency

warnings.filterwarnings("ignore", category=UserWarning)


def fwd_bwd(layer, x, edge_index):
    layer.zero_grad(set_to_none=True)
    layer(x, edge_index).sum().backward()


def compare(name, x, edge_index, out_channels, reps):
    torch.manual_seed(0)
    ours = MeanAggregation(x.size(1), out_channels)
    ref = ours.to_pyg()
    assert torch.allclose(ours(x, edge_index), ref(x, edge_index), atol=1e-4)
    t = race({"gnncourse": lambda: fwd_bwd(ours, x, edge_index),
              "PyG SAGEConv": lambda: fwd_bwd(ref, x, edge_index)}, repeats=reps)
    report(f"{name}: forward + backward", t, ours="gnncourse", reference="PyG SAGEConv", goal=1 / 1.2)


def crossover(avg_degree=10, feats=64, sizes=(16, 32, 64, 128, 250, 500, 1000, 2000, 4000, 8000)):
    print(f"\nmatrix form Ã H (F={feats}, average degree {avg_degree}): dense vs sparse CSR", flush=True)
    g = torch.Generator().manual_seed(0)
    rows = []
    for n in sizes:
        ei = torch.randint(0, n, (2, n * avg_degree), generator=g)
        x = torch.randn(n, feats, generator=g)
        dense, sparse = mean_adjacency(ei, n, layout="dense"), mean_adjacency(ei, n, layout="csr")
        t = race({"dense": lambda: dense @ x, "sparse": lambda: sparse @ x}, repeats=21 if n < 1000 else 5)
        d, sp = t["dense"].median, t["sparse"].median
        print(f"  |V|={n:6d}  dense {d * 1e3:8.2f} ms ({4 * n * n / 2**20:7.1f} MiB)   "
              f"sparse {sp * 1e3:7.2f} ms ({(12 * n * avg_degree + 8 * n) / 2**20:5.2f} MiB)   "
              f"dense/sparse {d / sp:6.1f}x", flush=True)
        rows.append((n, d / sp))
    faster = [n for n, r in rows if r > 1.0]
    print(f"  crossover: the sparse form is faster from |V| = {faster[0] if faster else 'never'} on "
          f"(at average degree {avg_degree})" if faster else "  no crossover in this range")
    ram = 16 * 2**30
    print(f"  a dense float32 Ã needs 4|V|^2 bytes: {int((ram / 4) ** 0.5):,} nodes fill 16 GiB")


if __name__ == "__main__":
    torch.set_num_threads(1)  # the course machines are shared; one thread gives stable ratios
    cora = load_cora()[0]
    compare("Cora (2708 nodes, 1433 -> 64)", cora.x, cora.edge_index, 64, reps=15)
    g = torch.Generator().manual_seed(0)
    n, e = 100_000, 1_000_000
    ei = torch.randint(0, n, (2, e), generator=g)
    x = torch.randn(n, 64, generator=g)
    compare("random (100K nodes, 1M edges, 64 -> 64)", x, ei, 64, reps=5)
    crossover()
