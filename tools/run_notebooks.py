"""Execute chapters in place, so the outputs committed with them are current.

    python tools/run_notebooks.py chapters/02_aggregation.ipynb [...]

Run from the repository root after editing a chapter; then `make test` proves the stored
outputs by re-executing with nbval. Sources are never changed, only outputs and execution
counts; a notebook that fails is left untouched on disk and the error is printed.

Outputs are written with this machine's best CPU kernels (CI checks them under others), and
without machine noise: stderr (progress bars, warnings) and the outputs of cells tagged
``timing`` (seconds measured here) are not stored; a reader who runs the chapter sees them.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def strip_machine_noise(nb) -> None:
    """Drop what only this machine printed: stderr streams and the outputs of timing cells."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "timing" in cell.metadata.get("tags", []):
            cell.outputs = []
        else:
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    elapsed = time.perf_counter() - start
    strip_machine_noise(nb)
    for cell in nb.cells:  # keep diffs small: no per-run timestamps
        cell.metadata.pop("execution", None)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return elapsed


def main(paths) -> int:
    if os.environ.get("ATEN_CPU_CAPABILITY"):
        print(f"note: ATEN_CPU_CAPABILITY={os.environ['ATEN_CPU_CAPABILITY']} is set; outputs are usually "
              "written with the native kernels (CI checks them under 'default')", file=sys.stderr)
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
