"""Execute chapters in place, so the outputs committed with them are current.

    python tools/run_notebooks.py chapters/02_aggregation.ipynb [...]

Run from the repository root after editing a chapter; then `make test` proves the stored
outputs by re-executing with nbval. Sources are never changed, only outputs and execution
counts; a notebook that fails is left untouched on disk and the error is printed.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:  # keep diffs small: no per-run timestamps
        cell.metadata.pop("execution", None)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return elapsed


def main(paths) -> int:
    failed = 0
    for p in map(Path, paths):
        try:
            print(f"{p}: {run(p):.1f} s", flush=True)
        except Exception as err:  # report and go on with the next notebook
            failed += 1
            print(f"{p}: FAILED\n{err}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
