"""Every chapter follows the book's conventions (book/contributing.md)."""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _cells(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    return nb["cells"]


def _src(cell):
    return "".join(cell["source"])


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks in chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_in_the_table_of_contents(path):
    assert f"chapters/{path.stem}" in _toc_files()


def test_every_toc_entry_exists():
    for f in _toc_files():
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb")), f


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_arc(path):
    cells = _cells(path)
    first = _src(cells[0])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# ")
    assert "After this chapter you will be able to" in first
    headings = [line for c in cells if c["cell_type"] == "markdown" for line in _src(c).splitlines()
                if line.startswith("## ")]
    assert "## Summary" in headings and "## Exercises" in headings
    assert headings.index("## Summary") < headings.index("## Exercises")
    text = "\n".join(_src(c) for c in cells if c["cell_type"] == "markdown")
    assert "{exercise}" in text and "{solution}" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_solutions_stay_folded(path):
    """A solution is a closed {solution} dropdown; the code cell that runs it right after is
    tagged hide-input, so the HTML does not show the answer under the question."""
    cells = _cells(path)
    shown = [i + 1 for i, c in enumerate(cells[:-1])
             if c["cell_type"] == "markdown" and re.match(r"`{3,}\{solution\}", _src(c))
             and ":class: dropdown" in _src(c)
             and cells[i + 1]["cell_type"] == "code"
             and "hide-input" not in cells[i + 1]["metadata"].get("tags", [])]
    missing = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
               and re.match(r"`{3,}\{solution\}", _src(c)) and ":class: dropdown" not in _src(c)]
    assert not shown, f"solution code cells shown in the HTML (tag them hide-input): {shown}"
    assert not missing, f"solutions that are not closed dropdowns: cells {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell_installs_only_where_missing(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    setup = _src(code[0])
    assert 'importlib.util.find_spec("gnncourse") is None' in setup
    url = CONFIG["repository"]["url"]
    assert f"gnncourse @ git+{url}" in setup
    assert "seed_everything(" in setup


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_key_results_are_checked_and_executed(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and _src(c).strip()]
    assert all(c.get("outputs") is not None for c in code)
    assert any(c["outputs"] for c in code), "notebook was committed without outputs"
    checked = [c for c in code if "nbval-check-output" in c.get("metadata", {}).get("tags", [])]
    assert checked, "no cell is tagged nbval-check-output"
    assert any(re.search(r"^\s*assert ", _src(c), re.M) for c in checked), "no checked cell asserts a target"
    for c in checked:
        for out in c["outputs"]:
            assert out["output_type"] in ("stream", "execute_result"), "checked cells print text only"
            assert out.get("name") != "stderr", "checked cells must not write to stderr (progress bars)"
            assert "image/svg+xml" not in out.get("data", {}), "checked cells must not draw figures"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_errors_stored(path):
    for c in _cells(path):
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"stored error output in {path.name}"


# What only the machine that wrote the outputs printed (book/contributing.md, "Outputs").
_TIMING = re.compile(r"\d+(\.\d+)?\s?(ms|s|sec|seconds|min)\b|\d\s?(\w+ )?(nodes|steps|it)/s\b")
_MACHINE = re.compile(r"/tmp/|tmp[a-z0-9_]{8}|--master-port=\d|\b127\.0\.0\.1:\d+")


def _stored_texts(cell):
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            yield out.get("name"), "".join(out["text"])
        for key, value in out.get("data", {}).items():
            if key.startswith("text/"):
                yield key, "".join(value)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_machine_noise_stored(path):
    for i, c in enumerate(_cells(path)):
        for kind, text in _stored_texts(c):
            where = f"{path.name} cell {i}"
            assert kind != "stderr", f"{where} stores a stderr stream (re-run tools/run_notebooks.py)"
            assert not _MACHINE.search(text), f"{where} stores a temporary path or port: {text[:200]!r}"
            assert not _TIMING.search(text), (
                f"{where} stores a timing: {_TIMING.search(text).group(0)!r}; tag the cell 'timing' "
                "(its output is not stored) or print a claim that holds on every machine")


def test_noise_patterns_catch_what_they_should():
    assert _TIMING.search("trained in 7.0 s") and _TIMING.search("softmax 5.11 ms")
    assert _TIMING.search("3,301 seed nodes/s") and _TIMING.search("12.5 it/s")
    assert not _TIMING.search("test accuracy 0.810") and not _TIMING.search("degrees: [2, 2, 3]")
    assert not _TIMING.search("1354x fewer dot products") and not _TIMING.search("K = 2 layers")
    assert _MACHINE.search("--out /tmp/tmpv90kh4c4/result.pt") and _MACHINE.search("--master-port=49423")


def _checked_lines(path):
    for c in _cells(path):
        if c["cell_type"] == "code" and "nbval-check-output" in c.get("metadata", {}).get("tags", []):
            for kind, text in _stored_texts(c):
                if kind in ("stdout", "text/plain"):
                    yield from text.split("\n")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_tolerance_files_match_the_checked_cells(path):
    """Every tolerance entry belongs to a line that a checked cell prints (no stale entries),
    and a chapter that trains declares `SEED = 0`, the seed measure_spread.py varies."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import measured
    tolerances = measured.load_tolerances(path)
    templates = {measured.split_line(line)[0] for line in _checked_lines(path)}
    stale = set(tolerances) - templates
    assert not stale, f"{measured.tolerance_path(path).name} lists lines no checked cell prints: {sorted(stale)}"
    setup = _src([c for c in _cells(path) if c["cell_type"] == "code"][0])
    if tolerances:
        assert re.search(r"^SEED = 0\b", setup, re.M), f"{path.name}: measured numbers but no `SEED = 0`"


def test_chapter_1_walk_speed_table_is_the_stored_benchmark_output():
    """Chapter 1 quotes benchmarks/results/walks.md (it re-times nothing): every number of its
    table must be in the stored benchmark's Cora, 1-thread rows."""
    nb = json.loads((ROOT / "chapters" / "01_node_embeddings.ipynb").read_text())
    text = next("".join(c["source"]) for c in nb["cells"]
                if c["cell_type"] == "markdown" and "benchmarks/results/walks.md" in "".join(c["source"]))
    stored = (ROOT / "benchmarks" / "results" / "walks.md").read_text()
    cora_1 = [line for line in stored.splitlines() if line.startswith("| Cora |") and "| 1 |" in line]
    table = [line for line in text.splitlines() if line.startswith("| uniform") or line.startswith("| $p")]
    assert len(table) == len(cora_1) == 3
    for ours, theirs in zip(table, cora_1):
        nums = re.findall(r"\d+\.\d+", ours.split("|", 2)[2])  # skip the p, q column
        assert nums and all(n in theirs for n in nums), (ours, theirs)
