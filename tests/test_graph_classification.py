"""Tests for gnncourse.graph_classification: readout, the GCN graph classifier, batching,
the split and the training helpers (the Is_Acyclic generator is tested in test_synthetic.py)."""
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

from gnncourse.graph_models import readout
from gnncourse.synthetic import make_is_acyclic
from gnncourse.graph_classification import (
    GraphClassifier,
    dataset_statistics,
    evaluate,
    predict_proba,
    stratified_split,
    train_graph_classifier,
)


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny graphs: thread start-up costs more than it saves (and the CI machine is shared)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_degree_features_are_one_hot_degrees():
    d = make_is_acyclic(graphs_per_family=1, features="degree", max_degree=4)[2]  # a wheel
    deg = torch.bincount(d.edge_index[0], minlength=d.num_nodes).clamp(max=4)
    assert torch.equal(d.x.argmax(1), deg) and torch.equal(d.x.sum(1), torch.ones(d.num_nodes))
    with pytest.raises(ValueError, match="features"):
        make_is_acyclic(features="random")


def test_statistics_count_undirected_edges_once():
    tri = Data(edge_index=torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]]), y=torch.tensor([0]), num_nodes=3)
    path = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([1]), num_nodes=2)
    s = dataset_statistics([tri, path])
    assert s == {"graphs": 2, "avg_nodes": 2.5, "avg_edges": 2.0, "min_nodes": 2, "max_nodes": 3,
                 "class_0": 1, "class_1": 1}


# ---------------------------------------------------------------- readout


@pytest.mark.parametrize("how,ref", [("mean", global_mean_pool), ("sum", global_add_pool), ("max", global_max_pool)])
def test_readout_matches_pyg(how, ref):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(11, 4, generator=g)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3])
    assert torch.allclose(readout(x, batch, how), ref(x, batch), atol=1e-6)


def test_readout_by_hand_and_empty_graph():
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
    batch = torch.tensor([0, 0, 2])  # graph 1 has no node
    assert torch.equal(readout(x, batch, "mean"), torch.tensor([[2.0, 1.0], [0.0, 0.0], [5.0, 0.0]]))
    assert torch.equal(readout(x, batch, "max"), torch.tensor([[3.0, 4.0], [0.0, 0.0], [5.0, 0.0]]))
    assert torch.equal(readout(x, None, "sum"), torch.tensor([[9.0, 2.0]]))
    with pytest.raises(ValueError, match="readout"):
        readout(x, batch, "median")
    with pytest.raises(ValueError, match="batch"):
        readout(x, torch.tensor([0, 1]), "mean")


# ---------------------------------------------------------------- classifier and batching


def _small_graphs():
    return make_is_acyclic(graphs_per_family=2, seed=0, features="degree")


def test_classifier_shapes_repr_and_bad_input():
    torch.manual_seed(0)
    m = GraphClassifier(11, 16, 2, pooling="sum")
    b = Batch.from_data_list(_small_graphs()[:5])
    assert m(b.x, b.edge_index, b.batch).shape == (5, 2)
    assert repr(m) == "GraphClassifier(11, 16, 2, num_layers=3, pooling='sum')"
    with pytest.raises(ValueError, match="features"):
        m(torch.ones(b.num_nodes, 3), b.edge_index, b.batch)
    with pytest.raises(ValueError, match="pooling"):
        GraphClassifier(3, 8, 2, pooling="attention")
    with pytest.raises(ValueError, match="num_classes"):
        GraphClassifier(3, 8, 1)


@pytest.mark.parametrize("pooling", ["mean", "sum", "max"])
def test_batched_logits_equal_one_graph_at_a_time(pooling):
    torch.manual_seed(0)
    m = GraphClassifier(11, 16, 2, pooling=pooling).eval()
    graphs = _small_graphs()[::3]
    b = Batch.from_data_list(graphs)
    together = m(b.x, b.edge_index, b.batch)
    alone = torch.cat([m(d.x, d.edge_index) for d in graphs])
    assert torch.allclose(together, alone, atol=1e-5)


def test_classifier_is_invariant_to_node_order():
    torch.manual_seed(0)
    m = GraphClassifier(11, 16, 2).eval()
    d = _small_graphs()[4]
    perm = torch.randperm(d.num_nodes, generator=torch.Generator().manual_seed(1))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(d.num_nodes)
    out = m(d.x, d.edge_index)
    out_perm = m(d.x[perm], inv[d.edge_index])
    assert torch.allclose(out, out_perm, atol=1e-5)


