"""Tests of gnncourse.wl: 1-WL on known pairs, isomorphism invariance, and the multisets
that mean and max aggregation confuse but sum tells apart (with real layer outputs)."""
import pytest
import torch

from gnncourse.convs import GINLayer
from gnncourse.layers import MeanAggregation, max_aggregate, mean_aggregate
from gnncourse.wl import star_graph, wl_colors, wl_distinguishable, wl_histograms


def undirected(edges):
    e = torch.tensor(edges).t()
    return torch.cat([e, e.flip(0)], dim=1)


def cycle(n, offset=0):
    return [(offset + i, offset + (i + 1) % n) for i in range(n)]


TWO_TRIANGLES = (undirected(cycle(3) + cycle(3, 3)), 6)
HEXAGON = (undirected(cycle(6)), 6)
# Different degree histograms: a path of 4 vs a star with 3 leaves
PATH4 = (undirected([(0, 1), (1, 2), (2, 3)]), 4)
STAR4 = (undirected([(0, 1), (0, 2), (0, 3)]), 4)
# Same node and edge counts: a triangle with a tail vs a 4-cycle
TRIANGLE_TAIL = (undirected([(0, 1), (1, 2), (2, 0), (2, 3)]), 4)
CYCLE4 = (undirected(cycle(4)), 4)


def test_two_triangles_vs_hexagon_indistinguishable():
    assert not wl_distinguishable(TWO_TRIANGLES, HEXAGON)
    hist = wl_histograms([TWO_TRIANGLES, HEXAGON])
    assert all(h[0] == h[1] for h in hist)
    assert len(set(c for c in wl_colors([TWO_TRIANGLES, HEXAGON])[-1][0])) == 1  # 2-regular: one colour


def test_distinguishable_pairs():
    assert wl_distinguishable(PATH4, STAR4)  # degree histograms differ after round 1
    assert wl_distinguishable(TRIANGLE_TAIL, CYCLE4)  # same node and edge counts
    # a path of 5 vs a tree with a branch
    path5 = (undirected([(0, 1), (1, 2), (2, 3), (3, 4)]), 5)
    other = (undirected([(0, 1), (1, 2), (2, 3), (1, 4)]), 5)  # degrees 1,3,2,1,1: differ at once
    assert wl_distinguishable(path5, other)


def test_needs_more_than_one_round():
    # a path of 6 vs a triangle beside a path of 3: both have degrees {1: 2, 2: 4}
    p6 = (undirected([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]), 6)
    c3_p3 = (undirected(cycle(3) + [(3, 4), (4, 5)]), 6)
    assert wl_distinguishable(p6, c3_p3)
    assert not wl_distinguishable(p6, c3_p3, iterations=1)  # degree histograms agree


def test_isomorphic_relabelled_graphs_get_equal_histograms():
    g = torch.Generator().manual_seed(0)
    for trial in range(5):
        n = 9
        ei = torch.randint(0, n, (2, 14), generator=g)
        perm = torch.randperm(n, generator=g)
        assert not wl_distinguishable((ei, n), (perm[ei], n))
        hist = wl_histograms([(ei, n), (perm[ei], n)], iterations=4)
        assert all(h[0] == h[1] for h in hist)


def test_labels_and_data_objects():
    from torch_geometric.data import Data

    a = Data(edge_index=PATH4[0], num_nodes=4)
    assert not wl_distinguishable(a, a)
    # same path, labels on different ends: a mirror image, isomorphic
    assert not wl_distinguishable(PATH4, PATH4, labels=[[1, 0, 0, 0], [0, 0, 0, 1]])
    assert wl_distinguishable(PATH4, PATH4, labels=[[1, 0, 0, 0], [0, 1, 0, 0]])


def test_bad_inputs():
    with pytest.raises(ValueError, match="pair or a PyG Data"):
        wl_colors(["not a graph"])
    with pytest.raises(ValueError, match="empty"):
        wl_colors([])
    with pytest.raises(ValueError, match="one colour per node"):
        wl_colors([PATH4], labels=[[0, 1]])
    with pytest.raises(ValueError, match="iterations"):
        wl_colors([PATH4], iterations=-1)
    with pytest.raises(ValueError, match="leaf_features"):
        star_graph(torch.zeros(0, 2))


A, B = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])


@pytest.mark.parametrize("left, right, mean_same, max_same", [
    ([A, B], [A, A, B, B], True, True),   # same proportions, twice the count
    ([A], [A, A], True, True),            # one neighbour vs two identical ones
    ([A, A, B], [A, B, B], False, True),  # max sees only which features occur
])
def test_multisets_mean_max_confuse_sum_separates(left, right, mean_same, max_same):
    (xl, el), (xr, er) = star_graph(torch.stack(left)), star_graph(torch.stack(right))
    centre = lambda f, x, e: f(x, e)[0]  # the aggregate at the star's centre
    assert torch.equal(centre(mean_aggregate, xl, el), centre(mean_aggregate, xr, er)) == mean_same
    assert torch.equal(centre(max_aggregate, xl, el), centre(max_aggregate, xr, er)) == max_same
    torch.manual_seed(0)
    mean_layer = MeanAggregation(2, 4)
    gin = GINLayer(2, 4, batch_norm=False)
    if mean_same:  # a real mean layer cannot tell them apart, whatever its weights
        assert torch.allclose(mean_layer(xl, el)[0], mean_layer(xr, er)[0])
    assert not torch.allclose(gin(xl, el)[0], gin(xr, er)[0])  # the sum layer does
