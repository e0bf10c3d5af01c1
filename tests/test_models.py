"""Tests of gnncourse.models: the K-layer mean-aggregation encoder, the sum-aggregation and GAT node
classifiers of the explanation chapters, and the input checks every model makes."""
import pytest
import torch
from torch_geometric.nn.models import GraphSAGE
from torch_geometric.utils import k_hop_subgraph, to_undirected

from gnncourse.layers import MeanAggregation
from gnncourse.models import (GATNodeClassifier, GNNExplainerOriginalNet, GNNExplainerPaperNet,
                              MeanAggregationGNN, NormalizedSumConv)


def graph(n=40, e=120, f=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = to_undirected(torch.randint(0, n - 3, (2, e), generator=g), num_nodes=n)  # 3 isolated nodes
    return torch.randn(n, f, generator=g), ei


def test_shapes_and_layers():
    model = MeanAggregationGNN(6, 16, 3, num_layers=3)
    x, ei = graph()
    assert model(x, ei).shape == (40, 3)
    assert [(l.in_channels, l.out_channels) for l in model.layers] == [(6, 16), (16, 16), (16, 3)]
    assert all(isinstance(l, MeanAggregation) for l in model.layers)
    assert [(l.in_channels, l.out_channels) for l in MeanAggregationGNN(6, 16, 3, num_layers=1).layers] == [(6, 3)]


def test_forward_is_layers_with_relu_between():
    torch.manual_seed(0)
    model = MeanAggregationGNN(6, 8, 4, num_layers=2).eval()
    x, ei = graph()
    expected = model.layers[1](model.layers[0](x, ei).relu(), ei)  # no activation after the last layer
    assert torch.allclose(model(x, ei), expected)
    assert (model(x, ei) < 0).any()


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_matches_pyg_graphsage(num_layers):
    """In eval mode (no dropout) the model equals PyG's GraphSAGE (mean) with the same weights."""
    torch.manual_seed(0)
    x, ei = graph(seed=1)
    model = MeanAggregationGNN(6, 8, 4, num_layers=num_layers).eval()
    ref = GraphSAGE(6, 8, num_layers, out_channels=4, aggr="mean").eval()
    with torch.no_grad():
        for ours, conv in zip(model.layers, ref.convs):
            conv.lin_l.weight.copy_(ours.lin_neigh.weight)
            conv.lin_l.bias.copy_(ours.lin_neigh.bias)
            conv.lin_r.weight.copy_(ours.lin_self.weight)
    assert torch.allclose(model(x, ei), ref(x, ei), atol=1e-5)


def test_dropout_only_in_training():
    torch.manual_seed(0)
    model = MeanAggregationGNN(6, 8, 4, dropout=0.5)
    x, ei = graph()
    model.eval()
    assert torch.equal(model(x, ei), model(x, ei))
    model.train()
    assert not torch.allclose(model(x, ei), model(x, ei))


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_receptive_field_and_subgraph(num_layers):
    """A node's output depends only on its K-hop neighbourhood: running the model on that
    subgraph (as a mini-batch does) gives the same rows for the seed nodes."""
    torch.manual_seed(0)
    x, ei = graph(n=60, e=90, seed=2)
    model = MeanAggregationGNN(6, 8, 4, num_layers=num_layers).eval()
    full = model(x, ei)
    seeds = torch.tensor([0, 5, 11])
    subset, sub_ei, mapping, _ = k_hop_subgraph(seeds, num_layers, ei, relabel_nodes=True, num_nodes=60)
    assert len(subset) < 60
    assert torch.allclose(model(x[subset], sub_ei)[mapping], full[seeds], atol=1e-6)
    # changing a node outside the K-hop neighbourhood leaves the seeds' outputs unchanged
    outside = torch.tensor(sorted(set(range(60)) - set(subset.tolist())))
    x2 = x.clone()
    x2[outside] += 10.0
    assert torch.allclose(model(x2, ei)[seeds], full[seeds], atol=1e-6)


def test_permutation_equivariance():
    torch.manual_seed(0)
    model = MeanAggregationGNN(6, 8, 4, num_layers=3).eval()
    x, ei = graph(seed=3)
    perm = torch.randperm(40)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(40)
    assert torch.allclose(model(x[perm], inv[ei]), model(x, ei)[perm], atol=1e-6)


def test_learns_a_neighbourhood_task():
    """Label = whether the neighbours' mean feature is positive: only aggregation can see it."""
    torch.manual_seed(0)
    x, ei = graph(n=200, e=800, f=1, seed=4)
    from gnncourse.layers import mean_aggregate
    y = (mean_aggregate(x, ei)[:, 0] > 0).long()
    model = MeanAggregationGNN(1, 16, 2, num_layers=1, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, ei), y)
        loss.backward()
        opt.step()
    acc = (model(x, ei).argmax(1) == y).float().mean().item()
    assert acc >= 0.95


