"""gnncourse.interactive: the precomputed data checked against exact values and references;
the figures' data, sliders and errors. The figures' behaviour in a browser is tested in
tests/test_browser.py."""
import pytest
import torch
from torch_geometric.utils import k_hop_subgraph, to_undirected

from gnncourse.interactive import (computation_tree_sizes, hop_distances, mask_sweep, mask_threshold_figure,
                                   node2vec_figure, receptive_field_figure, spring_positions,
                                   walk_visit_frequencies)
from gnncourse.plot import computation_tree

SQUARE = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])


def _random_graph(n=30, m=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    return to_undirected(ei, num_nodes=n)


@pytest.mark.parametrize("p,q", [(0.25, 4.0), (4.0, 0.25), (1.0, 1.0)])
def test_visit_frequencies_match_the_node2vec_probabilities_on_a_square(p, q):
    # From 0 the first step reaches 1 or 3; from there the walker returns to 0 with weight 1/p
    # or moves to 2 (not a neighbour of 0) with weight 1/q.
    f = walk_visit_frequencies(SQUARE, 4, 0, [p], [q], walk_length=2, num_walks=40_000,
                               generator=torch.Generator().manual_seed(0))[0, 0]
    back = (1 / p) / (1 / p + 1 / q)
    assert float(f.sum()) == pytest.approx(1.0)
    assert float(f[0]) == pytest.approx(back / 2, abs=0.01)
    assert float(f[2]) == pytest.approx((1 - back) / 2, abs=0.01)
    assert float(f[1] + f[3]) == pytest.approx(0.5, abs=1e-6)


def test_visit_frequencies_grid_shape_seed_and_errors():
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    a = walk_visit_frequencies(SQUARE, 4, 1, [0.5, 1, 2], [1, 2], walk_length=4, num_walks=100, generator=g())
    b = walk_visit_frequencies(SQUARE, 4, 1, [0.5, 1, 2], [1, 2], walk_length=4, num_walks=100, generator=g())
    assert a.shape == (3, 2, 4) and torch.equal(a, b)
    assert torch.allclose(a.sum(-1), torch.ones(3, 2))
    with pytest.raises(ValueError, match="start 7 is not a node"):
        walk_visit_frequencies(SQUARE, 4, 7, [1], [1])
    with pytest.raises(ValueError, match="positive"):
        walk_visit_frequencies(SQUARE, 4, 0, [0.0], [1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hop_distances_agree_with_pyg_k_hop_subgraph(seed):
    ei = _random_graph(seed=seed)
    for target in (0, 5, 17):
        dist = hop_distances(ei, 30, target, max_hops=4)
        for k in range(5):
            subset = k_hop_subgraph(target, k, ei, num_nodes=30)[0]
            assert set(subset.tolist()) == set(((dist >= 0) & (dist <= k)).nonzero().flatten().tolist())


def test_hop_distances_follow_message_direction():
    chain = torch.tensor([[0, 1], [1, 2]])  # 0 -> 1 -> 2: node 2 hears from 1, then 0
    assert hop_distances(chain, 3, 2, 5).tolist() == [2, 1, 0]
    assert hop_distances(chain, 3, 0, 5).tolist() == [0, -1, -1]


@pytest.mark.parametrize("seed", [0, 1])
def test_computation_tree_sizes_count_the_unrolled_tree(seed):
    ei = _random_graph(n=15, m=25, seed=seed)
    for target in (0, 3, 9):
        levels = computation_tree(ei, target, num_layers=3, num_nodes=15)
        expected = [sum(len(level) for level in levels[:k + 1]) for k in range(4)]
        assert computation_tree_sizes(ei, 15, target, 3) == expected


def test_mask_sweep_keeps_edges_at_or_above_the_threshold():
    seen = []
    probs = mask_sweep(lambda keep: seen.append(keep.tolist()) or float(keep.sum()),
                       torch.tensor([0.2, 0.5, 0.8]), [0.0, 0.5, 0.9])
    assert probs == [3.0, 2.0, 0.0]
    assert seen[1] == [False, True, True]
    with pytest.raises(ValueError, match="one score per edge"):
        mask_sweep(lambda keep: 0.0, torch.zeros(2, 2), [0.5])


def test_node2vec_figure_starts_at_p_q_one_and_holds_every_setting():
    ps, qs = [0.25, 1.0, 4.0], [0.5, 1.0]
    f = walk_visit_frequencies(SQUARE, 4, 0, ps, qs, walk_length=3, num_walks=200,
                               generator=torch.Generator().manual_seed(0))
    fig = node2vec_figure(SQUARE, spring_positions(SQUARE, 4), f, ps, qs, start=0)
    nodes = fig.layout.select_one({"name": "nodes"})
    assert nodes.data["freq"] == f[1, 1].tolist()
    assert all(nodes.data[f"f_{i}_{j}"] == f[i, j].tolist() for i in range(3) for j in range(2))
    assert fig.layout.select_one({"name": "p"}).value == 1 and fig.layout.select_one({"name": "q"}).value == 1
    assert "p = 1, q = 1" in fig.layout.select_one({"name": "info"}).text
    html = fig._repr_html_()
    assert html.startswith('<div class="gnn-interactive">') and "f_2_1" in html
    with pytest.raises(ValueError, match="walk_visit_frequencies"):
        node2vec_figure(SQUARE, spring_positions(SQUARE, 4), f[:2], ps, qs, start=0)


def test_receptive_field_figure_shows_k_hops():
    path = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])
    fig = receptive_field_figure(path, 5, 0, max_hops=3)
    nodes = fig.layout.select_one({"name": "nodes"})
    assert nodes.data["node"] == [0, 1, 2, 3]          # node 4 is 4 hops away
    assert [a == 1.0 for a in nodes.data["a2"]] == [True, True, True, False]
    edges = fig.layout.select_one({"name": "edges"})
    assert sum(a > 0.5 for a in edges.data["a0"]) == 0 and sum(a > 0.5 for a in edges.data["a2"]) == 2
    assert "depends on 2 nodes; its computation graph has 2 nodes" in fig.layout.select_one({"name": "info"}).text


def test_mask_threshold_figure_counts_kept_edges():
    tri = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    s = torch.tensor([0.9, 0.7, 0.2, 0.2, 0.5, 0.5], dtype=torch.float64)  # an undirected edge shows its larger score
    fig = mask_threshold_figure(tri, 3, s, [0.0, 0.5, 0.95], [0.8, 0.6, 0.1], target=0, label="house")
    edges = fig.layout.select_one({"name": "edges"})
    assert edges.data["score"] == [0.9, 0.5, 0.2]       # edges (0,1), (0,2), (1,2)
    assert [a == 1.0 for a in edges.data["a1"]] == [True, True, False]
    assert "2 of 3 edges kept; p(house) = 0.60" in fig.layout.select_one({"name": "info"}).text
    with pytest.raises(ValueError, match="one probability per threshold"):
        mask_threshold_figure(tri, 3, s, [0.0, 0.5], [0.8], target=0)
    with pytest.raises(ValueError, match="one score per edge"):
        mask_threshold_figure(tri, 3, s[:3], [0.0], [0.8], target=0)
