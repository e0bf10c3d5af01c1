"""Walk throughput: ``gnncourse.walks.random_walks`` against the walk libraries a user would pick.

    python benchmarks/bench_walks.py                      # every row, steady and cold
    python benchmarks/bench_walks.py --no-cold --repeats 5
    python benchmarks/bench_walks.py --write              # also store benchmarks/results/walks.md

Peers, each timed when installed (``pip install -e .[bench]``) and skipped with one line
when not:

* pecanpy (numba): ``FirstOrderUnweighted`` (uniform walks only), ``PreComp`` (tables of
  second-order transition probabilities, built once) and ``SparseOTF`` (on the fly);
* fastnode2vec (numba): its walk kernel, one walker per ``prange`` iteration;
* ensmallen, the engine of GRAPE (Rust): ``complete_walks`` with ``max_neighbours=None``
  (its default of 100 subsamples neighbours, an approximation). Its second-order walks are
  biased whenever p != 1 (the issue that asked for this benchmark found it), so it is a
  peer for p = 1 only.

Graphs and settings: Cora (10 walks per node, length 40) and a random undirected graph of
100,000 nodes and 1,000,000 directed edges (1 walk per node, length 40); uniform walks,
(p=1, q=0.5) and (p=0.25, q=4); 1 and 2 threads (torch, numba, OpenMP and rayon all set).

Two measurements per contender:

* **steady**: one worker process per thread count builds every contender once (numba JIT,
  pecanpy's tables, ensmallen's graph), checks its output, then times the contenders
  interleaved (``_timing.race``: warm-up, repeats, median) on the same walks;
* **cold**: a fresh process per contender, timed from before the library's import to the
  end of its first walk: import, graph structure from the edge list, JIT or tables, walk.
  This is what a reader who runs chapter 1 once gets.

A peer's output is checked (every consecutive pair of a walk is an edge, or a node without
neighbours repeating itself); a peer that fails is reported and is no target. Timings vary
with the machine's load: the ratios, from one run, are the figures to compare.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

WALK_LENGTH = 40
GRAPHS = {"Cora": 10, "1M edges": 1}  # walks per node
SETTINGS = {"uniform": (1.0, 1.0), "p=1, q=0.5": (1.0, 0.5), "p=0.25, q=4": (0.25, 4.0)}
OURS = "gnncourse"
OURS_TABLES = "gnncourse tables=True"  # node2vec from per-edge tables whatever the graph's size
PEERS = ["pecanpy FirstOrderUnweighted", "pecanpy PreComp", "pecanpy SparseOTF", "fastnode2vec", "ensmallen"]


# ---------------------------------------------------------------------------- graphs

def make_graphs(folder: Path) -> None:
    """Write each graph's directed edge list (both directions, no duplicates) as .npy."""
    import torch

    from gnncourse.data import load_cora

    cora = load_cora()[0]
    np.save(folder / "Cora.npy", _dedup(cora.edge_index.numpy(), cora.num_nodes))
    gen = torch.Generator().manual_seed(0)
    n = 100_000
    e = torch.randint(0, n, (2, 500_000), generator=gen)
    e = e[:, e[0] != e[1]]
    np.save(folder / "1M edges.npy", _dedup(torch.cat([e, e.flip(0)], 1).numpy(), n))
    (folder / "nodes.json").write_text(json.dumps({"Cora": cora.num_nodes, "1M edges": n}))


