"""Results files of the studies: CSV rows read and written atomically.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> write_csv([{"model": "gcn", "acc": 0.8}], path)
    >>> read_csv(path)
    [{'model': 'gcn', 'acc': '0.8'}]
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import List, Union

__all__ = ["read_csv", "write_csv"]


def read_csv(path: Union[str, Path]) -> List[dict]:
    """Rows of a CSV written by :func:`write_csv` (values as strings)."""
    with open(path) as f:
        return list(csv.DictReader(f))


def write_csv(rows: List[dict], path: Union[str, Path]) -> None:
    """Write ``rows`` (dicts with the same keys) atomically: a temporary file beside ``path``,
    then a rename, so a kill mid-write never leaves a truncated file."""
    if not rows:
        raise ValueError("no rows to write")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)
