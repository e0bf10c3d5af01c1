"""Measure how much a chapter's checked numbers move, and write its tolerance file.

    python tools/measure_spread.py chapters/03_training.ipynb [...] \
        [--seeds 0-4] [--kernels native,default] [--jobs 2]

Executes each chapter once per seed and CPU kernel setting: the seed replaces ``SEED = 0``
in the chapter's first code cell (a chapter without that line runs with its own seeds
only), the kernel setting is PyTorch's ``ATEN_CPU_CAPABILITY`` (``native``: unset, the
best kernels of this CPU). Two runs side by side (``--jobs 2``) get one thread each, so
that they do not fight over the two cores. Runs are cached in ``_build/spread/``, keyed by the
chapter's code cells and the package's source, so that an interrupted measurement resumes.
Then, for every line printed by a cell tagged ``nbval-check-output``:

- a number that differs between kernel settings at the same seed, or a fraction that
  differs between runs at all, is *measured*: it gets a tolerance of twice its range over
  all runs (seeds and kernels), at least one unit of its last printed digit, written to
  ``chapters/tolerances/<chapter>.yml`` with its spread;
- any other number (a count, or a fraction no run changed) is *exact* and stays out of
  the file (its spread over seeds is still reported, for the text);
- a measured number whose tolerance exceeds half its value is reported as LOOSE, for review;
- a line whose text (not only its numbers) changes between runs, and any cell that raised
  (a failed ``assert``), is reported: the chapter must change until there are none.

The report printed at the end lists every measured number's mean ± sd (min-max), which is
what the chapter's prose may claim.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import measured  # noqa: E402

SEED_LINE = "SEED = 0"
CACHE = ROOT / "_build" / "spread"


def parse_seeds(text: str):
    if "-" in text:
        lo, hi = map(int, text.split("-"))
        return list(range(lo, hi + 1))
    return [int(s) for s in text.split(",")]


def has_seed_line(notebook: Path) -> bool:
    import nbformat
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return any(line.strip().startswith(SEED_LINE) for line in code[0].source.splitlines())


def run_once(notebook: Path, seed: int, kernel: str, out: Path) -> None:
    """Execute in this process (called in a subprocess whose environment sets the kernel)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    ran = code_hash(notebook)  # before the run: an edit during it makes the result stale
    code = [c for c in nb.cells if c.cell_type == "code"]
    if seed != 0:
        lines = code[0].source.splitlines()
        hits = [i for i, line in enumerate(lines) if line.strip().startswith(SEED_LINE)]
        if len(hits) != 1:
            raise SystemExit(f"{notebook}: its first code cell has no line {SEED_LINE!r}")
        lines[hits[0]] = lines[hits[0]].replace(SEED_LINE, f"SEED = {seed}", 1)
        code[0].source = "\n".join(lines)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()
    result = {"seconds": time.perf_counter() - start, "checked": {}, "errors": {}, "code": ran,
              "kernel": kernel, "threads": os.environ.get("OMP_NUM_THREADS", "default")}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                result["errors"][str(i)] = f"{o.ename}: {o.evalue}"
        if "nbval-check-output" in cell.metadata.get("tags", []):
            result["checked"][str(i)] = measured.output_texts(cell.outputs)
        else:  # kept in the cache, to check the prose's claims about unchecked cells
            result.setdefault("unchecked", {})[str(i)] = measured.output_texts(cell.outputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)


def code_hash(notebook: Path) -> str:
    """What a run depends on: the code cells and their tags (not the prose), and the package."""
    import hashlib

    import nbformat
    nb = nbformat.read(notebook, as_version=4)
    code = [(c.source, sorted(c.metadata.get("tags", []))) for c in nb.cells if c.cell_type == "code"]
    package = [(p.name, p.read_text()) for p in sorted((ROOT / "gnncourse").glob("*.py"))]
    return hashlib.sha256(json.dumps([code, package]).encode()).hexdigest()[:16]