def test_reset_parameters():
    model = MeanAggregationGNN(6, 8, 4)
    before = [p.clone() for p in model.parameters()]
    model.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_repr():
    assert repr(MeanAggregationGNN(1433, 64, 7)) == "MeanAggregationGNN(1433, 64, 7, num_layers=2, dropout=0.5)"


def test_validation():
    with pytest.raises(ValueError, match="num_layers"):
        MeanAggregationGNN(6, 8, 4, num_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        MeanAggregationGNN(6, 8, 4, dropout=1.0)
    model = MeanAggregationGNN(6, 8, 4)
    x, ei = graph()
    with pytest.raises(ValueError, match="refers to node 40"):
        model(x, torch.cat([ei, torch.tensor([[0], [40]])], dim=1))
    with pytest.raises(ValueError, match="in_channels=6"):
        model(x[:, :5], ei)


def test_degree_scaled_gat_with_uniform_attention_is_sum_aggregation():

    torch.manual_seed(0)
    ei = to_undirected(torch.tensor([[0, 0, 0, 1], [1, 2, 3, 2]]))   # node 0 has 3 neighbours
    x = torch.randn(5, 4)                                           # node 4 is isolated
    plain = GATNodeClassifier(4, 2, hidden_channels=3, num_layers=1).eval()
    scaled = GATNodeClassifier(4, 2, hidden_channels=3, num_layers=1, degree_scaled=True).eval()
    scaled.load_state_dict(plain.state_dict())
    conv = scaled.convs[0]
    with torch.no_grad():
        conv.att_src.zero_()
        conv.att_dst.zero_()                                        # uniform attention 1 / (deg + 1)
        conv.bias.zero_()
        # expected: sum over the neighbours and the node itself of W x_u, fed to the classifier
        a = torch.zeros(5, 5)
        a[ei[1], ei[0]] = 1
        h = (a + torch.eye(5)) @ conv.lin(x)
        assert torch.allclose(scaled(x, ei), scaled.lin(h), atol=1e-5)
        # the attention weights are still the softmax weights of plain GAT
        assert torch.allclose(scaled.attention(x, ei)[0], 1 / (torch.bincount(ei[1], minlength=5)[ei[1]] + 1.0))


def test_gat_attention_stays_on_its_edges_when_the_input_has_self_loops():
    """Input self-loops (listed first) must not shift the coefficients of the other edges,
    must get their node's own loop coefficient, and must not count as neighbours."""

    torch.manual_seed(0)
    ring = torch.tensor([[i for i in range(6)], [(i + 1) % 6 for i in range(6)]])
    ring = to_undirected(ring)                                        # 12 edges
    loops = torch.arange(6).repeat(2, 1)
    with_loops = torch.cat([loops, ring], dim=1)                      # loops first
    x = torch.randn(6, 3)
    for scaled in (False, True):
        model = GATNodeClassifier(3, 2, hidden_channels=4, num_layers=2, degree_scaled=scaled).eval()
        with torch.no_grad():
            plain_att = model.attention(x, ring)
            loop_att = model.attention(x, with_loops)
            assert torch.allclose(model(x, ring), model(x, with_loops), atol=1e-6)
        for a, b in zip(plain_att, loop_att):
            assert torch.allclose(b[6:], a, atol=1e-6)                # ring edges: same coefficients
            incoming = torch.zeros(6).index_add_(0, ring[1], a)       # softmax over N(v) and the loop
            assert torch.allclose(b[:6], 1 - incoming, atol=1e-5)     # the loop gets the rest


def test_float64_features_are_named_before_a_matmul_fails(ring):
    from gnncourse.models import MeanAggregationGNN
    g = ring()
    model = MeanAggregationGNN(3, 4, 2)
    with pytest.raises(ValueError, match=r"x is torch.float64 but the model's weights are torch.float32"):
        model(g.x.double(), g.edge_index)
    assert model.double()(g.x.double(), g.edge_index).dtype == torch.float64   # both converted: fine


@pytest.mark.parametrize("model", [MeanAggregationGNN(4, 8, 3), GNNExplainerPaperNet(4, 3), GATNodeClassifier(4, 3),
                                   GNNExplainerOriginalNet(4, 3)],
                         ids=lambda m: type(m).__name__)
def test_every_node_model_checks_its_input(model):
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    model(torch.ones(3, 4), ei)  # valid input runs
    bad_x = torch.ones(3, 4)
    bad_x[1, 2] = float("inf")
    for x, e, match in [(bad_x, ei, "infinite"), (torch.ones(3, 5), ei, "in_channels=4"),
                        (torch.ones(3, 4, dtype=torch.float64), ei, "float64"),
                        (torch.ones(3, 4), torch.tensor([[0, 1], [1, 7]]), "refers to node 7")]:
        with pytest.raises(ValueError, match=match):
            model(x, e)


def test_gat_reset_parameters_redraws_every_weight():
    torch.manual_seed(0)
    m = GATNodeClassifier(4, 3)
    before = [p.detach().clone() for p in m.parameters()]
    m.reset_parameters()
    changed = [not torch.equal(a, b) for a, b in zip(before, m.parameters()) if a.abs().sum() > 0]
    assert all(changed) and len(changed) >= 4


def test_paper_net_gated_forward_equals_forward_and_checks_edge_weights():
    torch.manual_seed(0)
    m = GNNExplainerPaperNet(4, 3).eval()
    x, ei = torch.rand(5, 4), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    out, gates = m.forward_gated(x, ei)
    assert torch.allclose(out, m(x, ei)) and len(gates) == 2
    assert torch.allclose(m.forward_gated(x, ei, gates=gates)[0], out)  # its own gates: the same pass
    with pytest.raises(ValueError, match="one weight per edge"):
        m(x, ei, torch.ones(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        m(x, ei, torch.tensor([1.0, float("nan"), 1.0, 1.0]))


# --- the GNNExplainer code's model: normalised sum aggregation, no self weight ------------------

def _hand_model():
    """2 layers of width 2 on 1 input feature, weights chosen to be easy to follow by hand."""
    m = GNNExplainerOriginalNet(1, 2, hidden_channels=2, num_layers=2).eval()
    with torch.no_grad():
        m.convs[0].weight.copy_(torch.tensor([[1.0, -1.0]]))
        m.convs[0].bias.copy_(torch.tensor([0.0, 1.0]))
        m.convs[1].weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        m.convs[1].bias.copy_(torch.tensor([0.0, -1.0]))
        m.lin.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
        m.lin.bias.copy_(torch.tensor([0.0, 0.5]))
    return m


PATH_X = torch.tensor([[1.0], [2.0], [3.0]])
PATH_EI = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # the path 0 - 1 - 2, both directions


def test_original_net_on_a_path_by_hand():
    """z_v = W^T sum_u h_u + b, n_v = z_v / |z_v|, ReLU but on the last layer, then the classifier
    on [h1 || h2]; every number below is worked out from these formulas."""
    s5 = 5 ** 0.5
    # layer 1 (W = [1, -1], b = [0, 1]): node 0 and 2 receive x_1 = 2, node 1 receives 1 + 3 = 4
    #   z_0 = [2, -1] -> n = [2, -1]/sqrt5 -> ReLU [2/sqrt5, 0];  z_1 = [4, -3] -> [0.8, -0.6] -> [0.8, 0]
    h1 = torch.tensor([[2 / s5, 0.0], [0.8, 0.0], [2 / s5, 0.0]])
    # layer 2 (W = [[1, 2], [3, 4]], b = [0, -1]), no ReLU:
    #   node 0 and 2 receive h1_1 = [0.8, 0]: z = [0.8, 1.6 - 1] = [0.8, 0.6], already of length 1
    #   node 1 receives h1_0 + h1_2 = [4/sqrt5, 0]: z = [4/sqrt5, 8/sqrt5 - 1]
    z1 = torch.tensor([4 / s5, 8 / s5 - 1])
    h2 = torch.stack([torch.tensor([0.8, 0.6]), z1 / z1.norm(), torch.tensor([0.8, 0.6])])
    logits = torch.stack([h1[:, 0], h2[:, 0] + h2[:, 1] + 0.5], dim=1)  # lin: [h1[0], h2[0] + h2[1] + 0.5]
    m = _hand_model()
    assert torch.allclose(m.embed(PATH_X, PATH_EI), torch.cat([h1, h2], 1), atol=1e-6)
    assert torch.allclose(m(PATH_X, PATH_EI), logits, atol=1e-6)
    assert torch.allclose(m(PATH_X, PATH_EI)[1], torch.tensor([0.8, 1.8916766]), atol=1e-6)


def test_original_net_edge_weights_scale_messages_by_hand():
    m = _hand_model()
    w = torch.tensor([1.0, 0.5, 1.0, 1.0])  # the message 1 -> 0 at half weight
    s5 = 5 ** 0.5
    # layer 1, node 0: z = 0.5 * 2 * [1, -1] + [0, 1] = [1, 0]: unit length, ReLU keeps it
    # layer 2, node 0: receives 0.5 * h1_1 = [0.4, 0]: z = [0.4, 0.8 - 1] -> [0.4, -0.2] / sqrt(0.2)
    # layer 2, node 1: receives h1_0 + h1_2 = [1 + 2/sqrt5, 0]
    z0 = torch.tensor([0.4, -0.2])
    z1 = torch.tensor([1 + 2 / s5, 2 * (1 + 2 / s5) - 1])
    emb = m.embed(PATH_X, PATH_EI, w)
    assert torch.allclose(emb[0], torch.cat([torch.tensor([1.0, 0.0]), z0 / z0.norm()]), atol=1e-6)
    assert torch.allclose(emb[1, 2:], z1 / z1.norm(), atol=1e-6)


def test_original_net_has_no_self_weight_and_unit_layer_outputs():
    torch.manual_seed(0)
    m = GNNExplainerOriginalNet(6, 3).eval()
    assert [n for n, _ in m.convs[0].named_parameters()] == ["weight", "bias"]  # no root / self weight
    x, ei = graph()
    emb = m.embed(x, ei)
    norms = torch.stack([emb[:, 20 * i:20 * (i + 1)].norm(dim=1) for i in range(3)])
    isolated = torch.tensor([37, 38, 39])  # they receive nothing: z = b = 0 at initialisation
    keep = torch.ones(40, dtype=torch.bool)
    keep[isolated] = False
    assert torch.allclose(norms[2, keep], torch.ones(37))  # the last layer: unit length, no ReLU
    assert (norms[:2, keep] <= 1 + 1e-6).all() and (emb[:, :40] >= 0).all()  # ReLU after normalising
    assert (emb[:, 40:] < 0).any()
    assert torch.equal(emb[isolated], torch.zeros(3, 60))


def test_original_net_cancels_a_uniform_rescaling_of_the_messages_when_the_bias_is_zero():
    """The reason this model matters for explanations: a soft mask that scales every message
    by the same c > 0 changes nothing once the layer outputs are normalised (bias 0)."""
    torch.manual_seed(0)
    m = GNNExplainerOriginalNet(6, 3).eval()
    x, ei = graph()
    c = torch.full((ei.size(1),), 0.3)
    assert torch.allclose(m(x, ei, c), m(x, ei), atol=1e-5)
    with torch.no_grad():
        for conv in m.convs:
            conv.bias.fill_(0.5)
    assert not torch.allclose(m(x, ei, c), m(x, ei), atol=1e-3)  # a bias breaks the invariance


def test_original_net_edge_weight_equals_pyg_message_masks():
    """PyG's explainers mask messages inside MessagePassing layers; on this model that is the
    same as passing the mask as edge_weight."""
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks  # only this test needs them
    torch.manual_seed(0)
    m = GNNExplainerOriginalNet(6, 3).eval()
    x, ei = graph()
    mask = torch.rand(ei.size(1))
    set_masks(m, torch.nn.Parameter(mask), ei, apply_sigmoid=False)
    try:
        out = m(x, ei)
    finally:
        clear_masks(m)
    assert torch.allclose(out, m(x, ei, mask), atol=1e-6)


def test_original_net_gated_forward_and_dropout_placement():
    torch.manual_seed(0)
    m = GNNExplainerOriginalNet(6, 3).eval()
    x, ei = graph()
    out, gates = m.forward_gated(x, ei)
    assert torch.allclose(out, m(x, ei), atol=1e-6) and len(gates) == 3
    assert torch.allclose(m.forward_gated(x, ei, gates=gates)[0], out, atol=1e-6)
    # dropout acts only on the middle layers' input, as in the code (first and last built without)
    d = GNNExplainerOriginalNet(6, 3, num_layers=2, dropout=0.5).train()
    d.load_state_dict(GNNExplainerOriginalNet(6, 3, num_layers=2).state_dict())
    assert torch.equal(d(x, ei), d.eval()(x, ei))
    d3 = GNNExplainerOriginalNet(6, 3, dropout=0.5).train()
    assert not torch.equal(d3(x, ei), d3(x, ei))


def test_normalized_sum_conv_validation_and_repr():
    conv = NormalizedSumConv(3, 5)
    assert repr(conv) == "NormalizedSumConv(3, 5)" and conv.bias is not None
    assert NormalizedSumConv(3, 5, bias=False).bias is None
    assert repr(GNNExplainerOriginalNet(4, 3)) == "GNNExplainerOriginalNet(4, 3, hidden=20, layers=3)"
    with pytest.raises(ValueError, match="num_layers"):
        GNNExplainerOriginalNet(4, 3, num_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        GNNExplainerOriginalNet(4, 3, dropout=1.0)
