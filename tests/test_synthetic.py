"""The synthetic explanation benchmarks follow the GNNExplainer paper's protocol."""
import math

import networkx as nx
import pytest
import torch

from gnncourse.synthetic import (SYNTHETIC_DATASETS, ba_community, ba_shapes, load_synthetic,
                                 tree_cycles, tree_grid)


def _undirected(data):
    ei = data.edge_index
    return {(min(u, v), max(u, v)) for u, v in ei.t().tolist()}


@pytest.fixture(scope="module")
def shapes():
    return ba_shapes(seed=0)


@pytest.mark.parametrize("gen,n,n_edges,n_classes", [
    # base edges + motif edges + one attachment edge per motif, then int(p * |E|) noise edges
    (ba_shapes, 700, (295 * 5 + 80 * 7) + int(0.01 * (295 * 5 + 80 * 7)), 4),
    (tree_cycles, 871, (510 + 60 * 7) + int(0.01 * (510 + 60 * 7)), 2),
    (tree_grid, 1231, (510 + 80 * 13) + int(0.10 * (510 + 80 * 13)), 2),
])
def test_sizes_follow_the_protocol(gen, n, n_edges, n_classes):
    d = gen(seed=1)
    assert d.num_nodes == n and d.x.shape == (n, 10)
    assert len(_undirected(d)) == n_edges == d.edge_index.size(1) // 2
    assert int(d.y.max()) + 1 == n_classes
    assert torch.equal(d.x, torch.ones(n, 10))  # constant features


def test_edges_symmetric_sorted_simple(shapes):
    ei = shapes.edge_index
    assert (ei[0] != ei[1]).all()
    pairs = set(map(tuple, ei.t().tolist()))
    assert all((v, u) in pairs for u, v in pairs) and len(pairs) == ei.size(1)
    key = ei[0] * shapes.num_nodes + ei[1]
    assert (key[1:] > key[:-1]).all()


def test_houses_attached_at_evenly_spaced_base_nodes(shapes):
    g = nx.Graph(_undirected(shapes))
    spacing = math.floor(300 / 80)
    for k in range(80):
        nodes = list(range(300 + 5 * k, 305 + 5 * k))
        assert (shapes.motif_id[nodes] == k).all()
        assert shapes.y[nodes].tolist() == [1, 1, 2, 2, 3]
        motif_edges = shapes.edge_index[:, shapes.edge_motif == k]
        house = nx.Graph(motif_edges.t().tolist())
        assert nx.is_isomorphic(house, nx.house_graph()) and house.number_of_edges() == 6
        assert g.has_edge(300 + 5 * k, k * spacing)  # the motif's first node -> base node k*spacing
    assert (shapes.y[:300] == 0).all() and (shapes.motif_id[:300] == -1).all()


def test_motif_shapes_cycles_and_grids():
    c, gr = tree_cycles(seed=0), tree_grid(seed=0)
    for k in (0, 59):
        cyc = nx.Graph(c.edge_index[:, c.edge_motif == k].t().tolist())
        assert nx.is_isomorphic(cyc, nx.cycle_graph(6))
    grid = nx.Graph(gr.edge_index[:, gr.edge_motif == 3].t().tolist())
    assert nx.is_isomorphic(grid, nx.grid_2d_graph(3, 3))
    # the base is the balanced binary tree of height 8, untouched but for noise edges
    tree = nx.Graph([e for e in _undirected(c) if max(e) < 511])
    assert nx.balanced_tree(2, 8).edges() <= tree.edges()


def test_ba_community_two_communities():
    d = ba_community(seed=0)
    assert d.num_nodes == 1400 and int(d.y.max()) == 7
    assert (d.y[700:] >= 4).all() and (d.y[:700] < 4).all()
    # first two feature dimensions: mean -1 in community 1, +1 in community 2
    assert d.x[:700, :2].mean() < -0.8 and d.x[700:, :2].mean() > 0.8
    assert d.x[:, 2:].mean().abs() < 0.1
    cross = ((d.edge_index[0] < 700) & (d.edge_index[1] >= 700)).sum()
    assert int(cross) == 350  # the bridging edges


def test_seeded_and_split(shapes):
    again = ba_shapes(seed=0)
    assert torch.equal(again.edge_index, shapes.edge_index)
    assert torch.equal(again.train_mask, shapes.train_mask)
    assert not torch.equal(ba_shapes(seed=1).edge_index, shapes.edge_index)
    assert int(shapes.train_mask.sum()) == 560 and not (shapes.train_mask & shapes.test_mask).any()


def test_load_by_name_and_bad_input():
    assert list(SYNTHETIC_DATASETS) == ["BA-Shapes", "BA-Community", "Tree-Cycles", "Tree-Grid"]
    assert load_synthetic("Tree-Cycles", seed=2).num_nodes == 871
    with pytest.raises(ValueError, match="unknown synthetic dataset"):
        load_synthetic("BA-Houses")
    with pytest.raises(ValueError, match="seed"):
        ba_shapes(seed=-1)
