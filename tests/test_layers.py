"""Tests of gnncourse.layers: a hand-computed graph, three forms against each other and
against PyG's SAGEConv, permutation equivariance, gradients, input validation."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gnncourse.layers import (
    MeanAggregation,
    max_aggregate,
    mean_adjacency,
    mean_aggregate,
    mean_aggregate_loop,
    mean_aggregate_sparse,
)

FORMS = [mean_aggregate_loop, mean_aggregate, mean_aggregate_sparse]


# A 4-node graph, edges u -> v:  1->0, 2->0, 0->1, 0->2, 3->2; node 3 has no neighbours.
X4 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [4.0, 0.0]])
EI4 = torch.tensor([[1, 2, 0, 0, 3], [0, 0, 1, 2, 2]])
# By hand: m_0 = (x_1 + x_2)/2, m_1 = x_0, m_2 = (x_0 + x_3)/2, m_3 = 0.
M4 = torch.tensor([[1.0, 1.5], [1.0, 0.0], [2.5, 0.0], [0.0, 0.0]])


def random_graph(num_nodes, num_edges, num_isolated, num_features, seed, dtype=torch.float32):
    """Random directed graph whose last ``num_isolated`` nodes have no edges, plus self-loops."""
    g = torch.Generator().manual_seed(seed)
    n_conn = num_nodes - num_isolated
    if n_conn > 0 and num_edges > 0:
        ei = torch.randint(0, n_conn, (2, num_edges), generator=g)
        loops = torch.arange(0, n_conn, 3).repeat(2, 1)  # self-loops on every third node
        ei = torch.cat([ei, loops, ei[:, :3]], dim=1)  # and a few duplicated edges
    else:
        ei = torch.empty(2, 0, dtype=torch.long)
    x = torch.randn(num_nodes, num_features, generator=g, dtype=dtype)
    return x, ei


@pytest.mark.parametrize("form", FORMS)
def test_hand_computed_mean(form):
    assert torch.allclose(form(X4, EI4), M4)


def test_hand_computed_layer():
    layer = MeanAggregation(2, 2)
    with torch.no_grad():
        layer.lin_neigh.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))  # W = I
        layer.lin_neigh.bias.copy_(torch.tensor([0.5, -0.5]))
        layer.lin_self.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 2.0]]))  # B = 2 I
    # h_v' = m_v + 2 x_v + b, computed by hand from M4 and X4
    expected = torch.tensor([[1 + 2 + 0.5, 1.5 + 0 - 0.5],
                             [1 + 0 + 0.5, 0 + 2 - 0.5],
                             [2.5 + 4 + 0.5, 0 + 4 - 0.5],
                             [0 + 8 + 0.5, 0 + 0 - 0.5]])
    assert torch.allclose(layer(X4, EI4), expected)


def test_hand_computed_adjacency_and_max():
    a = mean_adjacency(EI4, 4, layout="dense")
    expected = torch.tensor([[0, 0.5, 0.5, 0], [1, 0, 0, 0], [0.5, 0, 0, 0.5], [0, 0, 0, 0]])
    assert torch.equal(a, expected)
    assert torch.equal(max_aggregate(X4, EI4), torch.tensor([[2.0, 2.0], [1.0, 0.0], [4.0, 0.0], [0.0, 0.0]]))


GRAPHS = [  # (num_nodes, num_edges, num_isolated, num_features)
    (1, 0, 1, 3),
    (4, 6, 1, 2),
    (17, 40, 3, 5),
    (60, 300, 5, 8),
    (250, 2000, 20, 16),
]


@pytest.mark.parametrize("n,e,iso,f", GRAPHS)
def test_three_forms_agree(n, e, iso, f):
    x, ei = random_graph(n, e, iso, f, seed=n)
    ref = mean_aggregate_loop(x, ei)
    assert torch.allclose(mean_aggregate(x, ei), ref, atol=1e-6)
    assert torch.allclose(mean_aggregate_sparse(x, ei), ref, atol=1e-6)
    assert torch.allclose(mean_adjacency(ei, n, layout="dense") @ x, ref, atol=1e-6)
    if iso:
        assert torch.equal(ref[-iso:], torch.zeros(iso, f))  # no neighbours: zero mean


@pytest.mark.parametrize("layout", ["coo", "csr", "dense"])
def test_adjacency_layouts(layout):
    x, ei = random_graph(40, 150, 4, 3, seed=1)
    a = mean_adjacency(ei, 40, layout=layout)
    dense = a if layout == "dense" else a.to_dense()
    rows = dense.sum(dim=1)
    deg = torch.bincount(ei[1], minlength=40)
    assert torch.allclose(rows, (deg > 0).float())  # rows sum to 1, or 0 without neighbours
    assert torch.allclose(dense @ x, mean_aggregate(x, ei), atol=1e-6)


@pytest.mark.parametrize("n,e,iso,f", GRAPHS)
@pytest.mark.parametrize("out_channels", [3, 32])  # narrower (transform first) and wider
def test_layer_matches_pyg_sageconv(n, e, iso, f, out_channels):
    torch.manual_seed(0)
    x, ei = random_graph(n, e, iso, f, seed=n + 1)
    layer = MeanAggregation(f, out_channels)
    conv = layer.to_pyg()
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, ref = layer(x1, ei), conv(x2, ei)
    assert out.shape == (n, out_channels)
    assert torch.allclose(out, ref, atol=1e-5)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    (ref * g).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-5)
    assert torch.allclose(layer.lin_neigh.weight.grad, conv.lin_l.weight.grad, atol=1e-4)
    assert torch.allclose(layer.lin_self.weight.grad, conv.lin_r.weight.grad, atol=1e-4)


def test_layer_equals_matrix_form():
    """H' = Ã H Wᵀ + H Bᵀ + b, with Ã from the sparse matrix."""
    torch.manual_seed(0)
    x, ei = random_graph(30, 90, 2, 6, seed=3)
    for out_channels in (2, 9):
        layer = MeanAggregation(6, out_channels)
        a = mean_adjacency(ei, 30)
        expected = (torch.sparse.mm(a, x) @ layer.lin_neigh.weight.T + layer.lin_neigh.bias
                    + x @ layer.lin_self.weight.T)
        assert torch.allclose(layer(x, ei), expected, atol=1e-5)