def test_classifier_gcn_layer_matches_normalised_adjacency():
    # one GCN layer, by hand: relu(D^-1/2 (A + I) D^-1/2 X W + b)
    torch.manual_seed(0)
    m = GraphClassifier(2, 3, 2, num_layers=1).eval()
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    a = torch.eye(3)
    a[edge_index[0], edge_index[1]] = 1
    dinv = a.sum(1).pow(-0.5)
    conv = m.convs[0]
    expected = torch.relu(dinv[:, None] * a * dinv[None, :] @ x @ conv.lin.weight.t() + conv.bias)
    assert torch.allclose(m.embed(x, edge_index), expected, atol=1e-6)


# ---------------------------------------------------------------- split, training, evaluation


def test_stratified_split_is_disjoint_complete_balanced_and_seeded():
    y = torch.tensor([0] * 30 + [1] * 70)
    tr, va, te = stratified_split(y, test_fraction=0.2, val_fraction=0.1, seed=0)
    allidx = torch.cat([tr, va, te]).sort().values
    assert torch.equal(allidx, torch.arange(100))
    assert (y[te] == 0).sum() == 6 and (y[te] == 1).sum() == 14
    assert (y[va] == 0).sum() == 3 and (y[va] == 1).sum() == 7
    tr2, _, te2 = stratified_split(y, 0.2, 0.1, seed=0)
    assert torch.equal(te, te2) and torch.equal(tr, tr2)
    assert not torch.equal(te, stratified_split(y, 0.2, 0.1, seed=1)[2])
    assert stratified_split(y, 0.2)[1].numel() == 0
    with pytest.raises(ValueError):
        stratified_split(y, test_fraction=0.0)


class _Constant(torch.nn.Module):
    """Always predicts class ``c``: its accuracy is the share of class ``c``."""

    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, x, edge_index, batch=None):
        n = int(batch.max()) + 1 if batch is not None else 1
        return torch.nn.functional.one_hot(torch.full((n,), self.c), 2).float()


def test_evaluate_and_predict_proba_on_a_known_model():
    ds = _small_graphs()[:10]  # 8 cyclic, then 2 acyclic
    assert evaluate(_Constant(0), ds, batch_size=3) == 0.8
    assert evaluate(_Constant(1), ds, batch_size=4) == pytest.approx(0.2)
    p = predict_proba(_Constant(1), ds, batch_size=3)
    assert p.shape == (10, 2) and torch.allclose(p.sum(1), torch.ones(10))
    assert torch.all(p[:, 1] > p[:, 0])
    with pytest.raises(ValueError, match="empty"):
        evaluate(_Constant(0), [])


def test_training_learns_is_acyclic_and_is_reproducible():
    torch.manual_seed(0)
    ds = make_is_acyclic(graphs_per_family=6, seed=0, features="degree")
    y = torch.cat([d.y for d in ds])
    tr, _, te = stratified_split(y, 0.25, seed=0)
    train, test = [ds[i] for i in tr], [ds[i] for i in te]
    m = GraphClassifier(11, 16, 2)
    before = evaluate(m, test)
    h = train_graph_classifier(m, train, epochs=25, batch_size=16, desc=None)
    assert len(h["loss"]) == 25 and h["loss"][-1] < h["loss"][0]
    after = evaluate(m, test)
    assert after >= 0.9 and after > before
    torch.manual_seed(0)
    m2 = GraphClassifier(11, 16, 2)
    h2 = train_graph_classifier(m2, train, epochs=25, batch_size=16, desc=None)
    assert h2["loss"] == h["loss"]


def test_diverging_graph_classifier_blames_the_weights_not_the_input(ring):
    graphs = make_is_acyclic(graphs_per_family=4, seed=0, features="degree", max_degree=10)
    torch.manual_seed(0)
    model = GraphClassifier(11, 8, 2, pooling="sum")
    from gnncourse.train import NonFiniteLossError
    with pytest.raises(NonFiniteLossError, match="weights diverged"):
        train_graph_classifier(model, graphs, epochs=20, lr=1e12, seed=0, desc=None)
