"""Tests of gnncourse.convs: GCN, GAT and GIN against PyG's layers with copied weights
(outputs and gradients, on graphs with isolated nodes, explicit and duplicated self-loops),
hand-computed cases, the GNN stack, and input validation."""
import pytest
import torch
from torch_geometric.nn import GATConv, GCNConv, GINConv

from gnncourse.convs import (
    GATLayer, GCNLayer, GINLayer, GNN, LAYERS, add_self_loops, gcn_norm, make_layer, segment_softmax,
)

ATOL = 1e-6


def graph(seed, n=30, e=80, isolated=4, f=6):
    """A random directed graph: the last ``isolated`` nodes have no edge; self-loops on every
    fifth node (one of them twice) and a few duplicated edges."""
    g = torch.Generator().manual_seed(seed)
    m = n - isolated
    ei = torch.randint(0, m, (2, e), generator=g)
    loops = torch.arange(0, m, 5).repeat(2, 1)
    ei = torch.cat([ei, loops, loops[:, :1], ei[:, :4]], dim=1)
    return torch.randn(n, f, generator=g, dtype=torch.float64), ei


def assert_same(ours, ref, x, ei, pairs):
    """Equal outputs, and equal gradients w.r.t. the input and each (ours, ref) parameter pair."""
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_a, out_b = ours(xa, ei), ref(xb, ei)
    assert out_a.shape == out_b.shape
    assert torch.allclose(out_a, out_b, atol=ATOL)
    w = torch.randn_like(out_a)
    (out_a * w).sum().backward()
    (out_b * w).sum().backward()
    assert torch.allclose(xa.grad, xb.grad, atol=ATOL)
    for pa, pb in pairs:
        assert torch.allclose(pa.grad, pb.grad, atol=ATOL)


@pytest.mark.parametrize("seed", range(3))
def test_gcn_equals_pyg(seed):
    x, ei = graph(seed)
    torch.manual_seed(seed)
    ours = GCNLayer(6, 5).double()
    ref = GCNConv(6, 5).double()
    with torch.no_grad():
        ours.bias.normal_()
        ref.lin.weight.copy_(ours.lin.weight)
        ref.bias.copy_(ours.bias)
    assert_same(ours, ref, x, ei, [(ours.lin.weight, ref.lin.weight), (ours.bias, ref.bias)])


def test_gcn_edge_weights_equal_pyg():
    x, ei = graph(5)
    w = torch.rand(ei.size(1), dtype=torch.float64) + 0.1
    ours, ref = GCNLayer(6, 3).double(), GCNConv(6, 3).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
    assert torch.allclose(ours(x, ei, w), ref(x, ei, w), atol=ATOL)


@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_gat_equals_pyg(seed, concat):
    x, ei = graph(seed)
    torch.manual_seed(seed)
    ours = GATLayer(6, 4, heads=3, concat=concat).double()
    ref = GATConv(6, 4, heads=3, concat=concat).double()
    with torch.no_grad():
        ours.bias.normal_()
        for name in ("att_src", "att_dst", "bias"):
            getattr(ref, name).copy_(getattr(ours, name))
        ref.lin.weight.copy_(ours.lin.weight)
    pairs = [(ours.lin.weight, ref.lin.weight), (ours.att_src, ref.att_src), (ours.att_dst, ref.att_dst),
             (ours.bias, ref.bias)]
    assert_same(ours, ref, x, ei, pairs)