def _dedup(edge_index: np.ndarray, n: int) -> np.ndarray:
    key = np.unique(edge_index[0].astype(np.int64) * n + edge_index[1])
    return np.stack([key // n, key % n])


def load_graph(folder: Path, name: str):
    edges = np.load(folder / f"{name}.npy")
    n = json.loads((folder / "nodes.json").read_text())[name]
    return edges, n


def csr_numpy(edges: np.ndarray, n: int):
    """CSR of a sorted, duplicate-free edge list (as numpy arrays)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(edges[0], minlength=n), out=indptr[1:])
    return indptr, edges[1].copy()


def check_walks(walks: np.ndarray, edges: np.ndarray, n: int) -> str:
    """'' if every step of every walk follows an edge (or stays at a node without any)."""
    key = np.sort(edges[0].astype(np.int64) * n + edges[1])
    deg = np.bincount(edges[0], minlength=n)
    a, b = walks[:, :-1].astype(np.int64).ravel(), walks[:, 1:].astype(np.int64).ravel()
    query = a * n + b
    pos = np.minimum(np.searchsorted(key, query), key.size - 1)
    ok = (key[pos] == query) | ((deg[a] == 0) & (a == b))
    return "" if ok.all() else f"{int((~ok).sum())} of {ok.size} steps are not edges"


# ---------------------------------------------------------------------------- contenders
# Each builder takes (edges, n, walks_per_node, p, q, threads) and returns a zero-argument
# function that walks and returns the walks as a [W, L + 1] array of node ids, or raises
# Unsupported for a setting it does not cover. Building includes the library's import.

class Unsupported(Exception):
    pass


def build_gnncourse(edges, n, per_node, p, q, threads):
    import torch

    from gnncourse.walks import random_walks, to_csr

    torch.set_num_threads(threads)
    rowptr, col = to_csr(torch.from_numpy(edges), n)
    start = torch.arange(n).repeat(per_node)
    gen = torch.Generator().manual_seed(0)
    return lambda: random_walks(rowptr, col, start, WALK_LENGTH, p=p, q=q, generator=gen).numpy()


def build_gnncourse_tables(edges, n, per_node, p, q, threads):
    if (p, q) == (1.0, 1.0):
        raise Unsupported("node2vec walks only")
    import torch

    from gnncourse.walks import random_walks, to_csr

    torch.set_num_threads(threads)
    rowptr, col = to_csr(torch.from_numpy(edges), n)
    start = torch.arange(n).repeat(per_node)
    gen = torch.Generator().manual_seed(0)
    return lambda: random_walks(rowptr, col, start, WALK_LENGTH, p=p, q=q, generator=gen, tables=True).numpy()


def _numpy_aliases_for_nptyping():
    # pecanpy 2.0.9 imports nptyping 2.5, which reads aliases NumPy 2 removed (np.bool8, ...)
    for old, new in [("bool8", "bool_"), ("object0", "object_"), ("int0", "intp"), ("uint0", "uintp"),
                     ("float_", "float64"), ("complex_", "complex128"), ("unicode_", "str_"),
                     ("string_", "bytes_"), ("longfloat", "longdouble"), ("singlecomplex", "complex64"),
                     ("cfloat", "complex128"), ("clongfloat", "clongdouble"), ("longcomplex", "clongdouble"),
                     ("void0", "void"), ("bytes0", "bytes_"), ("str0", "str_")]:
        if not hasattr(np, old):
            setattr(np, old, getattr(np, new))


def _pecanpy(mode):
    def build(edges, n, per_node, p, q, threads):
        if mode == "FirstOrderUnweighted" and (p, q) != (1.0, 1.0):
            raise Unsupported("uniform walks only")
        _numpy_aliases_for_nptyping()
        import numba
        from numba_progress import ProgressBar
        from pecanpy import pecanpy as pp

        numba.set_num_threads(threads)
        g = getattr(pp, mode)(p=p, q=q, workers=threads)
        indptr, indices = csr_numpy(edges, n)
        g.indptr, g.indices = indptr.astype(np.uint32), indices.astype(np.uint32)
        g.data = np.ones(indices.size, dtype=np.float32)
        g.set_node_ids(None, implicit_ids=True, num_nodes=n)
        g.preprocess_transition_probs()  # PreComp's tables; nothing for the others
        move_forward, has_nbrs = g.get_move_forward(), g.get_has_nbrs()
        start = np.tile(np.arange(n, dtype=np.uint32), per_node)

        def run():
            # pecanpy's own kernel, as simulate_walks calls it, without simulate_walks'
            # fresh closures (a recompile per call) and its conversion to lists of strings
            with ProgressBar(total=start.size, disable=True) as bar:
                out = g._random_walks(start.size, WALK_LENGTH, None, start, has_nbrs, move_forward, bar)
            walks, length = out[:, :WALK_LENGTH + 1], out[:, -1]
            short = length <= WALK_LENGTH  # stopped at a node without neighbours: it stays
            for i in np.flatnonzero(short):
                walks[i, length[i]:] = walks[i, length[i] - 1]
            return walks
        return run
    return build


def build_fastnode2vec(edges, n, per_node, p, q, threads):
    import numba
    from fastnode2vec.graph import _random_walk
    from numba import njit, prange

    numba.set_num_threads(threads)
    indptr, indices = csr_numpy(edges, n)
    indptr, indices = indptr.astype(np.int64), indices.astype(np.int32)

    @njit(parallel=True, nogil=True)
    def walks_kernel(indptr, indices, length, p, q, start):
        out = np.empty((start.size, length), dtype=indices.dtype)
        for i in prange(start.size):
            w = _random_walk(indptr, indices, length, p, q, start[i])
            out[i, :w.size] = w
            out[i, w.size:] = w[w.size - 1]  # a walk stopped at a node without neighbours
        return out

    start = np.tile(np.arange(n, dtype=np.int32), per_node)
    return lambda: walks_kernel(indptr, indices, WALK_LENGTH + 1, p, q, start)


def build_ensmallen(edges, n, per_node, p, q, threads):
    if p != 1.0:
        raise Unsupported("biased for p != 1: no valid peer")
    import pandas as pd
    from ensmallen import Graph

    names = np.arange(n).astype(str)
    once = edges[:, edges[0] <= edges[1]]  # node2vec walks need an undirected ensmallen graph
    graph = Graph.from_pd(
        edges_df=pd.DataFrame({"subject": names[once[0]], "object": names[once[1]]}),
        nodes_df=pd.DataFrame({"name": names}), node_name_column="name",
        edge_src_column="subject", edge_dst_column="object", directed=False)
    ids = np.array([graph.get_node_name_from_node_id(i) for i in range(n)]).astype(np.int64)

    def run():
        walks = np.asarray(graph.complete_walks(
            walk_length=WALK_LENGTH + 1, return_weight=1.0 / p, explore_weight=1.0 / q,
            iterations=per_node, max_neighbours=None))
        return ids[walks]  # back to our node ids
    return run


BUILDERS = {OURS: build_gnncourse, OURS_TABLES: build_gnncourse_tables, "pecanpy FirstOrderUnweighted": _pecanpy("FirstOrderUnweighted"),
            "pecanpy PreComp": _pecanpy("PreComp"), "pecanpy SparseOTF": _pecanpy("SparseOTF"),
            "fastnode2vec": build_fastnode2vec, "ensmallen": build_ensmallen}


def installed(name: str) -> bool:
    import importlib.util

    module = {OURS: "gnncourse", OURS_TABLES: "gnncourse", "fastnode2vec": "fastnode2vec", "ensmallen": "ensmallen"}.get(name, "pecanpy")
    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------------------- workers

def worker_steady(folder: Path, threads: int, repeats: int) -> None:
    """Build every contender once, check it, then race them per (graph, setting)."""
    from _timing import race

    for graph, per_node in GRAPHS.items():
        edges, n = load_graph(folder, graph)
        steps = n * per_node * WALK_LENGTH
        for setting, (p, q) in SETTINGS.items():
            runs, notes = {}, {}
            for name, build in BUILDERS.items():
                if not installed(name):
                    notes[name] = "not installed"
                    continue
                try:
                    run = build(edges, n, per_node, p, q, threads)
                    bad = check_walks(run(), edges, n)  # also the warm-up: JIT, tables
                except Unsupported as err:
                    notes[name] = str(err)
                    continue
                if bad:
                    notes[name] = f"wrong walks: {bad}"
                    continue
                runs[name] = run
            timings = race(runs, repeats=repeats, warmup=1)
            for name, t in timings.items():
                print(json.dumps({"kind": "steady", "graph": graph, "setting": setting, "threads": threads,
                                  "name": name, "median": t.median, "min": t.min, "steps": steps}), flush=True)
            for name, note in notes.items():
                print(json.dumps({"kind": "steady", "graph": graph, "setting": setting, "threads": threads,
                                  "name": name, "note": note}), flush=True)


def worker_cold(folder: Path, threads: int, name: str, graph: str, setting: str) -> None:
    edges, n = load_graph(folder, graph)
    p, q = SETTINGS[setting]
    t0 = time.perf_counter()
    try:
        BUILDERS[name](edges, n, GRAPHS[graph], p, q, threads)()
    except Unsupported as err:
        print(json.dumps({"note": str(err)}))
        return
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def child(args: list, threads: int) -> list:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               NUMBA_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads),
               # numba's OpenMP layer shares libgomp with torch; its spinning threads slowed
               # torch's own and a worker hung at exit: the workqueue layer avoids both
               NUMBA_THREADING_LAYER="workqueue")
    out = subprocess.run([sys.executable, __file__, *args, "--threads", str(threads)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------------------- report

def table(rows: list, cold: dict) -> list:
    """One line per (graph, setting, threads): ours, best correct peer, ratios."""
    lines = []
    keys = sorted({(r["graph"], r["setting"], r["threads"]) for r in rows},
                  key=lambda k: (list(GRAPHS).index(k[0]), list(SETTINGS).index(k[1]), k[2]))
    for key in keys:
        timed = {r["name"]: r for r in rows if (r["graph"], r["setting"], r["threads"]) == key and "median" in r}
        if OURS not in timed:
            continue
        rate = {name: r["steps"] / r["median"] / 1e6 for name, r in timed.items()}
        peers = {name: v for name, v in rate.items() if name not in (OURS, OURS_TABLES)}
        best = max(peers, key=peers.get) if peers else None
        cold_ours = cold.get(key + (OURS,))
        cold_peers = {name: s for (g, st, th, name), s in cold.items()
                      if (g, st, th) == key and name not in (OURS, OURS_TABLES)}
        cold_best = min(cold_peers, key=cold_peers.get) if cold_peers else None
        lines.append(dict(
            graph=key[0], setting=key[1], threads=key[2], ours=rate[OURS],
            peer=best, peer_rate=peers.get(best), ratio=rate[OURS] / peers[best] if best else None,
            cold_ours=cold_ours, cold_peer=cold_best, cold_peer_s=cold_peers.get(cold_best),
            cold_ratio=(cold_peers[cold_best] / cold_ours) if cold_best and cold_ours else None,
            tables=rate.get(OURS_TABLES), tables_ratio=rate[OURS_TABLES] / peers[best] if best and OURS_TABLES in rate else None,
            cold_tables=cold.get(key + (OURS_TABLES,))))
    return lines


def markdown(lines: list, header: str) -> str:
    out = [header, "",
           "| graph | walks | threads | gnncourse M steps/s | best correct peer | ratio | "
           "cold: gnncourse s | cold: fastest peer s | cold ratio | tables=True: M steps/s, ratio, cold s |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in lines:
        peer = f"{r['peer_rate']:.1f} ({r['peer']})" if r["peer"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        cold_o = f"{r['cold_ours']:.2f}" if r["cold_ours"] else "-"
        cold_p = f"{r['cold_peer_s']:.2f} ({r['cold_peer']})" if r["cold_peer"] else "-"
        cold_r = f"{r['cold_ratio']:.1f}" if r["cold_ratio"] else "-"
        tables = "-"
        if r["tables"]:
            tables = f"{r['tables']:.1f}, {r['tables_ratio']:.2f}" if r["tables_ratio"] else f"{r['tables']:.1f}"
            tables += f", {r['cold_tables']:.2f}" if r["cold_tables"] else ""
        out.append(f"| {r['graph']} | {r['setting']} | {r['threads']} | {r['ours']:.1f} | {peer} | {ratio} | "
                   f"{cold_o} | {cold_p} | {cold_r} | {tables} |")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=str, default="1,2", help="thread counts, e.g. 1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-process (cold) calls")
    parser.add_argument("--write", action="store_true", help="store the table in benchmarks/results/walks.md")
    parser.add_argument("--worker", choices=["steady", "cold"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--graph", help=argparse.SUPPRESS)
    parser.add_argument("--setting", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "steady":
        return worker_steady(Path(args.folder), int(args.threads), args.repeats)
    if args.worker == "cold":
        return worker_cold(Path(args.folder), int(args.threads), args.name, args.graph, args.setting)

    thread_counts = [int(t) for t in args.threads.split(",")]
    for name in PEERS:
        if not installed(name):
            print(f"skipping {name}: not installed (pip install -e .[bench])")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_graphs(folder)
        rows = []
        for threads in thread_counts:
            rows += child(["--worker", "steady", "--folder", tmp, "--repeats", str(args.repeats)], threads)
        cold = {}
        if not args.no_cold:
            for threads in thread_counts:
                for graph in GRAPHS:
                    for setting in SETTINGS:
                        for name in [OURS, OURS_TABLES] + PEERS:
                            ok = any(r["name"] == name and "median" in r and r["graph"] == graph
                                     and r["setting"] == setting and r["threads"] == threads for r in rows)
                            if not ok:  # not installed, unsupported or wrong: no cold call either
                                continue
                            res = child(["--worker", "cold", "--folder", tmp, "--name", name, "--graph", graph,
                                         "--setting", setting], threads)
                            if res and "seconds" in res[0]:
                                cold[(graph, setting, threads, name)] = res[0]["seconds"]

    print(f"\nsteady state: median of {args.repeats} interleaved calls after a warm-up; M walk steps per second")
    for r in rows:
        if "median" in r:
            print(f"  {r['graph']:>9} | {r['setting']:>12} | {r['threads']} thr | {r['name']:<29} "
                  f"{r['steps'] / r['median'] / 1e6:8.1f}  (best {r['steps'] / r['min'] / 1e6:.1f})")
        else:
            print(f"  {r['graph']:>9} | {r['setting']:>12} | {r['threads']} thr | {r['name']:<29} skipped: {r['note']}")
    if cold:
        print("\ncold call (fresh process: import, graph, JIT or tables, first walk), seconds")
        for (graph, setting, threads, name), s in cold.items():
            print(f"  {graph:>9} | {setting:>12} | {threads} thr | {name:<29} {s:8.2f}")
    import torch

    header = (f"Measured by `python benchmarks/bench_walks.py` on {os.cpu_count()} CPU cores, torch "
              f"{torch.__version__}, load average {os.getloadavg()[0]:.1f} at the end. Steady: M walk steps/s, "
              f"median of {args.repeats} interleaved calls after a warm-up; ratio = gnncourse / best correct "
              "peer. Cold: seconds for a fresh process's first walk (import, graph, JIT or tables, walk); "
              "cold ratio = fastest peer's seconds / gnncourse's. ensmallen is no peer for p != 1 "
              "(biased walks). Last column: gnncourse with `tables=True` (node2vec steps from per-edge "
              "tables whatever the graph's size; the default takes them on Cora only): its speed, "
              "ratio to the best peer and cold call.")
    text = markdown(table(rows, cold), header)
    wrong = sorted({(r["name"], r["graph"], r["setting"], r["note"]) for r in rows
                    if "note" in r and r["note"].startswith("wrong")})
    if wrong:
        text += "\nExcluded as wrong (a step that is no edge): " + "; ".join(
            f"{name} on {graph}, {setting} ({note})" for name, graph, setting, note in wrong) + ".\n"
    print("\n" + text)
    if args.write:
        out = HERE / "results" / "walks.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text("# Random-walk throughput against the peers\n\n" + text)
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
