"""Speed of the package's GCN, GAT and GIN layers against PyG's, forward + backward, same run.

    python benchmarks/bench_convs.py [--nodes 100000] [--edges 1000000] [--repeats 7]

One layer, 64 -> 64 features (GAT: 8 heads x 8), on a random directed graph with 100K
nodes and 1M edges. Both sides start from the same weights, and the outputs are checked
equal before timing. Goal (issue 17): the package within 1.3x of PyG (ratio >= 0.77).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch
from torch_geometric.nn import GATConv, GCNConv, GINConv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import race, report  # noqa: E402

from gnncourse.convs import GATLayer, GCNLayer, GINLayer  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning)
GOAL = 0.77  # within 1.3x of PyG


def pairs(f: int):
    """(name, ours, PyG's) with copied weights."""
    torch.manual_seed(0)
    gcn, gcn_ref = GCNLayer(f, f), GCNConv(f, f)
    gat, gat_ref = GATLayer(f, f // 8, heads=8), GATConv(f, f // 8, heads=8)
    gin = GINLayer(f, f, batch_norm=False)
    gin_ref = GINConv(torch.nn.Sequential(*[type(m)(m.in_features, m.out_features) if isinstance(m, torch.nn.Linear)
                                             else type(m)() for m in gin.mlp]))
    with torch.no_grad():
        gcn_ref.lin.weight.copy_(gcn.lin.weight)
        for name in ("att_src", "att_dst"):
            getattr(gat_ref, name).copy_(getattr(gat, name))
        gat_ref.lin.weight.copy_(gat.lin.weight)
        gin_ref.nn.load_state_dict(gin.mlp.state_dict())
    return [("GCN", gcn, gcn_ref), ("GAT", gat, gat_ref), ("GIN", gin, gin_ref)]


def fwd_bwd(layer, x, edge_index):
    def run():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x, edge_index).sum().backward()
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, args.nodes, (2, args.edges), generator=g)
    x = torch.randn(args.nodes, args.features, generator=g).requires_grad_()
    print(f"random graph: {args.nodes:,} nodes, {args.edges:,} edges, {args.features} features; "
          f"forward + backward, {torch.get_num_threads()} threads")
    ok = True
    for name, ours, ref in pairs(args.features):
        with torch.no_grad():
            assert torch.allclose(ours(x, edge_index), ref(x, edge_index), atol=1e-4), name
        timings = race({"gnncourse": fwd_bwd(ours, x, edge_index), "PyG": fwd_bwd(ref, x, edge_index)},
                       repeats=args.repeats, warmup=1)
        ok &= report(f"{name}: one layer, forward + backward", timings, ours="gnncourse", reference="PyG", goal=GOAL)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
