r"""Graph classification: one label per graph.

A node classifier gives every node a vector; a graph classifier adds a **readout** that
pools the node vectors of each graph into one graph vector, then classifies that vector.
Many small graphs are trained together by *batching*: PyG's ``DataLoader`` stacks the graphs
of a mini-batch into one big disconnected graph and gives every node the index of its graph
in ``batch`` (shape ``[N]``), so message passing never crosses from one graph to another and
the readout pools per graph index.

This module holds

* :func:`degree_features`: one-hot node degrees, for graphs without node features;
* :class:`GraphClassifier`: GCN layers, a readout and a small MLP head;
* :func:`stratified_split`, :func:`train_graph_classifier`, :func:`evaluate`,
  :func:`predict_proba`: a held-out split and the training/evaluation loop over
  ``DataLoader`` batches;
* :func:`dataset_statistics`: counts and average sizes of a list of graphs.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv

from .graph_models import readout
from .train import History, fit
from .utils import check_edge_index, check_features

__all__ = [
    "degree_features",
    "dataset_statistics",
    "GraphClassifier",
    "stratified_split",
    "graph_classification_step",
    "train_graph_classifier",
    "evaluate",
    "predict_proba",
]

def degree_features(edge_index: Tensor, num_nodes: int, max_degree: int = 10) -> Tensor:
    r"""One-hot node degrees, capped at ``max_degree``: shape ``[N, max_degree + 1]``.

    ``edge_index`` holds both directions of every undirected edge, so the degree of ``v`` is
    the number of entries ``v`` in row 0.
    """
    check_edge_index(edge_index, num_nodes)
    deg = torch.bincount(edge_index[0], minlength=num_nodes).clamp(max=max_degree)
    return F.one_hot(deg, max_degree + 1).float()


def dataset_statistics(dataset: Sequence) -> Dict[str, float]:
    r"""Number of graphs, average nodes and undirected edges per graph, graphs per class.

    Edges are counted once per undirected pair (``edge_index`` holds both directions).
    """
    if len(dataset) == 0:
        raise ValueError("dataset_statistics: the dataset is empty")
    nodes = [int(d.num_nodes) for d in dataset]
    edges = [int(d.edge_index.size(1)) // 2 for d in dataset]
    ys = torch.cat([d.y.view(-1) for d in dataset])
    counts = torch.bincount(ys).tolist()
    return {
        "graphs": len(dataset),
        "avg_nodes": sum(nodes) / len(nodes),
        "avg_edges": sum(edges) / len(edges),
        "min_nodes": min(nodes),
        "max_nodes": max(nodes),
        **{f"class_{c}": k for c, k in enumerate(counts)},
    }


class GraphClassifier(nn.Module):
    r"""A GCN graph classifier: ``num_layers`` GCN layers, a readout, a two-layer MLP head.

    .. math::
        H^{(k+1)} = \mathrm{ReLU}\big(\tilde D^{-1/2} \tilde A \tilde D^{-1/2} H^{(k)} W^{(k)}\big),
        \quad \tilde A = A + I, \qquad
        \mathbf{z}_G = \mathrm{MLP}\big(\mathrm{readout}\{\mathbf{h}_v^{(K)} : v \in G\}\big)

    The GCN layers are PyG's ``GCNConv`` (symmetric normalisation with self-loops, as in the
    XGNN paper's classifier); the readout is :func:`readout`.

    Args:
        in_channels: node feature size ``F``.
        hidden_channels: width of every GCN layer and of the head's hidden layer.
        num_classes: number of graph classes ``C``.
        num_layers: GCN layers ``K`` (default 3).
        pooling: ``"mean"`` (default), ``"sum"`` or ``"max"``.
        dropout: dropout before the head's last layer (default 0).

    Shapes:
        ``forward(x [N, F], edge_index [2, E], batch [N] or None, edge_weight [E] or None)``
        returns logits ``[B, C]``.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        num_classes: int,
        num_layers: int = 3,
        pooling: str = "mean",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if min(in_channels, hidden_channels, num_layers) < 1 or num_classes < 2:
            raise ValueError(
                "GraphClassifier needs in_channels, hidden_channels, num_layers >= 1 and num_classes >= 2, "
                f"got {in_channels}, {hidden_channels}, {num_layers}, {num_classes}"
            )
        if pooling not in ("mean", "sum", "max"):
            raise ValueError(f"unknown pooling {pooling!r}; use 'mean', 'sum' or 'max'")
        self.in_channels, self.hidden_channels, self.num_classes = in_channels, hidden_channels, num_classes
        self.num_layers, self.pooling, self.dropout = num_layers, pooling, dropout
        dims = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.lin1 = nn.Linear(hidden_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        self.lin1.reset_parameters()
        self.lin2.reset_parameters()

    def embed(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        """Node embeddings after the last GCN layer, shape ``[N, hidden_channels]``."""
        check_features(x)
        if x.size(1) != self.in_channels:
            raise ValueError(f"x has {x.size(1)} features per node but the model expects {self.in_channels}")
        check_edge_index(edge_index, x.size(0))
        h = x
        for conv in self.convs:
            h = F.relu(conv(h, edge_index, edge_weight))
        return h

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        h = self.embed(x, edge_index, edge_weight)  # [N, H]
        g = readout(h, batch, self.pooling)  # [B, H]
        g = F.relu(self.lin1(g))
        g = F.dropout(g, self.dropout, self.training)
        return self.lin2(g)  # [B, C] logits

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, {self.num_classes}, "
                f"num_layers={self.num_layers}, pooling={self.pooling!r})")


def stratified_split(y: Tensor, test_fraction: float = 0.2, val_fraction: float = 0.0,
                     seed: int = 0) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Split graph indices into train / validation / test, keeping class proportions.

    Each class's indices are shuffled with a private generator seeded by ``seed``, then the
    first ``round(test_fraction * n_c)`` go to test, the next ``round(val_fraction * n_c)``
    to validation, the rest to training.

    Args:
        y: graph labels, shape ``[G]``.

    Returns:
        ``(train_idx, val_idx, test_idx)``, sorted ``long`` tensors (``val_idx`` is empty
        when ``val_fraction == 0``).
    """
    y = torch.as_tensor(y).view(-1)
    if not (0 < test_fraction < 1 and 0 <= val_fraction < 1 and test_fraction + val_fraction < 1):
        raise ValueError(f"need 0 < test_fraction, 0 <= val_fraction and a sum below 1; "
                         f"got {test_fraction}, {val_fraction}")
    gen = torch.Generator().manual_seed(seed)
    parts: List[List[Tensor]] = [[], [], []]
    for c in torch.unique(y).tolist():
        idx = (y == c).nonzero().view(-1)
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        n_test = round(test_fraction * idx.numel())
        n_val = round(val_fraction * idx.numel())
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    train, val, test = (torch.cat(p).sort().values for p in parts)
    return train, val, test


def _loader(data, batch_size: int, shuffle: bool, seed: int = 0):
    if isinstance(data, DataLoader):
        return data
    if len(data) == 0:
        raise ValueError("the dataset is empty: nothing to train or evaluate on")
    gen = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=gen)


def graph_classification_step(model: nn.Module, batch) -> Tuple[Tensor, Dict[str, float]]:
    r"""One mini-batch of graphs: the mean cross-entropy over the batch's graphs,

    .. math:: \mathcal{L} = -\frac{1}{|B|} \sum_{G \in B} \log \mathrm{softmax}(\mathbf{z}_G)_{y_G},

    with the batch's accuracy, weighted by its number of graphs (a ``step`` for
    :func:`gnncourse.train.fit`)."""
    logits = model(batch.x, batch.edge_index, batch.batch)
    loss = F.cross_entropy(logits, batch.y)
    acc = float((logits.argmax(-1) == batch.y).float().mean())
    return loss, {"train_acc": acc, "weight": batch.num_graphs}


def train_graph_classifier(
    model: nn.Module,
    train_data,
    epochs: int = 100,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    batch_size: int = 32,
    seed: int = 0,
    desc: Optional[str] = "train",
) -> History:
    r"""Train a graph classifier with Adam on mini-batches of graphs
    (:func:`graph_classification_step` through :func:`gnncourse.train.fit`).

    Args:
        model: called as ``model(x, edge_index, batch)``, returns logits ``[B, C]``.
        train_data: a list / PyG dataset of ``Data`` graphs (each with ``y`` of shape
            ``[1]``), or a ready ``DataLoader``.
        epochs, lr, weight_decay, batch_size: the optimisation settings.
        seed: seeds the shuffling of the batches (a private generator).
        desc: the progress bar's label (``None``: no bar).

    Returns:
        The :class:`~gnncourse.train.History`: ``"loss"`` and ``"train_acc"`` per epoch
        (means over the epoch's graphs, in training mode). The model ends in eval mode.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    loader = _loader(train_data, batch_size, shuffle=True, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return fit(model, opt, graph_classification_step, loader, epochs=epochs, desc=desc)


@torch.no_grad()
def predict_proba(model: nn.Module, data, batch_size: int = 128) -> Tensor:
    r"""Class probabilities ``softmax(z_G)`` of every graph, shape ``[G, C]`` (in order)."""
    model.eval()
    out = [F.softmax(model(b.x, b.edge_index, b.batch), dim=-1)
           for b in _loader(data, batch_size, shuffle=False)]
    return torch.cat(out)


@torch.no_grad()
def evaluate(model: nn.Module, data, batch_size: int = 128) -> float:
    r"""Accuracy: the fraction of graphs whose most probable class is their label ``y``."""
    loader = _loader(data, batch_size, shuffle=False)
    model.eval()
    correct, count = 0, 0
    for b in loader:
        correct += int((model(b.x, b.edge_index, b.batch).argmax(-1) == b.y).sum())
        count += b.num_graphs
    return correct / count
