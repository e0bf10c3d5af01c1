"""Where the time of ``gnncourse.walks.random_walks`` goes, per (graph, walks, threads).

    python benchmarks/profile_walks.py                    # every row of bench_walks.py
    python benchmarks/profile_walks.py --graphs Cora --settings uniform --threads 2
    python benchmarks/profile_walks.py --write            # store benchmarks/results/walks_profile.md

The graphs, walk settings and walk counts are those of ``bench_walks.py`` (Cora: 10 walks
per node; a random graph of 100,000 nodes and 1M directed edges: 1 walk per node; length
40). For every row it prints:

* **wall**: seconds per call and nanoseconds per walk step, median of ``--repeats`` calls
  without any profiler, after a warm-up;
* **chunks**: how the walkers are split (``walks.walker_chunks``) and, per chunk, when it started
  and ended and how much CPU time its thread used (``time.thread_time``). With 2 threads the
  *overlap* is the share of the call during which two chunks ran at once, and
  *CPU / wall* is how many cores the call kept busy (2.0 = both, all the time);
* **ops**: from ``torch.profiler``, one more call: the number of top-level torch operations
  per walk step, the self time per operation name, and the time inside operations against
  the time outside them (Python, dispatch, waiting for the GIL). The profiler adds a few
  microseconds to every operation, so its wall time is longer than the clean one; the
  split is read from the profiled call, the speed from the clean ones;
* **inside ops, both threads busy**: with 2 threads, the share of the profiled call
  during which both threads were inside a torch operation at once.

Results vary with the machine's load: the script prints the load average with every row.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_walks import GRAPHS, SETTINGS, WALK_LENGTH, load_graph, make_graphs  # noqa: E402


def _union(intervals):
    """Total length of a union of intervals, and the merged intervals."""
    merged = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return sum(b - a for a, b in merged), merged


def _intersection(x, y):
    """Length of the intersection of two sorted lists of disjoint intervals."""
    i = j = 0
    total = 0.0
    while i < len(x) and j < len(y):
        lo, hi = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        total += max(0.0, hi - lo)
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


class ChunkClock:
    """Wraps ``walks._walk_chunk`` to record each chunk's thread, start, end and CPU time,
    and ``walks._node2vec_proposals`` to count the rejection rounds and their proposals."""

    def __init__(self, walks_module):
        self.module, self.records, self.rounds, self.proposals = walks_module, [], 0, 0
        self.inner = walks_module._walk_chunk, walks_module._node2vec_proposals

    def __enter__(self):
        walk_chunk, proposals = self.inner

        def timed(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.thread_time()
            walk_chunk(*args, **kwargs)
            self.records.append((threading.get_ident(), t0, time.perf_counter(), time.thread_time() - c0))

        def counted(g, t, *args, **kwargs):
            self.rounds += 1  # a plain += under the GIL: good enough for a count
            self.proposals += t.numel()
            return proposals(g, t, *args, **kwargs)

        self.module._walk_chunk, self.module._node2vec_proposals = timed, counted
        return self

    def __exit__(self, *exc):
        self.module._walk_chunk, self.module._node2vec_proposals = self.inner


def profile_row(edges, n, per_node, p, q, threads, repeats):
    import torch
    from torch.profiler import ProfilerActivity, profile

    from gnncourse import walks
    from gnncourse.walks import random_walks, to_csr

    torch.set_num_threads(threads)
    rowptr, col = to_csr(torch.from_numpy(edges), n)
    start = torch.arange(n).repeat(per_node)
    gen = torch.Generator().manual_seed(0)
    steps = start.numel() * WALK_LENGTH

    def call():
        return random_walks(rowptr, col, start, WALK_LENGTH, p=p, q=q, generator=gen)

    load_before = os.getloadavg()[0]
    call()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    wall = statistics.median(times)

    setup = []
    for _ in range(3):  # the graph's set-up, built by a call's first use of a graph (on one thread, as there)
        torch.set_num_threads(1)
        t0 = time.perf_counter()
        walks.GraphSetUp(rowptr, col, not (p == 1 and q == 1), p, q, steps=steps)
        setup.append(time.perf_counter() - t0)
        torch.set_num_threads(threads)

    calls = []
    for _ in range(3):  # the chunks' timeline of three more calls; the median one is shown
        with ChunkClock(walks) as clock:
            t0 = time.perf_counter()
            call()
            calls.append((time.perf_counter() - t0, clock))
    chunk_wall, clock = sorted(calls, key=lambda c: c[0])[1]
    chunks = sorted(clock.records, key=lambda r: r[1])
    cpu = sum(c for *_, c in chunks)
    by_thread = defaultdict(list)
    for ident, a, b, _ in chunks:
        by_thread[ident].append((a, b))
    unions = [_union(v)[1] for v in by_thread.values()]
    overlap = _intersection(unions[0], unions[1]) / chunk_wall if len(unions) == 2 else 0.0

    config = torch._C._profiler._ExperimentalConfig(profile_all_threads=True)  # the pool's threads too
    with profile(activities=[ProfilerActivity.CPU], experimental_config=config) as prof:
        t0 = time.perf_counter()
        call()
        prof_wall = time.perf_counter() - t0
    events = [e for e in prof.events() if e.cpu_parent is None and not e.name.startswith("ProfilerStep")]
    ops_by_thread = defaultdict(list)
    self_time = defaultdict(float)
    count = defaultdict(int)
    for e in prof.events():
        self_time[e.name] += e.self_cpu_time_total / 1e6
    for e in events:
        ops_by_thread[e.thread].append((e.time_range.start / 1e6, e.time_range.end / 1e6))
        count[e.name] += 1
    inside = {t: _union(v) for t, v in ops_by_thread.items()}
    walker_threads = sorted(inside, key=lambda t: -inside[t][0])[:2]
    inside_total = sum(inside[t][0] for t in inside)
    both_busy = (_intersection(inside[walker_threads[0]][1], inside[walker_threads[1]][1]) / prof_wall
                 if len(walker_threads) == 2 else 0.0)
    return dict(
        walkers=start.numel(), steps=steps, wall=wall, setup=statistics.median(setup), ns_per_step=wall / steps * 1e9, rate=steps / wall / 1e6,
        chunks=[(b - a, c) for _, a, b, c in chunks], chunk_sizes=[b - a for a, b in walks.walker_chunks(start.numel())],
        threads_used=len(by_thread), overlap=overlap, rounds=clock.rounds / WALK_LENGTH,
        proposals=clock.proposals / steps, cpu_per_wall=cpu / chunk_wall, chunk_wall=chunk_wall,
        prof_wall=prof_wall, ops=len(events), ops_per_step=len(events) / WALK_LENGTH,
        inside_total=inside_total, inside_share=inside_total / (prof_wall * max(1, len(by_thread))),
        both_busy=both_busy,
        self_time=sorted(self_time.items(), key=lambda kv: -kv[1])[:8], count=count, table=walks_graph_kind(
            walks, rowptr, col, p, q, steps),
        load=(load_before, os.getloadavg()[0]))


def walks_graph_kind(walks, rowptr, col, p, q, steps):
    """Which node2vec step the row uses: 'uniform', 'tables' or 'rejection'."""
    if p == 1 and q == 1:
        return "uniform"
    deg = rowptr[1:] - rowptr[:-1]
    entries = int(deg.clamp(min=1).double().pow(2).sum())
    return "tables" if entries <= steps * walks.TABLE_ENTRIES_PER_STEP else "rejection"


def format_row(graph, setting, threads, r) -> str:
    lines = [f"### {graph}, {setting}, {threads} thread{'s' if threads > 1 else ''} ({r['table']})", "",
             "- load average {:.1f} before, {:.1f} after; ".format(*r["load"]) + f"{r['walkers']:,} walkers in chunks of "
             f"{', '.join(f'{c:,}' for c in r['chunk_sizes'])}",
             f"- wall {r['wall'] * 1e3:.1f} ms per call = {r['ns_per_step']:.1f} ns per walk step "
             f"({r['rate']:.1f} M steps/s; median of the clean calls)",
             f"- graph set-up (CSR without sinks, edge set, tables) {r['setup'] * 1e3:.1f} ms "
             f"(= {r['setup'] / r['wall']:.0%} of a call's wall; the first call on a graph pays it, later ones "
             "reuse it)",
             f"- chunks (one call, {r['chunk_wall'] * 1e3:.1f} ms): ran on {r['threads_used']} thread(s); "
             "seconds and CPU seconds per chunk " + ", ".join(f"{w * 1e3:.1f}/{c * 1e3:.1f} ms" for w, c in r["chunks"])
             + f"; CPU / wall {r['cpu_per_wall']:.2f}"
             + (f"; two chunks running at once {r['overlap']:.0%} of the call" if threads > 1 else ""),
             f"- profiled call {r['prof_wall'] * 1e3:.1f} ms: {r['ops']:,} top-level torch ops "
             f"= {r['ops_per_step']:.1f} per step; inside ops {r['inside_total'] * 1e3:.1f} ms "
             f"({r['inside_share']:.0%} of the walker threads' wall time), the rest Python, dispatch and GIL"
             + (f"; both threads inside an op at once {r['both_busy']:.0%} of the call" if threads > 1 else ""),
             *([f"- rejection: {r['rounds']:.1f} proposal rounds per step (all chunks), "
                f"{r['proposals']:.2f} proposals per walker step"] if r["table"] == "rejection" else []),
             "- self time by op: " + ", ".join(f"{name} {t * 1e3:.1f} ms" for name, t in r["self_time"]),
             ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default=",".join(GRAPHS))
    parser.add_argument("--settings", default=";".join(SETTINGS), help="';'-separated, e.g. 'uniform;p=1, q=0.5'")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="store benchmarks/results/walks_profile.md")
    args = parser.parse_args()
    import torch

    out = [f"Measured by `python benchmarks/profile_walks.py` on {os.cpu_count()} CPU cores "
           f"({_cpu_name()}), torch {torch.__version__}.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_graphs(folder)
        for graph in args.graphs.split(","):
            edges, n = load_graph(folder, graph)
            for setting in args.settings.split(";"):
                p, q = SETTINGS[setting]
                for threads in (int(t) for t in args.threads.split(",")):
                    text = format_row(graph, setting, threads,
                                      profile_row(edges, n, GRAPHS[graph], p, q, threads, args.repeats))
                    print(text, flush=True)
                    out.append(text)
    if args.write:
        path = HERE / "results" / "walks_profile.md"
        path.write_text("# Where the walk time goes\n\n" + "\n".join(out))
        print(f"wrote {path.relative_to(ROOT)}")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
