"""Tests for the K-hop neighbour sampler: edges exist, fanouts hold, seeds first, seeded
reproducibility, full fanout equals the full-graph computation, uniform without replacement."""
import random
from itertools import combinations

import pytest
import torch
from scipy.stats import chisquare
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph, to_undirected

from gnncourse.models import MeanAggregationGNN
from gnncourse.sampling import (NeighborBatches, SampledSubgraph, in_csr, sample_neighbors,
                                sample_neighbors_python)


def random_graph(n=300, e=1500, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    return to_undirected(ei, num_nodes=n)  # coalesced: no duplicate edges


def edge_set(ei):
    return set(map(tuple, ei.t().tolist()))


def test_in_csr_hand_example():
    # edges 0->1, 2->1, 1->0, 3->2: in-neighbours 0:{1}, 1:{0,2}, 2:{3}, 3:{}
    ei = torch.tensor([[0, 2, 1, 3], [1, 1, 0, 2]])
    rowptr, col = in_csr(ei, 4)
    assert rowptr.tolist() == [0, 1, 3, 4, 4]
    assert col.tolist() == [1, 0, 2, 3]


def test_hand_example_full_fanout():
    # path 0 - 1 - 2 - 3 - 4 (undirected); seed 1, two hops, all neighbours
    ei = to_undirected(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]))
    rowptr, col = in_csr(ei, 5)
    sub = sample_neighbors(rowptr, col, torch.tensor([1]), [-1, -1])
    assert sub.nodes.tolist() == [1, 0, 2, 3]  # seed, hop 1 (ascending ids), hop 2
    assert sub.num_seeds == 1
    assert sub.num_sampled_nodes == [1, 2, 1]
    assert sub.num_sampled_edges == [2, 3]  # 0->1, 2->1; then 1->0, 1->2, 3->2
    assert edge_set(sub.global_edge_index()) == {(0, 1), (2, 1), (1, 0), (1, 2), (3, 2)}


def test_sampled_edges_exist_fanouts_respected_seeds_first():
    ei = random_graph()
    rowptr, col = in_csr(ei, 300)
    deg = rowptr.diff()
    seeds = torch.tensor([5, 17, 3, 250, 99])
    fanouts = [4, 3, 2]
    sub = sample_neighbors(rowptr, col, seeds, fanouts, generator=torch.Generator().manual_seed(1))
    assert torch.equal(sub.nodes[:5], seeds)
    assert sub.nodes.unique().numel() == sub.nodes.numel()
    assert edge_set(sub.global_edge_index()) <= edge_set(ei)
    # hop by hop: every node expanded at hop l has exactly min(k_l, deg) distinct sampled neighbours
    bounds = torch.tensor([0] + sub.num_sampled_nodes).cumsum(0)
    ebounds = torch.tensor([0] + sub.num_sampled_edges).cumsum(0)
    for hop, k in enumerate(fanouts):
        dst = sub.edge_index[1, ebounds[hop]:ebounds[hop + 1]]
        src = sub.edge_index[0, ebounds[hop]:ebounds[hop + 1]]
        expanded = torch.arange(bounds[hop], bounds[hop + 1])
        counts = torch.bincount(dst, minlength=sub.num_nodes)[expanded]
        assert torch.equal(counts, deg[sub.nodes[expanded]].clamp(max=k))
        pairs = set(zip(src.tolist(), dst.tolist()))
        assert len(pairs) == src.numel()  # without replacement: no neighbour twice
    assert sum(sub.num_sampled_edges) == sub.edge_index.size(1)
    assert sum(sub.num_sampled_nodes) == sub.num_nodes


def test_reproducible_with_a_seed():
    rowptr, col = in_csr(random_graph(), 300)
    seeds = torch.arange(0, 300, 7)
    a = sample_neighbors(rowptr, col, seeds, [3, 3], torch.Generator().manual_seed(42))
    b = sample_neighbors(rowptr, col, seeds, [3, 3], torch.Generator().manual_seed(42))
    c = sample_neighbors(rowptr, col, seeds, [3, 3], torch.Generator().manual_seed(43))
    assert torch.equal(a.nodes, b.nodes) and torch.equal(a.edge_index, b.edge_index)
    assert not torch.equal(a.edge_index, c.edge_index) or not torch.equal(a.nodes, c.nodes)


