"""Bad input gets a clear error, not a silently wrong answer (issue 15, items 7 and 8)."""
import pytest
import torch
from torch_geometric.data import Data

from gnncourse import train, utils
from gnncourse.embeddings import deepwalk
from gnncourse.sampling import NeighborBatches, in_csr, sample_neighbors


def _ring(n=8):
    src = torch.arange(n)
    ei = torch.stack([torch.cat([src, (src + 1) % n]), torch.cat([(src + 1) % n, src])])
    return Data(x=torch.randn(n, 3), edge_index=ei, y=torch.zeros(n, dtype=torch.long),
                train_mask=torch.ones(n, dtype=torch.bool))


@pytest.mark.parametrize("fanouts, match", [([2.7], "whole number"), (10, "a list"), ([True], "whole number"),
                                            ([0], "positive int or -1")])
def test_fanouts_are_not_truncated_silently(fanouts, match):
    g = _ring()
    rowptr, col = in_csr(g.edge_index, g.num_nodes)
    with pytest.raises(ValueError, match=match):
        sample_neighbors(rowptr, col, torch.tensor([0]), fanouts)


def test_fanouts_accept_numpy_and_tensor_ints():
    import numpy as np
    g = _ring()
    rowptr, col = in_csr(g.edge_index, g.num_nodes)
    a = sample_neighbors(rowptr, col, torch.tensor([0]), [np.int64(2), torch.tensor(1)], torch.Generator().manual_seed(0))
    b = sample_neighbors(rowptr, col, torch.tensor([0]), [2, 1], torch.Generator().manual_seed(0))
    assert torch.equal(a.global_edge_index(), b.global_edge_index())


def test_batch_size_is_not_truncated_silently():
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 2.5"):
        NeighborBatches(_ring(), batch_size=2.5, fanouts=[2])


def test_diverging_skipgram_stops_with_a_clear_error():
    g = _ring(30)
    with pytest.raises(train.NonFiniteLossError, match="smaller learning rate"):
        deepwalk(g.edge_index, g.num_nodes, embedding_dim=8, walk_length=5, walks_per_node=10, lr=1e30, seed=0)
    assert train.NonFiniteLossError is utils.NonFiniteLossError   # one class, importable from both


@pytest.mark.parametrize("keep_prob", [1.5, 0.0, 1.0, -0.1])
def test_linear_surrogate_refuses_a_keep_prob_outside_0_1(keep_prob):
    from gnncourse import explain as E
    from gnncourse.models import GNNExplainerPaperNet
    g = _ring()
    model = GNNExplainerPaperNet(3, 2).eval()
    sg = E.computation_subgraphs(g.edge_index, torch.tensor([0]), 3, g.num_nodes)
    with pytest.raises(ValueError, match="keep_prob must lie strictly between 0 and 1"):
        E.linear_surrogate(model, g.x, sg, torch.tensor([0]), keep_prob=keep_prob)


def test_diverging_graph_classifier_blames_the_weights_not_the_input():
    from gnncourse.graph_classification import GraphClassifier, make_is_acyclic, train_graph_classifier
    graphs = make_is_acyclic(graphs_per_family=4, seed=0, features="degree", max_degree=10)
    torch.manual_seed(0)
    model = GraphClassifier(11, 8, 2, pooling="sum")
    with pytest.raises(train.NonFiniteLossError, match="weights diverged"):
        train_graph_classifier(model, graphs, epochs=20, lr=1e12, seed=0, show_progress=False)


def test_float64_features_are_named_before_a_matmul_fails():
    from gnncourse.models import MeanAggregationGNN
    g = _ring()
    model = MeanAggregationGNN(3, 4, 2)
    with pytest.raises(ValueError, match=r"x is torch.float64 but the model's weights are torch.float32"):
        model(g.x.double(), g.edge_index)
    assert model.double()(g.x.double(), g.edge_index).dtype == torch.float64   # both converted: fine


def test_link_auc_names_diverged_embeddings_instead_of_failing_in_sklearn():
    from gnncourse.links import link_auc
    z = torch.randn(8, 4)
    z[3] = float("nan")
    pos, neg = torch.tensor([[0, 3], [1, 4]]), torch.tensor([[0, 5], [6, 7]])
    with pytest.raises(ValueError, match="NaN or inf"):
        link_auc(z, pos, neg)


def test_explainers_node2vec_and_surrogate_name_bad_arguments():
    from gnncourse import explain as E
    from gnncourse.embeddings import node2vec
    from gnncourse.models import GNNExplainerPaperNet
    g = _ring()
    model = GNNExplainerPaperNet(3, 2).eval()
    sg = E.computation_subgraphs(g.edge_index, torch.tensor([0]), 3, g.num_nodes)
    with pytest.raises(ValueError, match=r"class 5, but the model predicts 2 classes"):
        E.saliency(model, g.x, sg, torch.tensor([5]))
    with pytest.raises(ValueError, match="predicts 2 classes"):
        E.occlusion(model, g.x, sg, torch.tensor([-1]))
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        E.linear_surrogate(model, g.x, sg, torch.tensor([0]), num_samples=0)
    with pytest.raises(ValueError, match="walk_length must be a positive int"):
        node2vec(g.edge_index, g.num_nodes, walk_length=0)
