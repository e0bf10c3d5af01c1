"""pytest configuration shared by tests/ and the nbval run over chapters/.

Prints how long each notebook took to execute under nbval, against the book's budget.
"""
from collections import defaultdict

_notebook_seconds = defaultdict(float)
BUDGET_SECONDS = 180  # no chapter may take longer on 2 cores (issue budgets may be tighter)


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
