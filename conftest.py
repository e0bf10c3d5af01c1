"""pytest configuration shared by tests/ and the nbval run over chapters/.

- Measured numbers: before nbval compares a checked cell exactly, each printed line whose
  numbers lie within the chapter's tolerances (chapters/tolerances/<chapter>.yml, see
  tools/measured.py) is replaced by its committed line.
- Prints how long each notebook took to execute under nbval, against the book's budget.
"""
import copy
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
import measured  # noqa: E402  (tools/measured.py)

_notebook_seconds = defaultdict(float)
BUDGET_SECONDS = 180  # no chapter may take longer on 2 cores (issue budgets may be tighter)


def pytest_configure(config):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to extend
        return
    if getattr(IPyNbCell, "_measured_tolerances", False):
        return
    exact_compare = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        tolerances = measured.load_tolerances(Path(str(self.fspath)))
        test = copy.deepcopy(test)
        problems = measured.snap_outputs(ref, test, tolerances)
        ok = exact_compare(self, test, ref, skip_compare)
        if not ok and problems:
            self.comparison_traceback.append(
                "measured-number check (tools/measured.py, "
                f"{measured.tolerance_path(Path(str(self.fspath))).name}):\n  " + "\n  ".join(problems))
        return ok

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell._measured_tolerances = True


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    tr = terminalreporter
    tr.section("notebook execution times (nbval)")
    for path, sec in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if sec > BUDGET_SECONDS else ""
        tr.write_line(f"{sec:7.1f} s  {path}{flag}")
    tr.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  total (budget 900 s)")
