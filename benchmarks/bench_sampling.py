"""Mini-batch training by neighbour sampling on graphs of 0.1, 1 and 3 million nodes.

    python benchmarks/bench_sampling.py            # all three sizes (a few minutes)
    python benchmarks/bench_sampling.py --sizes 100000 --steps 10

For each size a fresh child process (so that its memory figures are its own) draws a
graph of the family in :class:`gnncourse.inductive.GraphFamily` (mean degree about 10, 16
features, 4 classes), builds the sampler's CSR, then trains a 2-layer
``MeanAggregationGNN`` for a fixed number of mini-batch steps (1,024 seeds, fanouts
(10, 5)). It prints:

* sampled nodes per second during training (sampling + forward + backward + update), and
  the sampler alone;
* the graph's own storage: the bytes of its tensors (features, labels, masks, edge_index)
  plus the CSR;
* memory, from the kernel's resident-set figures (``/proc/self/status``): ``VmRSS`` once
  the graph is built, and the peak ``VmHWM`` during training only (the peak counter is
  reset through ``/proc/self/clear_refs`` just before training starts). Resident memory
  counts everything the process holds, PyTorch's tensors included, which
  ``tracemalloc`` would miss (it sees only Python's own allocator). The difference,
  "training extra", is what training adds on top of the graph: it should not grow with
  the graph, unlike the activations a full-graph step would need, printed beside it.

Also, in the same run and on the same graph and seeds, the vectorized sampler against a
plain Python loop over nodes (``sample_neighbors_python``), timed with ``benchmarks/_timing.py``
(warm-up, interleaved, median): the ratio is the speed-up.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time

from _timing import race

MB = 2 ** 20


def _status(key: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def child(num_nodes: int, steps: int, compare_batches: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from gnncourse.inductive import GraphFamily
    from gnncourse.models import MeanAggregationGNN
    from gnncourse.sampling import NeighborBatches, sample_neighbors, sample_neighbors_python
    from gnncourse.train import seed_node_classification_step

    torch.manual_seed(0)
    fanouts, batch_size, hidden = [10, 5], 1024, 64
    t = time.perf_counter()
    data = GraphFamily(avg_degree=10).sample(num_nodes, seed=0, split=(0.5, 0.0, 0.0))
    loader = NeighborBatches(data, data.train_mask, batch_size=batch_size, fanouts=fanouts, shuffle=True, seed=0)
    build_s = time.perf_counter() - t
    graph_bytes = sum(v.numel() * v.element_size() for _, v in data if isinstance(v, torch.Tensor))
    graph_bytes += (loader.rowptr.numel() + loader.col.numel()) * 8

    model = MeanAggregationGNN(data.num_features, hidden, 4, dropout=0.2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    rss_graph = _status("VmRSS")
    reset = _reset_peak()
    sampled, t = 0, time.perf_counter()
    for i, batch in enumerate(loader):
        if i == steps:
            break
        opt.zero_grad()
        loss = seed_node_classification_step(model, batch)
        loss.backward()
        opt.step()
        sampled += batch.num_nodes
    train_s = time.perf_counter() - t
    peak_train = _status("VmHWM")

    # The sampler alone, vectorized against the Python loop, on the same seeds, interleaved.
    gen = torch.Generator().manual_seed(1)
    seed_sets = [torch.randperm(num_nodes, generator=gen)[:batch_size] for _ in range(compare_batches)]
    rng = random.Random(0)
    sampled_nodes = {}

    def run(name, sample, stream):
        sampled_nodes[name] = sum(sample(loader.rowptr, loader.col, s, fanouts, stream).num_nodes for s in seed_sets)

    t = race({"vectorized": lambda: run("vectorized", sample_neighbors, gen),
              "loop": lambda: run("loop", sample_neighbors_python, rng)}, repeats=3)
    vec_nodes, vec_s = sampled_nodes["vectorized"], t["vectorized"].median
    loop_nodes, loop_s = sampled_nodes["loop"], t["loop"].median

    # What one full-graph training step would keep for back-propagation: input, hidden
    # pre-activation, ReLU output, dropout masks and outputs, aggregated means (float32).
    full_act = num_nodes * (2 * data.num_features + 5 * hidden + 3 * 4) * 4
    return dict(
        nodes=num_nodes, edges=int(data.num_edges), build_s=build_s, steps=min(steps, len(loader)),
        train_nodes_per_s=sampled / train_s, nodes_per_batch=sampled / max(1, min(steps, len(loader))),
        graph_mb=graph_bytes / MB, rss_graph_mb=rss_graph / MB,
        peak_train_mb=peak_train / MB if reset else float("nan"),
        extra_mb=(peak_train - rss_graph) / MB if reset else float("nan"),
        full_act_mb=full_act / MB, peak_process_mb=_status("VmHWM") / MB,
        vec_nodes_per_s=vec_nodes / vec_s, loop_nodes_per_s=loop_nodes / loop_s, loss=float(loss),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--steps", type=int, nargs="+", default=[20, 20, 8],
                        help="training steps per size (the 3M run is kept short)")
    parser.add_argument("--compare-batches", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: the same single core as the Python loop it is compared with)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.steps[0], args.compare_batches, args.threads)))
        return

    steps = args.steps + [args.steps[-1]] * (len(args.sizes) - len(args.steps))
    print(f"torch threads: {args.threads}; fanouts (10, 5), 1,024 seeds per step, "
          "hidden 64, 16 features; memory = resident set (/proc/self/status)")
    rows = []
    for n, s in zip(args.sizes, steps):
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--steps", str(s),
                              "--compare-batches", str(args.compare_batches), "--threads", str(args.threads)],
                             check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"\n{n:,} nodes, {r['edges']:,} directed edges: built in {r['build_s']:.1f} s; "
              f"{r['steps']} steps, {r['nodes_per_batch']:,.0f} sampled nodes per batch")
        print(f"  training: {r['train_nodes_per_s']:,.0f} sampled nodes/s (sample + forward + backward + step)")
        print(f"  sampler alone: vectorized {r['vec_nodes_per_s']:,.0f} nodes/s, Python loop "
              f"{r['loop_nodes_per_s']:,.0f} nodes/s, ratio {r['vec_nodes_per_s'] / r['loop_nodes_per_s']:.1f}x")
        print(f"  memory: graph storage {r['graph_mb']:,.0f} MB; RSS with graph {r['rss_graph_mb']:,.0f} MB; "
              f"peak during training {r['peak_train_mb']:,.0f} MB (training extra {r['extra_mb']:,.0f} MB); "
              f"a full-graph step would need ~{r['full_act_mb']:,.0f} MB of activations")

    print("\nsummary (MB)")
    print(f"{'nodes':>10}{'graph':>9}{'RSS+graph':>11}{'train peak':>12}{'extra':>8}{'full-graph act.':>17}{'nodes/s':>11}{'vec/loop':>10}")
    for r in rows:
        print(f"{r['nodes']:>10,}{r['graph_mb']:>9,.0f}{r['rss_graph_mb']:>11,.0f}{r['peak_train_mb']:>12,.0f}"
              f"{r['extra_mb']:>8,.0f}{r['full_act_mb']:>17,.0f}{r['train_nodes_per_s']:>11,.0f}"
              f"{r['vec_nodes_per_s'] / r['loop_nodes_per_s']:>9.1f}x")
    first, last = rows[0], rows[-1]
    if len(rows) > 1:
        print(f"\nfrom {first['nodes']:,} to {last['nodes']:,} nodes: graph storage x{last['graph_mb'] / first['graph_mb']:.0f}, "
              f"RSS with graph +{last['rss_graph_mb'] - first['rss_graph_mb']:,.0f} MB, "
              f"training extra {first['extra_mb']:,.0f} -> {last['extra_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
