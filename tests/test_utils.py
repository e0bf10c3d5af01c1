import random

import numpy as np
import pytest
import torch

from gnncourse.utils import check_edge_index, check_features, check_graph, progress, seed_everything


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(7)
    a = draw()
    seed_everything(7)
    assert draw() == a
    seed_everything(8)
    assert draw() != a


def test_seed_everything_returns_seeded_generator():
    g1, g2 = seed_everything(3), seed_everything(3)
    assert torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def test_valid_edge_index_passes():
    check_edge_index(torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=3)
    check_edge_index(torch.empty(2, 0, dtype=torch.long), num_nodes=0)


@pytest.mark.parametrize(
    "edge_index, match",
    [
        (torch.tensor([[0, 1], [1, 2], [2, 0]]), r"shape \[2, E\].*transposed"),
        (torch.tensor([0, 1, 2]), r"shape \[2, E\]"),
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "integer"),
        (torch.tensor([[0, -1], [1, 0]]), "negative"),
        (torch.tensor([[0, 5], [1, 0]]), "node 5.*only 3 nodes"),
        ([[0, 1], [1, 0]], "torch.Tensor"),
    ],
)
def test_bad_edge_index_says_what_is_wrong(edge_index, match):
    with pytest.raises(ValueError, match=match):
        check_edge_index(edge_index, num_nodes=3)


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.ones(3), r"shape \[N, F\]"),
        (torch.ones(3, 2, dtype=torch.long), "floating-point"),
        (torch.ones(4, 2), "4 rows.*3 nodes"),
        (torch.tensor([[1.0, float("nan")], [0.0, 0.0], [1.0, 1.0]]), r"NaN.*\[0\]"),
        (torch.tensor([[1.0, 0.0], [0.0, float("inf")], [float("-inf"), 1.0]]), r"infinite.*\[1, 2\]"),
    ],
)
def test_bad_features_say_what_is_wrong(x, match):
    with pytest.raises(ValueError, match=match):
        check_features(x, num_nodes=3)


def test_check_graph_uses_feature_rows_as_node_count():
    x = torch.ones(2, 4)
    with pytest.raises(ValueError, match="only 2 nodes"):
        check_graph(x, torch.tensor([[0, 2], [1, 0]]))


def test_progress_can_be_silenced(monkeypatch, capsys):
    monkeypatch.setenv("GNNCOURSE_PROGRESS", "0")
    assert sum(progress(range(5), desc="x")) == 10
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("GNNCOURSE_PROGRESS", "1")
    list(progress(range(5), desc="counting"))
    assert "counting" in capsys.readouterr().err