def test_full_fanout_matches_k_hop_subgraph_and_python_loop():
    ei = random_graph(n=400, e=900, seed=3)
    rowptr, col = in_csr(ei, 400)
    seeds = torch.tensor([1, 50, 300])
    sub = sample_neighbors(rowptr, col, seeds, [-1, -1, -1])
    subset, _, _, _ = k_hop_subgraph(seeds, 3, ei, num_nodes=400)
    assert set(sub.nodes.tolist()) == set(subset.tolist())
    # all in-edges of nodes within K-1 = 2 hops
    inner, _, _, _ = k_hop_subgraph(seeds, 2, ei, num_nodes=400)
    expected = {(u, v) for u, v in edge_set(ei) if v in set(inner.tolist())}
    assert edge_set(sub.global_edge_index()) == expected
    ref = sample_neighbors_python(rowptr, col, seeds, [-1, -1, -1])
    assert torch.equal(ref.nodes[:3], seeds)
    assert set(ref.nodes.tolist()) == set(sub.nodes.tolist())
    assert edge_set(ref.global_edge_index()) == expected
    assert ref.num_sampled_nodes == sub.num_sampled_nodes
    assert ref.num_sampled_edges == sub.num_sampled_edges


def test_python_reference_respects_fanouts():
    ei = random_graph()
    rowptr, col = in_csr(ei, 300)
    ref = sample_neighbors_python(rowptr, col, torch.tensor([0, 1, 2]), [2, 2], random.Random(0))
    assert edge_set(ref.global_edge_index()) <= edge_set(ei)
    assert ref.num_sampled_edges[0] == int(rowptr.diff()[:3].clamp(max=2).sum())


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_full_fanout_minibatch_output_equals_full_graph_output(num_layers):
    torch.manual_seed(0)
    ei = random_graph(n=200, e=500, seed=5)
    x = torch.randn(200, 8)
    model = MeanAggregationGNN(8, 16, 4, num_layers=num_layers).eval()
    full = model(x, ei)
    data = Data(x=x, edge_index=ei)
    loader = NeighborBatches(data, batch_size=37, fanouts=[-1] * num_layers)
    seen = []
    for batch in loader:
        out = model(batch.x, batch.edge_index)[:batch.batch_size]
        torch.testing.assert_close(out, full[batch.n_id[:batch.batch_size]], rtol=1e-5, atol=1e-5)
        seen.append(batch.n_id[:batch.batch_size])
    assert torch.equal(torch.cat(seen), torch.arange(200))


def test_sampled_minibatch_differs_from_full_graph():
    # the check above can fail: with small fanouts the outputs do change
    torch.manual_seed(0)
    ei = random_graph(n=200, e=2000, seed=5)
    x = torch.randn(200, 8)
    model = MeanAggregationGNN(8, 16, 4).eval()
    full = model(x, ei)
    batch = next(iter(NeighborBatches(Data(x=x, edge_index=ei), batch_size=50, fanouts=[2, 2])))
    out = model(batch.x, batch.edge_index)[:batch.batch_size]
    assert not torch.allclose(out, full[batch.n_id[:50]], atol=1e-3)


def test_uniform_without_replacement():
    # 3000 disjoint stars: centre c has 5 leaves; sample 2 of them. Each of the C(5,2) = 10
    # pairs must come up equally often (chi-square, fixed seed), never a leaf twice.
    stars, leaves, k = 3000, 5, 2
    centre = torch.arange(stars) * (leaves + 1)
    leaf = centre[:, None] + 1 + torch.arange(leaves)
    ei = torch.stack([leaf.flatten(), centre.repeat_interleave(leaves)])  # leaf -> centre
    rowptr, col = in_csr(ei, stars * (leaves + 1))
    sub = sample_neighbors(rowptr, col, centre, [k], torch.Generator().manual_seed(0))
    src, dst = sub.global_edge_index()
    offsets = (src - dst - 1).view(stars, k).sort(dim=1).values  # leaf positions 0..4
    assert bool((offsets[:, 0] < offsets[:, 1]).all())  # two different leaves
    pair_id = {p: i for i, p in enumerate(combinations(range(leaves), k))}
    counts = torch.bincount(torch.tensor([pair_id[tuple(p)] for p in offsets.tolist()]), minlength=10)
    assert chisquare(counts.numpy()).pvalue > 1e-3
    # and each leaf is kept with probability k / d = 0.4
    per_leaf = torch.bincount(offsets.flatten(), minlength=leaves).float() / stars
    assert torch.allclose(per_leaf, torch.full((leaves,), k / leaves), atol=0.03)


