"""Tests of gnncourse.models: the K-layer mean-aggregation encoder, the sum-aggregation and GAT node
classifiers of the explanation chapters, and the input checks every model makes."""
import pytest
import torch
from torch_geometric.nn.models import GraphSAGE
from torch_geometric.utils import k_hop_subgraph, to_undirected

from gnncourse.layers import MeanAggregation
from gnncourse.models import GATNodeClassifier, GNNExplainerPaperNet, MeanAggregationGNN


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


@pytest.mark.parametrize("model", [MeanAggregationGNN(4, 8, 3), GNNExplainerPaperNet(4, 3), GATNodeClassifier(4, 3)],
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
