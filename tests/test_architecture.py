"""The package's architecture rules (book/contributing.md), checked on the source:

* library modules (``gnncourse/*.py``) never mention a chapter number, a dataset of a study
  (outside the data modules) or a paper's value: those belong to ``gnncourse/experiments/``;
* no private name (``_x``) of a gnncourse module is used from another module, a test, a
  benchmark or a chapter;
* imports sit at the top of a module; one inside a function carries a comment saying why;
* no unused import or variable (ruff's pyflakes rules).
"""
import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gnncourse"
LIBRARY = sorted(p for p in PACKAGE.glob("*.py"))  # not experiments/
DATA_MODULES = {"data.py", "synthetic.py"}  # where datasets are defined, by name
DATASET_NAMES = ["Cora", "CiteSeer", "PubMed", "MUTAG", "Mutagenicity", "BA-Shapes", "BA-Community",
                 "Tree-Cycles", "Tree-Grid", "Is_Acyclic", "Karate"]


def _relative(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_library_modules_never_mention_chapters():
    pattern = re.compile(r"[Cc]hapter\s+0?\d|\bch(?:apter)?\s?0\d|chapters/0\d")
    hits = [f"{_relative(p)}:{i}: {line.strip()}" for p in LIBRARY
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, "library modules must not know the book's chapters:\n" + "\n".join(hits)


def test_only_data_modules_and_studies_name_datasets():
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in DATASET_NAMES) + r")\b")
    hits = [f"{_relative(p)}:{i}: {line.strip()}" for p in LIBRARY if p.name not in DATA_MODULES
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, ("dataset names belong to gnncourse/data.py, gnncourse/synthetic.py and "
                      "gnncourse/experiments/:\n" + "\n".join(hits))


def test_published_numbers_live_in_studies():
    pattern = re.compile(r"^(PAPER|PUBLISHED)_\w*\s*[:=]", re.M)
    hits = [_relative(p) for p in LIBRARY if pattern.search(p.read_text())]
    assert not hits, f"published numbers belong to gnncourse/experiments/: {hits}"


def _code_sources():
    """(label, Python source) for every module, test, benchmark, tool and chapter code cell."""
    for folder in ("gnncourse", "tests", "benchmarks", "tools"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            yield _relative(p), p.read_text(), p
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())
                yield f"{_relative(nb)} cell {i}", src, nb


def _module_of(path: Path):
    """The dotted gnncourse module a file is, or None."""
    if path.suffix != ".py" or PACKAGE not in path.parents:
        return None
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_private_name_is_used_across_modules():
    bad = []
    for label, src, path in _code_sources():
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        own = _module_of(path)
        aliases = {}  # local name -> gnncourse module it refers to
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level and own:  # relative import inside the package
                    base = own.split(".")[: len(own.split(".")) - node.level]
                    mod = ".".join(base + ([mod] if mod else []))
                if not mod.startswith("gnncourse"):
                    continue
                for a in node.names:
                    if _private(a.name) and mod != own:
                        bad.append(f"{label}: from {mod} import {a.name}")
                    aliases[a.asname or a.name] = f"{mod}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("gnncourse"):
                        aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else "gnncourse"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and aliases[node.value.id] != own):
                bad.append(f"{label}: {node.value.id}.{node.attr}")
    assert not bad, "private names used from outside their module:\n" + "\n".join(sorted(set(bad)))


def test_imports_inside_functions_say_why():
    bad = []
    for p in sorted(PACKAGE.rglob("*.py")):
        lines = p.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)) and "#" not in lines[sub.lineno - 1]:
                        bad.append(f"{_relative(p)}:{sub.lineno}: {lines[sub.lineno - 1].strip()}")
    assert not bad, ("imports belong at the top of the module; one inside a function needs a comment "
                     "saying which cycle or optional dependency requires it:\n" + "\n".join(bad))


@pytest.mark.skipif(shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
                    reason="ruff is not installed (it is in the dev extra)")
def test_no_unused_imports_or_variables():
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    out = subprocess.run([ruff, "check", "--select", "F401,F811,F841", "--output-format", "concise",
                          "gnncourse", "tests", "benchmarks", "tools", "scripts", "conftest.py"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