def cached_run(notebook: Path, seed: int, kernel: str, fresh: bool, threads: int = 0) -> dict:
    out = CACHE / notebook.stem / f"seed{seed}-{kernel}.json"
    current = code_hash(notebook)
    if fresh or not out.exists() or json.loads(out.read_text()).get("code") != current:
        env = dict(os.environ)
        env.pop("ATEN_CPU_CAPABILITY", None)
        if kernel != "native":
            env["ATEN_CPU_CAPABILITY"] = kernel
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--run-one", str(notebook), str(seed), kernel, str(out)],
                       env=env, check=True, cwd=ROOT)
        print(f"  {notebook.name} seed {seed} {kernel}: {time.perf_counter() - t0:.0f} s", flush=True)
    return json.loads(out.read_text())


def _round_up(x: float) -> float:
    """Round up to two significant digits, so that the file stays readable."""
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(x)) - 1
    return float(f"{math.ceil(x / 10**e - 1e-9) * 10**e:.2g}")


def analyse(runs: dict):
    """runs: (seed, kernel) -> result. Returns (entries, exact_spreads, problems)."""
    problems = []
    for key, r in sorted(runs.items()):
        for cell, err in r["errors"].items():
            problems.append(f"seed {key[0]}, {key[1]} kernels: cell {cell} raised {err}")
    # template -> printed line (cell, output, line) -> position -> [(seed, kernel, number)]
    values = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    first = next(iter(runs.values()))["checked"]
    for cell in first:
        variants = {k: r["checked"].get(cell, []) for k, r in runs.items()}
        for out_k in range(max(len(v) for v in variants.values())):
            texts = {k: v[out_k][1] if out_k < len(v) else "" for k, v in variants.items()}
            line_sets = {k: t.split("\n") for k, t in texts.items()}
            n_lines = {len(v) for v in line_sets.values()}
            if len(n_lines) != 1:
                problems.append(f"cell {cell}: the number of printed lines changes between runs {sorted(n_lines)}")
                continue
            for li in range(n_lines.pop()):
                split = {k: measured.split_line(v[li]) for k, v in line_sets.items()}
                templates = {t for t, _ in split.values()}
                if len(templates) != 1:
                    problems.append(f"cell {cell}: line {li + 1} changes its text between runs: "
                                    + " | ".join(sorted({v[li] for v in line_sets.values()})[:4]))
                    continue
                template = templates.pop()
                for (seed, kernel), (_, nums) in split.items():
                    for pos, num in enumerate(nums):
                        values[template][(cell, out_k, li)][pos].append((seed, kernel, num))
    entries, exact = {}, {}
    for template, instances in values.items():
        n_pos = template.count("{}")
        tols, spreads, kernel_diffs = [None] * n_pos, [""] * n_pos, [0.0] * n_pos
        ranges, varies = [-1.0] * n_pos, False
        for positions in instances.values():
            for pos in range(n_pos):
                obs = positions[pos]
                nums = [measured.value(n) for _, _, n in obs]
                by_seed = defaultdict(set)
                for seed, _, n in obs:
                    by_seed[seed].add(measured.value(n))
                kdiff = max(max(v) - min(v) for v in by_seed.values())
                unit = max(measured.last_digit(n) for _, _, n in obs)
                rng = max(nums) - min(nums)
                varies |= rng > 0
                if rng > ranges[pos]:  # report the instance of this template that moved most
                    ranges[pos] = rng
                    sd = statistics.stdev(nums) if len(nums) > 1 else 0.0
                    digits = max(0, -int(math.floor(math.log10(unit)))) + 1 if unit < 1 else 0
                    spreads[pos] = (f"{statistics.mean(nums):.{digits}f} ± {sd:.{digits}f} "
                                    f"({min(nums):g} to {max(nums):g})")
                kernel_diffs[pos] = max(kernel_diffs[pos], kdiff)
                # A fraction that moves with the seed came from floating-point work: the two
                # kernel settings here may agree on it, another CPU's BLAS need not.
                fractional = any(("." in n or "e" in n.lower()) for _, _, n in obs)
                if kdiff > 0 or (fractional and rng > 0):
                    tols[pos] = max(tols[pos] or 0.0, _round_up(max(2 * rng, unit)))
        if any(t is not None for t in tols):
            entries[template] = {"tolerance": tols, "spread": spreads,
                                 "kernel_difference": [_round_up(k) if k else 0 for k in kernel_diffs]}
        elif varies:
            exact[template] = spreads
    return entries, exact, problems