def test_no_bias_and_no_edges():
    layer = MeanAggregation(3, 2, bias=False)
    assert layer.lin_neigh.bias is None
    x = torch.randn(5, 3)
    empty = torch.empty(2, 0, dtype=torch.long)
    assert torch.allclose(layer(x, empty), x @ layer.lin_self.weight.T)  # only the self term
    for form in FORMS:
        assert torch.equal(form(x, empty), torch.zeros(5, 3))


def test_int32_edge_index_and_float64():
    x, ei = random_graph(20, 60, 2, 4, seed=5, dtype=torch.float64)
    ref = mean_aggregate_loop(x, ei)
    for form in FORMS:
        out = form(x, ei.int())
        assert out.dtype == torch.float64
        assert torch.allclose(out, ref)


def test_max_aggregate_against_loop():
    x, ei = random_graph(50, 200, 4, 5, seed=7)
    src, dst = ei
    for v in range(50):
        nb = src[dst == v]
        expected = x[nb].max(dim=0).values if len(nb) else torch.zeros(5)
        assert torch.equal(max_aggregate(x, ei)[v], expected)


def test_max_has_no_matrix_form():
    """No fixed matrix reproduces max: max is not additive in H, every matrix product is."""
    x, ei = random_graph(10, 30, 0, 3, seed=2)
    y = torch.randn(10, 3, generator=torch.Generator().manual_seed(1))
    assert not torch.allclose(max_aggregate(x + y, ei), max_aggregate(x, ei) + max_aggregate(y, ei))
    assert torch.allclose(mean_aggregate(x + y, ei), mean_aggregate(x, ei) + mean_aggregate(y, ei), atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 25), e=st.integers(0, 80), f=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_permutation_equivariance(n, e, f, seed):
    """Relabel the nodes by a permutation P: the output is permuted the same way, f(PX, PAPᵀ) = P f(X, A)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, f, generator=g, dtype=torch.float64)
    ei = torch.randint(0, n, (2, e), generator=g)
    perm = torch.randperm(n, generator=g)  # new node i is old node perm[i]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)  # old node j is new node inv[j]
    x_p, ei_p = x[perm], inv[ei]
    torch.manual_seed(seed)
    layer = MeanAggregation(f, 3).double()
    for fn in (mean_aggregate, mean_aggregate_sparse, max_aggregate, layer):
        assert torch.allclose(fn(x_p, ei_p), fn(x, ei)[perm], atol=1e-10)


@pytest.mark.parametrize("in_channels,out_channels", [(4, 2), (2, 3)])
def test_gradcheck(in_channels, out_channels):
    torch.manual_seed(0)
    x, ei = random_graph(8, 20, 1, in_channels, seed=11, dtype=torch.float64)
    x.requires_grad_()
    layer = MeanAggregation(in_channels, out_channels).double()
    w, b, s = layer.lin_neigh.weight, layer.lin_neigh.bias, layer.lin_self.weight

    def f(x, w, b, s):  # the layer as a function of its input and all its parameters
        return torch.func.functional_call(layer, {"lin_neigh.weight": w, "lin_neigh.bias": b,
                                                  "lin_self.weight": s}, (x, ei))

    assert torch.autograd.gradcheck(f, (x, w, b, s))
    for form in (mean_aggregate, mean_aggregate_sparse):
        assert torch.autograd.gradcheck(lambda x: form(x, ei), (x,))


def test_repr():
    assert repr(MeanAggregation(1433, 16)) == "MeanAggregation(1433, 16)"


@pytest.mark.parametrize("x,ei,match", [
    (X4, EI4.t(), "shape \\[2, E\\].*transposed"),
    (X4, EI4.float(), "integer node ids"),
    (X4, torch.tensor([[0, 4], [1, 0]]), "refers to node 4"),
    (X4, torch.tensor([[0, -1], [1, 0]]), "negative"),
    (X4[:, 0], EI4, "shape \\[N, F\\]"),
    (X4.long(), EI4, "floating-point"),
    (torch.tensor([[1.0, float("nan")]] * 4), EI4, "NaN"),
])
def test_input_validation(x, ei, match):
    for fn in FORMS + [max_aggregate, MeanAggregation(2, 3)]:
        with pytest.raises(ValueError, match=match):
            fn(x, ei)


def test_validation_of_sizes():
    with pytest.raises(ValueError, match="in_channels=3"):
        MeanAggregation(3, 2)(X4, EI4)
    with pytest.raises(ValueError, match="one row per node"):
        mean_aggregate(X4, EI4, num_nodes=5)
    with pytest.raises(ValueError, match="positive int"):
        MeanAggregation(0, 2)
    with pytest.raises(ValueError, match="unknown layout"):
        mean_adjacency(EI4, 4, layout="csc")
