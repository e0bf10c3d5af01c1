r"""Deep encoders: K message-passing layers stacked into a model.

.. math::

    \mathbf{h}_v^{(0)} = \mathbf{x}_v, \qquad
    \mathbf{h}_v^{(k+1)} = \sigma\Big( W_k \sum_{u \in N(v)} \frac{\mathbf{h}_u^{(k)}}{|N(v)|}
                                       + B_k \mathbf{h}_v^{(k)} \Big), \qquad
    \mathbf{z}_v = \mathbf{h}_v^{(K)}

Each model takes ``(x, edge_index)`` and returns one row per node: logits for node
classification or the final embeddings :math:`\mathbf{z}_v`. Run on a sampled subgraph, it
returns rows for every node of the subgraph; keep the rows of the seed nodes.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .layers import MeanAggregation
from .utils import check_edge_index, check_features

__all__ = ["MeanAggregationGNN"]


class MeanAggregationGNN(nn.Module):
    r"""K mean-aggregation layers with ReLU and dropout between them (a GraphSAGE-mean encoder).

    .. math::

        H^{(k+1)} = \sigma\big(\tilde A H^{(k)} W_k^\top + H^{(k)} B_k^\top\big)
        \ \ (k < K-1), \qquad Z = \tilde A H^{(K-1)} W_{K-1}^\top + H^{(K-1)} B_{K-1}^\top

    with :math:`\sigma` = ReLU and dropout (rate ``dropout``, only in training mode) applied
    to the input of every layer. The last layer has no activation: the output is logits or the
    embeddings :math:`Z`. With ``num_layers = K`` each output depends on the node's K-hop
    neighbourhood (its computation graph of depth K).

    Args:
        in_channels: input feature size :math:`m`.
        hidden_channels: width of the hidden layers.
        out_channels: output size (number of classes, or embedding size :math:`d`).
        num_layers: :math:`K`, the number of layers (at least 1; with 1 there is no hidden layer).
        dropout: dropout probability in ``[0, 1)``.

    Shapes:
        ``x``: ``[N, in_channels]``; ``edge_index``: ``[2, E]``; output ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, dropout: float = 0.5) -> None:
        super().__init__()
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.dropout = float(dropout)
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.layers = nn.ModuleList(MeanAggregation(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights of every layer."""
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        r"""Return :math:`Z = H^{(K)}`, shape ``[N, out_channels]`` (no final activation)."""
        check_features(x)
        check_edge_index(edge_index, num_nodes=x.size(0))
        h = x
        for k, layer in enumerate(self.layers):
            h = F.dropout(h, p=self.dropout, training=self.training)
            h = layer(h, edge_index)
            if k < self.num_layers - 1:
                h = h.relu()
        return h

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, num_layers={self.num_layers}, dropout={self.dropout})")
