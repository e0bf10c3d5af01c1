"""The measured-number check of checked cells (tools/measured.py, tools/measure_spread.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import measure_spread  # noqa: E402
import measured  # noqa: E402

TOL = {"supervised GNN: val accuracy {}, test accuracy {}": [0.02, 0.03],
       "loss {} after {} epochs": [0.1, None]}


def test_split_line_keeps_identifiers_and_collapses_padding():
    assert measured.split_line("CF4, generated (5)   p = 0.284") == ("CF4, generated ({}) p = {}", ["5", "0.284"])
    assert measured.split_line("pairs: 4,806,700, err 2.7e-06") == ("pairs: {}, err {}", ["4,806,700", "2.7e-06"])
    assert measured.split_line("holds   0.2% of Cora") == ("holds {}% of Cora", ["0.2"])


def test_last_digit():
    assert measured.last_digit("0.90") == pytest.approx(0.01)
    assert measured.last_digit("12,382") == 1
    assert measured.last_digit("2.7e-06") == pytest.approx(1e-7)


def test_within_tolerance_passes_and_snaps_to_the_committed_line():
    ref = "supervised GNN: val accuracy 0.784, test accuracy 0.810"
    new = "supervised GNN: val accuracy 0.770, test accuracy 0.835"
    assert measured.compare_line(ref, new, TOL) is None
    assert measured.snap("header\n" + ref, "header\n" + new, TOL) == ("header\n" + ref, [])


def test_outside_tolerance_fails_and_says_which_number():
    ref = "supervised GNN: val accuracy 0.784, test accuracy 0.810"
    why = measured.compare_line(ref, "supervised GNN: val accuracy 0.784, test accuracy 0.700", TOL)
    assert "number 2" in why and "0.03" in why
    fresh, problems = measured.snap(ref, "supervised GNN: val accuracy 0.784, test accuracy 0.700", TOL)
    assert fresh.endswith("0.700") and len(problems) == 1


def test_exact_numbers_text_and_unlisted_lines_are_compared_exactly():
    assert "exactly" in measured.compare_line("loss 0.5 after 20 epochs", "loss 0.5 after 21 epochs", TOL)
    assert measured.compare_line("loss 0.5 after 20 epochs", "loss 0.55 after 20 epochs", TOL) is None
    assert "text" in measured.compare_line("loss 0.5 after 20 epochs", "loss 0.5 after 20 steps", TOL)
    assert "no tolerance" in measured.compare_line("test accuracy 0.81", "test accuracy 0.82", TOL)
    assert measured.snap("a 1\nb 2", "a 1", TOL)[1]  # a missing line is a difference


def test_rounding_of_the_last_digit_is_not_a_difference():
    tol = {"p = {}": [0.0]}
    assert measured.compare_line("p = 0.28", "p = 0.29", tol) is None      # within 1 unit of rounding
    assert measured.compare_line("p = 0.28", "p = 0.30", tol) is not None
    assert measured.compare_line("p = 0.28", "p = nan", {"p = nan": [1.0]}) is not None


def test_tolerance_file_is_validated(tmp_path):
    nb = tmp_path / "03_x.ipynb"
    (tmp_path / "tolerances").mkdir()
    measured.tolerance_path(nb).write_text('"acc {} and {}":\n  tolerance: [0.1]\n')
    with pytest.raises(ValueError, match="one value per"):
        measured.load_tolerances(nb)
    measured.tolerance_path(nb).write_text('"acc {} and {}":\n  tolerance: [0.1, null]\n')
    assert measured.load_tolerances(nb) == {"acc {} and {}": [0.1, None]}
    assert measured.load_tolerances(tmp_path / "other.ipynb") == {}


def _run(lines, errors=None):
    return {"checked": {"5": [["stdout", "\n".join(lines)]]}, "errors": errors or {}}


def test_analyse_separates_measured_from_exact_and_reports_problems():
    runs = {}
    for seed in range(3):
        for kernel, jitter in (("native", 0.0), ("default", 0.002 * seed)):
            runs[seed, kernel] = _run([f"walks: {100 + seed}",                      # seed only: exact
                                       f"accuracy {0.80 + 0.01 * seed + jitter:.3f}",  # kernels: measured
                                       "params: 45872"])                               # never changes
    entries, exact, problems = measure_spread.analyse(runs)
    assert list(entries) == ["accuracy {}"] and not problems
    e = entries["accuracy {}"]
    assert e["tolerance"] == [pytest.approx(2 * 0.024)]    # twice the range 0.800..0.824
    assert e["kernel_difference"] == [pytest.approx(0.004)]
    assert list(exact) == ["walks: {}"]

    runs[1, "default"] = _run(["walks: 101", "accuracy 0.81 (stopped early)", "params: 45872"],
                              errors={"7": "AssertionError: "})
    _, _, problems = measure_spread.analyse(runs)
    assert any("raised AssertionError" in p for p in problems)
    assert any("changes its text" in p for p in problems)


def _notebook(path, stored, prints):
    import nbformat
    cell = nbformat.v4.new_code_cell(f"print({prints!r})", execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text=stored + "\n")])
    cell.metadata["tags"] = ["nbval-check-output"]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.parametrize("tolerance, passes", [(0.02, True), (0.005, False)])
def test_nbval_run_uses_the_tolerance_file(tmp_path, tolerance, passes):
    """End to end: nbval with the plugin of conftest.py, as `make test` runs the chapters."""
    import subprocess
    root = Path(__file__).resolve().parent.parent
    nb = tmp_path / "09_demo.ipynb"
    _notebook(nb, stored="test accuracy 0.800 on 1000 nodes", prints="test accuracy 0.812 on 1000 nodes")
    (tmp_path / "tolerances").mkdir()
    measured.tolerance_path(nb).write_text(f'"test accuracy {{}} on {{}} nodes":\n  tolerance: [{tolerance}, null]\n')
    run = subprocess.run([sys.executable, "-m", "pytest", str(nb), "--nbval-lax", "-p", "conftest", "-q",
                          "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", "/dev/null"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert (run.returncode == 0) == passes, run.stdout[-3000:]
    if not passes:
        assert "more than the tolerance 0.005" in run.stdout
