"""The synthetic benchmarks follow their papers' protocols: the GNNExplainer paper's node
explanation graphs, and the XGNN paper's Is_Acyclic."""
import math
import random

import networkx as nx
import pytest
import torch

from gnncourse.graph_classification import dataset_statistics
from gnncourse.synthetic import (IS_ACYCLIC_FAMILIES, SYNTHETIC_DATASETS, ba_community, ba_shapes, family_edges,
                                 load_synthetic, make_is_acyclic, tree_cycles, tree_grid)


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


# --- Is_Acyclic ---------------------------------------------------------------------------

def _nx(data):
    g = nx.Graph()
    g.add_nodes_from(range(data.num_nodes))
    g.add_edges_from(data.edge_index.t().tolist())
    return g


# ---------------------------------------------------------------- Is_Acyclic generator


def test_every_generated_graph_has_the_label_of_its_structure():
    ds = make_is_acyclic(graphs_per_family=6, seed=3)
    assert len(ds) == 6 * len(IS_ACYCLIC_FAMILIES)
    for d in ds:
        g = _nx(d)
        assert nx.is_connected(g), d.family
        assert nx.number_of_selfloops(g) == 0
        assert g.number_of_edges() * 2 == d.edge_index.size(1)  # no duplicate edges
        assert int(d.y) == (1 if nx.is_tree(g) else 0), d.family


def test_family_sizes_match_their_formulas():
    rng = random.Random(0)
    n, e = family_edges("wheel", 9, rng)
    assert (n, len(e)) == (9, 16)
    n, e = family_edges("circular_ladder", 5, rng)
    assert (n, len(e)) == (10, 15)
    n, e = family_edges("binary_tree", 3, rng)
    assert (n, len(e)) == (15, 14)
    n, e = family_edges("cycle", 7, rng)
    assert (n, len(e), len(set(e))) == (7, 7, 7)
    n, e = family_edges("grid", 4, rng)
    a = n // 4
    assert len(e) == a * 3 + (a - 1) * 4
    with pytest.raises(ValueError, match="unknown family"):
        family_edges("clique", 5, rng)
    with pytest.raises(ValueError, match="size"):
        family_edges("cycle", 2, rng)


def test_graphs_are_independent_objects_and_random_trees_differ():
    # the widely copied generator appends one tree object many times: all "random" trees equal
    ds = make_is_acyclic(graphs_per_family=10, seed=0)
    trees = [d for d in ds if d.family == "random_tree"]
    shapes = {tuple(map(tuple, d.edge_index.t().tolist())) for d in trees}
    assert len(shapes) == len(trees)
    ids = {id(d.edge_index) for d in ds} | {id(d.x) for d in ds}
    assert len(ids) == 2 * len(ds)
    before = ds[1].edge_index.clone()
    ds[0].edge_index.zero_()
    assert torch.equal(ds[1].edge_index, before)


def test_generator_is_seeded_and_statistics_are_paper_like():
    a, b, c = make_is_acyclic(seed=0), make_is_acyclic(seed=0), make_is_acyclic(seed=1)
    assert all(torch.equal(x.edge_index, y.edge_index) for x, y in zip(a, b))
    assert any(x.edge_index.shape != y.edge_index.shape or not torch.equal(x.edge_index, y.edge_index)
               for x, y in zip(a, c))
    s = dataset_statistics(a)
    assert s["class_0"] == s["class_1"] == 240
    assert 24 <= s["avg_nodes"] <= 32 and 26 <= s["avg_edges"] <= 34
