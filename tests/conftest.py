"""Fixtures shared by the unit tests."""
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from gnncourse import data


@pytest.fixture(scope="session")
def mutag_raw() -> Path:
    """The verified raw folder of MUTAG (0.12 MB), fetched once if the data root lacks it."""
    raw = data.data_root() / "TUDataset" / "MUTAG" / "raw"
    if not raw.exists():
        data.load_mutag()
    return raw


@pytest.fixture(scope="session")
def planetoid_raw() -> Path:
    """The verified Planetoid folder (Cora and CiteSeer raw files), fetched once if missing."""
    group = data.data_root() / "Planetoid"
    if not (group / "Cora" / "raw").exists() or not (group / "CiteSeer" / "raw").exists():
        data.load_cora()
        data.load_citeseer()
    return group


@pytest.fixture
def ring():
    """A builder of small test graphs: ``ring(n)`` is an undirected n-cycle with 3 random
    features per node, labels 0 and every node in ``train_mask``."""
    import torch
    from torch_geometric.data import Data

    def build(n: int = 8) -> Data:
        src = torch.arange(n)
        ei = torch.stack([torch.cat([src, (src + 1) % n]), torch.cat([(src + 1) % n, src])])
        return Data(x=torch.randn(n, 3), edge_index=ei, y=torch.zeros(n, dtype=torch.long),
                    train_mask=torch.ones(n, dtype=torch.bool))
    return build


@pytest.fixture
def fresh_root(tmp_path, monkeypatch) -> Path:
    """An empty data root for one test."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(root))
    return root


@pytest.fixture
def mutag_root(fresh_root, mutag_raw) -> Path:
    """A data root holding a private copy of MUTAG's raw files."""
    dst = fresh_root / "TUDataset" / "MUTAG" / "raw"
    shutil.copytree(mutag_raw, dst)
    return fresh_root


_SUMMARY: dict = defaultdict(list)


@pytest.fixture(scope="session")
def summary_lines() -> dict:
    """Lines a test wants printed at the end of the run, by section title
    (``summary_lines["translations"].append(...)``): pytest's terminal summary shows them."""
    return _SUMMARY


def pytest_terminal_summary(terminalreporter):
    for title, lines in _SUMMARY.items():
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