def write_tolerances(notebook: Path, entries: dict, seeds, kernels) -> Path:
    path = measured.tolerance_path(notebook)
    path.parent.mkdir(exist_ok=True)
    lines = [
        f"# Measured numbers of {notebook.name}: tolerances for its checked cells.",
        f"# Written by tools/measure_spread.py over seeds {seeds} x kernels {kernels}.",
        "# tolerance: |fresh - committed| allowed per number (null: exact); twice the range over the runs.",
        "# spread: mean ± sd (min to max) over the runs; kernel_difference: the largest change that the",
        "# kernel setting alone made at one seed. Re-derive: see book/contributing.md.",
    ]
    for template in sorted(entries):
        e = entries[template]
        lines.append(f"{json.dumps(template, ensure_ascii=False)}:")
        lines.append(f"  tolerance: {json.dumps(e['tolerance'])}")
        lines.append(f"  spread: {json.dumps(e['spread'], ensure_ascii=False)}")
        lines.append(f"  kernel_difference: {json.dumps(e['kernel_difference'])}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--run-one":
        run_once(Path(argv[1]), int(argv[2]), argv[3], Path(argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--kernels", default="native,default")
    ap.add_argument("--jobs", type=int, default=1, help="runs side by side (2 cores: at most 2)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads per run (default: 1 when runs go side by side, else torch's own)")
    ap.add_argument("--fresh", action="store_true", help="ignore cached runs")
    ap.add_argument("--no-write", action="store_true", help="report only; leave the tolerance files")
    args = ap.parse_args(argv)
    kernels = args.kernels.split(",")
    threads = args.threads if args.threads is not None else (1 if args.jobs > 1 else 0)
    failed = False
    for nb in args.notebooks:
        seeds = parse_seeds(args.seeds) if has_seed_line(nb) else [0]
        print(f"{nb}: seeds {seeds}, kernels {kernels}", flush=True)
        keys = [(s, k) for s in seeds for k in kernels]
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda key: cached_run(nb, key[0], key[1], args.fresh, threads), keys))
        runs = dict(zip(keys, results))
        entries, exact, problems = analyse(runs)
        print(f"\n== {nb.name}: {len(entries)} measured lines")
        for template, e in sorted(entries.items()):
            print(f"  {template}\n      tolerance {e['tolerance']}\n      spread {e['spread']}"
                  f"\n      kernel difference {e['kernel_difference']}")
        if exact:
            print("  exact across kernels, but varying over seeds:")
            for template, spreads in sorted(exact.items()):
                print(f"  {template}\n      {spreads}")
        for template, e in sorted(entries.items()):
            for tol, spread in zip(e["tolerance"], e["spread"]):
                mean = abs(float(spread.split(" ")[0]))
                if tol is not None and tol > 0.5 * mean:
                    print(f"  LOOSE: {template!r}: tolerance {tol} is more than half the value "
                          f"({spread}); a check this wide catches little: print a claim instead")
        for p in problems:
            print("  PROBLEM:", p)
        failed |= bool(problems)
        if not args.no_write:
            if entries:
                print("  wrote", write_tolerances(nb, entries, args.seeds, args.kernels))
            elif measured.tolerance_path(nb).exists():
                measured.tolerance_path(nb).unlink()
                print("  nothing measured: removed", measured.tolerance_path(nb))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