@pytest.mark.parametrize("train_eps", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_gin_equals_pyg(seed, train_eps):
    x, ei = graph(seed)
    torch.manual_seed(seed)
    ours = GINLayer(6, 5, eps=0.25, train_eps=train_eps, batch_norm=False).double()
    ref = GINConv(ours.mlp, eps=0.25, train_eps=train_eps).double()  # the same MLP object
    xa = x.clone().requires_grad_()
    out = ours(xa, ei)
    assert torch.allclose(out, ref(x, ei), atol=ATOL)
    if train_eps:  # the gradient of eps: d out / d eps = MLP'(.) x, compare with PyG's
        out.sum().backward()
        g_ours = ours.eps.grad.clone()
        ours.mlp.zero_grad()
        ref.eps.grad = None
        ref(x, ei).sum().backward()
        assert torch.allclose(g_ours, ref.eps.grad, atol=ATOL)


def test_gcn_by_hand():
    # path 0 - 1 plus isolated node 2; with loops: d = (2, 2, 1)
    ei = torch.tensor([[0, 1], [1, 0]])
    layer = GCNLayer(1, 1, bias=False)
    with torch.no_grad():
        layer.lin.weight.fill_(1.0)
    x = torch.tensor([[1.0], [3.0], [5.0]])
    # h_0 = x_0/2 + x_1/2 = 2, h_1 = 2, h_2 = x_2 / 1 = 5
    assert torch.allclose(layer(x, ei), torch.tensor([[2.0], [2.0], [5.0]]))


def test_add_self_loops_replaces_existing():
    ei = torch.tensor([[0, 1, 1, 1], [1, 0, 1, 1]])  # node 1 has two loops
    out, w = add_self_loops(ei, 3, torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert out.tolist() == [[0, 1, 0, 1, 2], [1, 0, 0, 1, 2]]
    assert w.tolist() == [1.0, 2.0, 1.0, 4.0, 1.0]


def test_gcn_norm_rows_of_regular_graph_sum_to_one():
    n = 6
    src = torch.arange(n)
    ei = torch.stack([torch.cat([src, (src + 1) % n]), torch.cat([(src + 1) % n, src])])
    ei2, w = gcn_norm(ei, n)
    row_sums = torch.zeros(n).index_add_(0, ei2[1], w)
    assert torch.allclose(row_sums, torch.ones(n))  # 3-regular with loops: every weight 1/3


def test_segment_softmax_sums_to_one_and_is_stable():
    index = torch.tensor([0, 0, 1, 2, 2, 2])
    scores = torch.tensor([[1000.0], [1001.0], [-5.0], [0.0], [0.0], [0.0]])
    alpha = segment_softmax(scores, index, 4)
    assert torch.isfinite(alpha).all()
    sums = torch.zeros(4, 1).index_add_(0, index, alpha)
    assert torch.allclose(sums[:3], torch.ones(3, 1)) and sums[3].item() == 0.0
    assert torch.allclose(alpha[3:], torch.full((3, 1), 1 / 3))
    with pytest.raises(ValueError, match="one target per score"):
        segment_softmax(scores, index[:3], 4)


def test_gat_attention_rows_sum_to_one_and_dropout_only_in_training():
    x, ei = graph(1, f=6)
    layer = GATLayer(6, 2, heads=2, dropout=0.5).double()
    _, ei2, alpha = layer.attention(x, ei)
    sums = torch.zeros(x.size(0), 2, dtype=x.dtype).index_add_(0, ei2[1], alpha)
    assert torch.allclose(sums, torch.ones_like(sums))
    layer.eval()
    assert torch.equal(layer(x, ei), layer(x, ei))


def test_permutation_equivariance():
    x, ei = graph(2)
    perm = torch.randperm(x.size(0), generator=torch.Generator().manual_seed(0))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(x.size(0))
    for layer in (GCNLayer(6, 4), GATLayer(6, 2, heads=2), GINLayer(6, 4, batch_norm=False)):
        layer = layer.double().eval()
        assert torch.allclose(layer(x[perm], inv[ei]), layer(x, ei)[perm], atol=1e-10)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gnn_stack_shapes_and_residual(name):
    x, ei = graph(3, f=6)
    x = x.float()
    for residual in (False, True):
        model = GNN(6, 8, 3, layer=name, num_layers=4, heads=2, residual=residual).eval()
        out = model(x, ei)
        assert out.shape == (x.size(0), 3)
        assert len(model.embeddings(x, ei)) == 4
    assert "num_layers=4" in repr(model)


def test_repr():
    assert repr(GCNLayer(3, 4)) == "GCNLayer(3, 4)"
    assert repr(GATLayer(3, 4, heads=2)) == "GATLayer(3, 4, heads=2, concat=True)"
    assert repr(GINLayer(3, 4)) == "GINLayer(3, 4)"


def test_bad_inputs():
    x, ei = graph(0)
    x = x.float()
    layer = GCNLayer(6, 2)
    with pytest.raises(ValueError, match="in_channels=6"):
        layer(x[:, :5], ei)
    with pytest.raises(ValueError, match="transposed"):
        layer(x, ei.t())
    with pytest.raises(ValueError, match="refers to node"):
        layer(x[:5], ei)
    with pytest.raises(ValueError, match="floating-point"):
        GINLayer(6, 2)(x.long(), ei)
    with pytest.raises(ValueError, match="NaN"):
        GATLayer(6, 2)(torch.full_like(x, float("nan")), ei)
    with pytest.raises(ValueError, match="heads must be a positive int"):
        GATLayer(6, 2, heads=0)
    with pytest.raises(ValueError, match="out_channels must be a positive int"):
        GCNLayer(6, 0)
    with pytest.raises(ValueError, match="dropout"):
        GATLayer(6, 2, dropout=1.0)
    with pytest.raises(ValueError, match="unknown layer 'sage'"):
        make_layer("sage", 6, 2)
    with pytest.raises(ValueError, match="divisible by heads"):
        make_layer("gat", 6, 10, heads=3)
    with pytest.raises(ValueError, match="edge_weight must have shape"):
        add_self_loops(ei, 30, torch.ones(3))
    with pytest.raises(ValueError, match="activation"):
        GNN(6, 8, 2, activation="tanh")


def test_smoothness_measures():
    from gnncourse.convs import dirichlet_energy, mean_cosine_distance

    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0 - 1 - 2
    same = torch.ones(3, 2)
    assert dirichlet_energy(same, ei) == 0.0 and mean_cosine_distance(same) == pytest.approx(0.0, abs=1e-6)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert dirichlet_energy(x, ei) == pytest.approx(8 / 3)  # 4 directed edges, each |d|^2 = 2; norms 3
    assert dirichlet_energy(5 * x, ei) == pytest.approx(dirichlet_energy(x, ei))  # scale-free
    assert 0.0 < mean_cosine_distance(x) < 1.0
    with pytest.raises(ValueError, match="at least 2 nodes"):
        mean_cosine_distance(torch.ones(1, 2))