def test_biased_sampler_would_fail_uniformity_check():
    # the chi-square check has power: always keeping the first leaves is rejected
    counts = torch.tensor([3000] + [0] * 9)
    assert chisquare(counts.numpy()).pvalue < 1e-3


def test_neighbor_batches_cover_mask_once_and_are_reproducible():
    n = 300
    ei = random_graph(n)
    data = Data(x=torch.randn(n, 4), edge_index=ei, y=torch.arange(n) % 3)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[::3] = True
    loader = NeighborBatches(data, mask, batch_size=32, fanouts=[3, 2], shuffle=True, seed=7)
    assert len(loader) == 4 and "num_batches=4" in repr(loader)
    epoch1 = list(loader)
    seeds = torch.cat([b.n_id[:b.batch_size] for b in epoch1])
    assert torch.equal(seeds.sort().values, mask.nonzero().flatten())
    for b in epoch1:
        assert torch.equal(b.x, data.x[b.n_id]) and torch.equal(b.y, data.y[b.n_id])
        assert b.edge_index.max() < b.num_nodes
    again = list(NeighborBatches(data, mask, batch_size=32, fanouts=[3, 2], shuffle=True, seed=7))
    assert all(torch.equal(a.n_id, b.n_id) and torch.equal(a.edge_index, b.edge_index) for a, b in zip(epoch1, again))
    epoch2 = list(loader)  # a new epoch draws a new order
    assert not torch.equal(epoch1[0].n_id[:32], epoch2[0].n_id[:32])
    assert len(list(NeighborBatches(data, mask, batch_size=32, drop_last=True))) == 3


@pytest.mark.parametrize("seeds, fanouts, match", [
    (torch.tensor([0, 0]), [2], "duplicates"),
    (torch.tensor([0, 400]), [2], r"\[0, 300\)"),
    (torch.tensor([[0]]), [2], "1-D"),
    (torch.tensor([0]), [0], "fanout"),
    (torch.tensor([0]), [], "one fanout per layer"),
])
def test_bad_input_raises(seeds, fanouts, match):
    rowptr, col = in_csr(random_graph(), 300)
    with pytest.raises(ValueError, match=match):
        sample_neighbors(rowptr, col, seeds, fanouts)


def test_bad_csr_raises():
    with pytest.raises(ValueError, match="rowptr"):
        sample_neighbors(torch.tensor([0, 2]), torch.tensor([0]), torch.tensor([0]), [1])


def test_isolated_seed_and_dataclass():
    ei = torch.tensor([[1], [2]])
    rowptr, col = in_csr(ei, 3)
    sub = sample_neighbors(rowptr, col, torch.tensor([0, 2]), [5, 5])
    assert isinstance(sub, SampledSubgraph)
    assert sub.nodes.tolist() == [0, 2, 1]
    assert sub.global_edge_index().tolist() == [[1], [2]]


@pytest.mark.parametrize("fanouts, match", [([2.7], "whole number"), (10, "a list"), ([True], "whole number"),
                                            ([0], "positive int or -1")])
def test_fanouts_are_not_truncated_silently(ring, fanouts, match):
    g = ring()
    rowptr, col = in_csr(g.edge_index, g.num_nodes)
    with pytest.raises(ValueError, match=match):
        sample_neighbors(rowptr, col, torch.tensor([0]), fanouts)


def test_fanouts_accept_numpy_and_tensor_ints(ring):
    import numpy as np
    g = ring()
    rowptr, col = in_csr(g.edge_index, g.num_nodes)
    a = sample_neighbors(rowptr, col, torch.tensor([0]), [np.int64(2), torch.tensor(1)], torch.Generator().manual_seed(0))
    b = sample_neighbors(rowptr, col, torch.tensor([0]), [2, 1], torch.Generator().manual_seed(0))
    assert torch.equal(a.global_edge_index(), b.global_edge_index())


def test_batch_size_is_not_truncated_silently(ring):
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 2.5"):
        NeighborBatches(ring(), batch_size=2.5, fanouts=[2])
