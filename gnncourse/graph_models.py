r"""Graphs as inputs: readout (sum, mean, max over a ``batch`` vector) and a graph classifier.

A mini-batch of graphs is one big graph, their **disjoint union**: the node features are
stacked, each graph's ``edge_index`` is shifted by the number of nodes before it, and a
vector ``batch`` (shape ``[N]``) says which graph every node belongs to. PyG's
``DataLoader`` builds exactly this (no compiled extension needed). Message passing never
crosses from one graph to another, because no edge does; a **readout** then pools each
graph's node vectors into one vector:

.. math::
    \mathbf{h}_G^{\text{sum}} = \sum_{v \in G} \mathbf{h}_v, \qquad
    \mathbf{h}_G^{\text{mean}} = \frac{1}{|V_G|}\sum_{v \in G} \mathbf{h}_v, \qquad
    \mathbf{h}_G^{\text{max}} = \max_{v \in G} \mathbf{h}_v \ \text{(per feature)}

:class:`GNNGraphClassifier` stacks layers chosen by name (:data:`gnncourse.convs.LAYERS`),
reads out every layer's node vectors and classifies their concatenation with an MLP.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .convs import make_layer, run_layer
from .utils import check_dropout, check_edge_index, check_features

__all__ = ["sum_readout", "mean_readout", "max_readout", "READOUTS", "readout", "GNNGraphClassifier"]


def _check_batch(x: Tensor, batch: Optional[Tensor], num_graphs: Optional[int]):
    check_features(x)
    if batch is None:
        batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
    if not isinstance(batch, Tensor) or batch.dim() != 1 or batch.numel() != x.size(0):
        raise ValueError(f"batch must be a tensor of shape [N] = [{x.size(0)}] holding each node's graph id, "
                         f"got {list(getattr(batch, 'shape', []))}")
    if batch.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"batch must hold integer graph ids, got dtype {batch.dtype}; convert it with batch.long()")
    if batch.numel() and int(batch.min()) < 0:
        raise ValueError(f"batch contains a negative graph id ({int(batch.min())}); graph ids must be 0..B-1")
    top = int(batch.max()) + 1 if batch.numel() else 0
    if num_graphs is None:
        num_graphs = top
    elif top > num_graphs:
        raise ValueError(f"batch refers to graph {top - 1}, but num_graphs={num_graphs} (ids 0..{num_graphs - 1})")
    return batch.long(), num_graphs


def sum_readout(x: Tensor, batch: Optional[Tensor] = None, num_graphs: Optional[int] = None) -> Tensor:
    r"""Sum each graph's node vectors: :math:`\mathbf{h}_G = \sum_{v \in G} \mathbf{h}_v`.

    Args:
        x: node vectors ``[N, F]``.
        batch: graph id of every node ``[N]`` (values ``0..B-1``); ``None``: one graph.
        num_graphs: ``B``; default ``batch.max() + 1``. A graph without nodes gets zeros.

    Returns:
        ``[B, F]``.
    """
    batch, b = _check_batch(x, batch, num_graphs)
    return x.new_zeros(b, x.size(1)).index_add_(0, batch, x)


def mean_readout(x: Tensor, batch: Optional[Tensor] = None, num_graphs: Optional[int] = None) -> Tensor:
    r"""Average each graph's node vectors: :math:`\mathbf{h}_G = \frac{1}{|V_G|}\sum_{v \in G}\mathbf{h}_v`.

    Same arguments as :func:`sum_readout`; a graph without nodes gets zeros.
    """
    batch, b = _check_batch(x, batch, num_graphs)
    count = torch.bincount(batch, minlength=b).clamp(min=1).to(x.dtype)  # |V_G|, [B]
    return x.new_zeros(b, x.size(1)).index_add_(0, batch, x) / count.unsqueeze(1)


def max_readout(x: Tensor, batch: Optional[Tensor] = None, num_graphs: Optional[int] = None) -> Tensor:
    r"""Per-feature maximum over each graph's nodes: :math:`\mathbf{h}_G = \max_{v \in G}\mathbf{h}_v`.

    Same arguments as :func:`sum_readout`; a graph without nodes gets zeros.
    """
    batch, b = _check_batch(x, batch, num_graphs)
    index = batch.unsqueeze(1).expand_as(x)  # [N, F]: the graph row of every node
    return x.new_zeros(b, x.size(1)).scatter_reduce(0, index, x, reduce="amax", include_self=False)


#: The readouts by name.
READOUTS: Dict[str, Callable[..., Tensor]] = {"sum": sum_readout, "mean": mean_readout, "max": max_readout}


def readout(x: Tensor, batch: Optional[Tensor] = None, how: str = "sum", num_graphs: Optional[int] = None) -> Tensor:
    """Pool node vectors into one vector per graph with the readout called ``how`` (``"sum"``, ``"mean"``, ``"max"``)."""
    if how not in READOUTS:
        raise ValueError(f"unknown readout {how!r}; use one of {sorted(READOUTS)}")
    return READOUTS[how](x, batch, num_graphs)


class GNNGraphClassifier(nn.Module):
    r"""A graph classifier: ``num_layers`` layers of one kind, a readout of every layer, an MLP head.

    .. math::
        \mathbf{h}^{(k+1)}_v = \mathrm{ReLU}\big(\mathrm{layer}_k(H^{(k)})_v\big), \qquad
        \mathbf{h}_G = \big\|_{k=1}^{K} \mathrm{readout}\{\mathbf{h}^{(k)}_v : v \in G\}, \qquad
        \mathbf{z}_G = W_2\, \mathrm{dropout}(\mathrm{ReLU}(W_1 \mathbf{h}_G))

    Reading out every layer, not only the last (the GIN paper's choice, a form of jumping
    knowledge), lets the head use substructures of every radius, from single atoms (layer 1)
    to ``K``-hop neighbourhoods.

    Args:
        in_channels: node feature size ``F``.
        hidden_channels: width of every layer and of the head's hidden layer.
        num_classes: ``C >= 2``.
        layer: a key of :data:`gnncourse.convs.LAYERS`: ``"gin"``, ``"gcn"``, ``"gat"``, ``"mean"``.
        num_layers: ``K >= 1``.
        readout: ``"sum"``, ``"mean"`` or ``"max"``.
        dropout: dropout in the head.
        heads: attention heads for ``layer="gat"`` (must divide ``hidden_channels``).

    Shapes:
        ``forward(x [N, F], edge_index [2, E], batch [N] or None)`` returns logits ``[B, C]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_classes: int, layer: str = "gin",
                 num_layers: int = 4, readout: str = "sum", dropout: float = 0.5, heads: int = 4) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("hidden_channels", hidden_channels),
                            ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; use one of {sorted(READOUTS)}")
        check_dropout(dropout)
        self.in_channels, self.hidden_channels, self.num_classes = in_channels, hidden_channels, num_classes
        self.layer, self.num_layers, self.readout, self.dropout = layer, num_layers, readout, float(dropout)
        sizes = [in_channels] + [hidden_channels] * num_layers
        self.layers = nn.ModuleList(make_layer(layer, a, b, heads=heads, concat=True)
                                    for a, b in zip(sizes[:-1], sizes[1:]))
        self.lin1 = nn.Linear(num_layers * hidden_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, num_classes)

    def reset_parameters(self) -> None:
        """Re-draw every weight."""
        for module in (*self.layers, self.lin1, self.lin2):
            module.reset_parameters()

    def node_embeddings(self, x: Tensor, edge_index: Tensor) -> list:
        r"""Every layer's node vectors ``[H^{(1)}, ..., H^{(K)}]``, each ``[N, hidden_channels]``."""
        check_features(x)
        if x.size(1) != self.in_channels:
            raise ValueError(f"x has {x.size(1)} features per node but the model expects in_channels={self.in_channels}")
        check_edge_index(edge_index, num_nodes=x.size(0))
        h, out = x, []
        for layer in self.layers:
            h = F.relu(run_layer(layer, h, edge_index))
            out.append(h)
        return out

    def embed(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None,
              num_graphs: Optional[int] = None) -> Tensor:
        r"""The graph vectors :math:`\mathbf{h}_G`, shape ``[B, K * hidden_channels]``."""
        return torch.cat([readout(h, batch, self.readout, num_graphs) for h in self.node_embeddings(x, edge_index)],
                         dim=1)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None,
                num_graphs: Optional[int] = None) -> Tensor:
        g = F.relu(self.lin1(self.embed(x, edge_index, batch, num_graphs)))
        return self.lin2(F.dropout(g, p=self.dropout, training=self.training))  # [B, C] logits

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, {self.num_classes}, "
                f"layer={self.layer!r}, num_layers={self.num_layers}, readout={self.readout!r})")
