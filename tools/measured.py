"""Measured numbers in checked cells: compare them within the chapter's tolerances.

A cell tagged ``nbval-check-output`` prints the chapter's key results. Most of what it prints
cannot change between machines (counts, shapes, parameter numbers, truth values of robust
claims) and nbval compares it exactly. Numbers that come out of training, optimisation or
floating-point accumulation differ in their last digits between CPUs, because PyTorch picks
other kernels; those lines are listed, one template per line, in the chapter's tolerance
file ``chapters/tolerances/<chapter>.yml``::

    "supervised GNN: test accuracy {}":      # the printed line, each number replaced by {}
      tolerance: [0.027]                     # one per number: |fresh - committed| <= tol
      spread: ["0.806 ± 0.008 (0.797-0.819)"]  # what it was measured from (information)

``tools/measure_spread.py`` writes these files from runs over seeds and CPU kernel settings
(book/contributing.md says how). The pytest plugin in ``conftest.py`` calls :func:`snap`
before nbval compares a checked cell: a fresh line whose text matches the committed line and
whose numbers each lie within their tolerance is replaced by the committed line, so nbval's
exact comparison passes; anything else is left for nbval to report, with a note of which
number fell outside which tolerance.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

# A number as the chapters print it: 0.903, -1.5, 12,382, 2.7e-06, 45% (not the 4 of "CF4").
NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
TOLERANCE_DIR = "tolerances"


def split_line(line: str) -> Tuple[str, List[str]]:
    """Split a printed line into its template (numbers replaced by ``{}``, runs of spaces
    collapsed, since padding follows the width of a number) and its numbers as printed."""
    numbers = NUMBER.findall(line)
    template = " ".join(NUMBER.sub("{}", line).split())
    return template, numbers


def value(number: str) -> float:
    return float(number.replace(",", ""))


def last_digit(number: str) -> float:
    """The unit of the last printed digit: 0.01 for '0.90', 1 for '12,382'."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def tolerance_path(notebook: Path) -> Path:
    notebook = Path(notebook)
    return notebook.parent / TOLERANCE_DIR / f"{notebook.stem}.yml"


def load_tolerances(notebook: Path) -> Dict[str, List[Optional[float]]]:
    """template -> one tolerance per number (``None``: compare that number exactly)."""
    path = tolerance_path(notebook)
    if not path.exists():
        return {}
    entries = yaml.safe_load(path.read_text()) or {}
    out = {}
    for template, entry in entries.items():
        tol = entry.get("tolerance") if isinstance(entry, dict) else None
        if not isinstance(tol, list) or len(tol) != template.count("{}"):
            raise ValueError(f"{path}: the entry {template!r} needs a list 'tolerance' with one value "
                             f"per {{}} ({template.count('{}')}), got {tol!r}")
        out[template] = [None if t is None else float(t) for t in tol]
    return out


def compare_line(ref: str, fresh: str, tolerances: Dict[str, List[Optional[float]]]) -> Optional[str]:
    """``None`` if ``fresh`` matches ``ref`` (exactly, or within the tolerances of its template);
    otherwise why it does not."""
    if ref == fresh:
        return None
    (t_ref, n_ref), (t_new, n_new) = split_line(ref), split_line(fresh)
    if t_ref != t_new:
        return "the text differs"
    tol = tolerances.get(t_ref)
    if tol is None:
        return f"numbers differ and no tolerance is listed for {t_ref!r}"
    for k, (a, b, t) in enumerate(zip(n_ref, n_new, tol)):
        if a == b:
            continue
        if t is None:
            return f"number {k + 1} ({a} -> {b}) is compared exactly"
        # half a unit of the last printed digit on each side is rounding, not a difference
        slack = 0.5 * (last_digit(a) + last_digit(b))
        if not math.isfinite(value(b)) or abs(value(a) - value(b)) > t + slack + 1e-12:
            return f"number {k + 1}: {a} -> {b}, more than the tolerance {t} of {t_ref!r}"
    return None


def snap(ref: str, fresh: str, tolerances: Dict[str, List[Optional[float]]]) -> Tuple[str, List[str]]:
    """``fresh`` with every line that matches its committed line within tolerance replaced by
    that line, and the reasons for the lines that do not match."""
    ref_lines, new_lines = ref.split("\n"), fresh.split("\n")
    if len(ref_lines) != len(new_lines):
        return fresh, [f"{len(new_lines)} lines printed, {len(ref_lines)} committed"]
    out, problems = [], []
    for a, b in zip(ref_lines, new_lines):
        why = compare_line(a, b, tolerances)
        out.append(a if why is None else b)
        if why is not None:
            problems.append(f"{b!r}: {why}")
    return "\n".join(out), problems


def snap_outputs(ref: Sequence[dict], fresh: Sequence[dict], tolerances: Dict[str, List[Optional[float]]]) -> List[str]:
    """Snap, in place, each fresh stdout stream and ``text/plain`` result to its committed
    counterpart (in order) where it matches within tolerance; return why the others do not."""
    def texts(outputs):
        streams = [(o, "text") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"]
        results = [(o["data"], "text/plain") for o in outputs if "text/plain" in o.get("data", {})]
        return streams, results

    problems: List[str] = []
    for refs, news in zip(texts(ref), texts(fresh)):
        for (r, rk), (n, nk) in zip(refs, news):
            n[nk], why = snap(text_of(r[rk]), text_of(n[nk]), tolerances)
            problems += why
    return problems


def output_texts(outputs: Sequence[dict]) -> List[Tuple[str, str]]:
    """The text a cell printed, as (kind, text): stdout streams joined, then each result."""
    stdout = "".join(text_of(o["text"]) for o in outputs
                     if o.get("output_type") == "stream" and o.get("name") == "stdout")
    texts = [("stdout", stdout)] if stdout else []
    for o in outputs:
        if o.get("output_type") in ("execute_result", "display_data") and "text/plain" in o.get("data", {}):
            texts.append(("text/plain", text_of(o["data"]["text/plain"])))
    return texts


def text_of(t) -> str:
    """A notebook text field, stored as one string or a list of lines, as one string."""
    return "".join(t) if isinstance(t, list) else t
