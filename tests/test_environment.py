"""pyproject.toml and environment.yml must describe the same environment."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse(req: str):
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*(.*)$", req)
    return _canonical(m.group(1)), m.group(3).replace(" ", "")


def pyproject_requirements(extras=None):
    """Pinned requirements: the dependencies plus the given extras (default: every extra)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for name, extra in meta.get("optional-dependencies", {}).items():
        if extras is None or name in extras:
            reqs += extra
    return dict(_parse(r) for r in reqs)


def environment_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return dict(_parse(r) for r in pip if not r.startswith("-e"))


def test_same_packages_and_pins():
    # environment.yml is the reader's and Binder's environment: the dependencies and the dev
    # extra; the bench extra (walk libraries for benchmarks/bench_walks.py) stays out of it
    assert pyproject_requirements(extras=("dev",)) == environment_requirements()


def test_every_requirement_is_pinned():
    for name, spec in pyproject_requirements().items():
        assert spec.startswith("=="), f"{name} is not pinned exactly ({spec!r})"


def test_torch_is_the_cpu_release_of_the_course():
    assert pyproject_requirements()["torch"] == "==2.13.0"


def test_environment_installs_the_package_and_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
