"""Tests of gnncourse.graph_models: readouts by hand, the batching round trip (a PyG
DataLoader batch is the disjoint union; per-graph readout of a batch equals each graph's
readout alone), the classifier's shapes and input validation."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from gnncourse.graph_models import (
    GNNGraphClassifier, READOUTS, max_readout, mean_readout, readout, sum_readout,
)


def small_graphs(k=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(k):
        n = 3 + i
        src = torch.arange(n)
        ei = torch.stack([torch.cat([src, (src + 1) % n]), torch.cat([(src + 1) % n, src])])
        graphs.append(Data(x=torch.randn(n, 4, generator=g), edge_index=ei, y=torch.tensor([i % 2])))
    return graphs


def test_readouts_by_hand():
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0], [5.0, 1.0]])
    batch = torch.tensor([0, 0, 2])  # graph 1 has no nodes
    assert sum_readout(x, batch).tolist() == [[4.0, -2.0], [0.0, 0.0], [5.0, 1.0]]
    assert mean_readout(x, batch).tolist() == [[2.0, -1.0], [0.0, 0.0], [5.0, 1.0]]
    assert max_readout(x, batch).tolist() == [[3.0, 0.0], [0.0, 0.0], [5.0, 1.0]]
    assert max_readout(-x[:, :1]).tolist() == [[-1.0]]  # all negative: the max is negative, not 0
    assert readout(x, batch, "sum", num_graphs=4).shape == (4, 2)


def test_loader_batch_is_the_disjoint_union():
    graphs = small_graphs()
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs), shuffle=False)))
    offset, edges = 0, []
    for g in graphs:
        edges.append(g.edge_index + offset)
        offset += g.num_nodes
    assert torch.equal(batch.x, torch.cat([g.x for g in graphs]))
    assert torch.equal(batch.edge_index, torch.cat(edges, dim=1))
    assert batch.batch.tolist() == [i for i, g in enumerate(graphs) for _ in range(g.num_nodes)]
    assert batch.num_graphs == len(graphs)


@pytest.mark.parametrize("layer", ["gin", "gcn", "gat", "mean"])
@pytest.mark.parametrize("how", sorted(READOUTS))
def test_batched_readout_equals_each_graph_alone(layer, how):
    graphs = small_graphs()
    torch.manual_seed(0)
    model = GNNGraphClassifier(4, 8, 2, layer=layer, num_layers=3, readout=how, heads=2).eval()
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs), shuffle=False)))
    together = model(batch.x, batch.edge_index, batch.batch)
    alone = torch.cat([model(g.x, g.edge_index) for g in graphs])
    assert together.shape == (len(graphs), 2)
    assert torch.allclose(together, alone, atol=1e-5)
    emb = model.node_embeddings(batch.x, batch.edge_index)[-1]
    per_graph = READOUTS[how](emb, batch.batch)
    assert torch.allclose(per_graph, torch.cat([READOUTS[how](model.node_embeddings(g.x, g.edge_index)[-1])
                                                for g in graphs]), atol=1e-5)


def test_classifier_repr_and_errors():
    model = GNNGraphClassifier(4, 8, 2)
    assert repr(model) == "GNNGraphClassifier(4, 8, 2, layer='gin', num_layers=4, readout='sum')"
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match="in_channels=4"):
        model(torch.randn(3, 5), torch.empty(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown readout 'median'"):
        GNNGraphClassifier(4, 8, 2, readout="median")
    with pytest.raises(ValueError, match="num_classes"):
        GNNGraphClassifier(4, 8, 1)
    with pytest.raises(ValueError, match="shape \\[N\\] = \\[3\\]"):
        sum_readout(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="negative graph id"):
        mean_readout(x, torch.tensor([0, -1, 0]))
    with pytest.raises(ValueError, match="num_graphs=1"):
        max_readout(x, torch.tensor([0, 1, 1]), num_graphs=1)
    with pytest.raises(ValueError, match="integer graph ids"):
        sum_readout(x, torch.tensor([0.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="unknown readout"):
        readout(x, None, "min")
