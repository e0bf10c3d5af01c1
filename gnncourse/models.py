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

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GraphConv, MessagePassing

from .layers import MeanAggregation, mean_adjacency_csr
from .utils import check_dropout, check_model_input, check_num_layers

__all__ = ["MeanAggregationGNN", "FeaturesMLP", "GNNExplainerPaperNet", "NormalizedSumConv",
           "GNNExplainerOriginalNet", "GATNodeClassifier"]


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
        check_num_layers(num_layers)
        check_dropout(dropout)
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
        check_model_input(self, x, edge_index, self.in_channels)
        a = mean_adjacency_csr(edge_index, x.size(0), x.dtype)  # Ã, built once for all layers
        h = x
        for k, layer in enumerate(self.layers):
            h = F.dropout(h, p=self.dropout, training=self.training)
            h = layer.propagate(h, a)
            if k < self.num_layers - 1:
                h = h.relu()
        return h

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, num_layers={self.num_layers}, dropout={self.dropout})")


class FeaturesMLP(nn.Module):
    r"""The baseline without a graph: a two-layer MLP on each node's own features.

    .. math:: \hat{\mathbf{y}}_v = W_2\, \mathrm{drop}\big(\mathrm{ReLU}(W_1\, \mathrm{drop}(\mathbf{x}_v))\big)

    It takes ``(x, edge_index)`` like the GNNs and ignores the edges, so it trains with the same
    code: whatever a GNN gains over it comes from the graph. Dropout (rate ``dropout``, training
    only) acts on the input and the hidden layer.

    Example:
        >>> mlp = FeaturesMLP(4, 8, 3, dropout=0.0)
        >>> mlp(torch.ones(5, 4), torch.tensor([[0], [1]])).shape
        torch.Size([5, 3])
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, dropout: float = 0.5) -> None:
        super().__init__()
        check_dropout(dropout)
        self.in_channels = in_channels
        self.dropout = float(dropout)
        self.lin1 = nn.Linear(in_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)

    def reset_parameters(self) -> None:
        self.lin1.reset_parameters()
        self.lin2.reset_parameters()

    def _drop(self, h: Tensor) -> Tensor:
        return F.dropout(h, self.dropout, self.training) if self.dropout > 0 else h

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None) -> Tensor:
        if edge_index is None:
            edge_index = torch.empty(2, 0, dtype=torch.long)
        check_model_input(self, x, edge_index, self.in_channels)
        return self.lin2(self._drop(self.lin1(self._drop(x)).relu()))


class _LayerOutputsConcatenated(nn.Module):
    """What the two GNNExplainer node classifiers share: ``num_layers`` convolutions built by
    ``conv(in, out)``, ReLU after every layer but the last, every layer's output concatenated
    into one linear classifier. ``_drop(x, i)`` is the dropout on layer ``i``'s input."""

    def __init__(self, conv: Callable[[int, int], nn.Module], in_channels: int, out_channels: int,
                 hidden_channels: int, num_layers: int, dropout: float):
        super().__init__()
        check_num_layers(num_layers)
        check_dropout(dropout)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.dropout = float(dropout)
        dims = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(conv(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.lin = nn.Linear(hidden_channels * num_layers, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        self.lin.reset_parameters()

    def _drop(self, x: Tensor, i: int) -> Tensor:
        return F.dropout(x, self.dropout, self.training)

    def embed(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        """The concatenated layer outputs ``[N, num_layers * hidden]`` fed to the classifier."""
        check_model_input(self, x, edge_index, self.in_channels, edge_weight)
        hs = []
        for i, conv in enumerate(self.convs):
            x = conv(self._drop(x, i), edge_index, edge_weight)
            if i < len(self.convs) - 1:
                x = x.relu()
            hs.append(x)
        return torch.cat(hs, dim=-1)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        return self.lin(self.embed(x, edge_index, edge_weight))


class GNNExplainerPaperNet(_LayerOutputsConcatenated):
    r"""The node classifier of the GNNExplainer paper (Ying et al., 2019): 3 message-passing
    layers with **sum** aggregation and no normalisation, hidden size 20, ReLU, and the three
    layer outputs concatenated into a linear classifier.

    .. math::
        \mathbf{h}^{(l)}_v = \sigma\Big(\mathbf{W}^{(l)}_{\text{self}} \mathbf{h}^{(l-1)}_v
            + \mathbf{W}^{(l)}_{\text{nb}} \sum_{u \in N(v)} w_{uv}\, \mathbf{h}^{(l-1)}_u
            + \mathbf{b}^{(l)}\Big), \qquad
        \hat{\mathbf{y}}_v = \mathbf{W}_{\text{out}}
            [\mathbf{h}^{(1)}_v \,\|\, \mathbf{h}^{(2)}_v \,\|\, \mathbf{h}^{(3)}_v] + \mathbf{b}

    with :math:`\sigma` = ReLU on every layer but the last (as in the paper's code) and
    :math:`w_{uv} = 1` unless an ``edge_weight`` (e.g. an explanation's soft edge mask) is
    given. The layers are PyG ``GraphConv`` modules (``aggr="add"``), so PyG's explainers can
    inject their masks too.

    Args:
        in_channels: input feature size ``F``.
        out_channels: number of classes ``C``.
        hidden_channels: width of every layer (20 in the paper).
        num_layers: message-passing layers (3 in the paper).
        dropout: dropout on every layer's input during training (0 in the paper).

    Shapes: ``forward(x [N, F], edge_index [2, E], edge_weight [E] | None) -> [N, C]`` logits.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 20,
                 num_layers: int = 3, dropout: float = 0.0):
        super().__init__(lambda a, b: GraphConv(a, b, aggr="add"), in_channels, out_channels,
                         hidden_channels, num_layers, dropout)

    def forward_gated(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                      gates: Optional[list] = None) -> tuple:
        r"""The forward pass with its ReLU gates exposed: ``relu(z) = z * [z > 0]``.

        Returns ``(logits, gates)``, the gates :math:`[z > 0]` of every layer but the last.
        Given ``gates``, the pass uses them instead of its own: the model is then linear in
        each layer's input, which is what an exact decomposition of the logit over walks
        needs (``explain.walk_decomposition``).
        """
        check_model_input(self, x, edge_index, self.in_channels, edge_weight)
        hs, used = [], []
        for i, conv in enumerate(self.convs):
            x = conv(self._drop(x, i), edge_index, edge_weight)
            if i < len(self.convs) - 1:
                g = (x > 0).to(x.dtype) if gates is None else gates[i]
                used.append(g)
                x = x * g
            hs.append(x)
        return self.lin(torch.cat(hs, dim=-1)), used


class NormalizedSumConv(MessagePassing):
    r"""Sum aggregation without a self weight, then L2 normalisation of every node's output:

    .. math::
        \mathbf{z}_v = \mathbf{W}^\top \sum_{u \in N(v)} w_{uv}\, \mathbf{h}_u + \mathbf{b},
        \qquad \mathbf{n}_v = \frac{\mathbf{z}_v}{\max(\lVert \mathbf{z}_v \rVert_2, \epsilon)}

    (:math:`\epsilon = 10^{-12}`; :math:`w_{uv} = 1` without ``edge_weight``). The node's own
    features enter only through a self-loop in ``edge_index``, if there is one. Being a PyG
    ``MessagePassing`` layer (``aggr="add"``), it lets PyG's explainers mask its messages.

    Example:
        >>> conv = NormalizedSumConv(1, 2)
        >>> out = conv(torch.ones(3, 1), torch.tensor([[0, 1], [1, 2]]))
        >>> [round(float(r), 4) for r in out.norm(dim=1)]  # unit rows; node 0 receives nothing: z = b = 0
        [0.0, 1.0, 1.0]
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__(aggr="add")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform weights with the ReLU gain and zero bias, as the original code draws them."""
        nn.init.xavier_uniform_(self.weight, gain=nn.init.calculate_gain("relu"))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def pre_normalization(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        r""":math:`\mathbf{z}_v`, before the normalisation."""
        z = self.propagate(edge_index, x=x, edge_weight=edge_weight) @ self.weight
        return z if self.bias is None else z + self.bias

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        return F.normalize(self.pre_normalization(x, edge_index, edge_weight), p=2.0, dim=-1)

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else x_j * edge_weight.view(-1, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


class GNNExplainerOriginalNet(_LayerOutputsConcatenated):
    r"""The node classifier of the GNNExplainer paper's code (``GcnEncoderNode`` with its
    defaults): :math:`L` layers of :class:`NormalizedSumConv` on the plain adjacency (no
    self-loops, no degree normalisation, no batch norm), ReLU after every normalised layer
    output but the last, and the :math:`L` outputs concatenated into a linear classifier:

    .. math::
        \mathbf{h}^{(l)}_v = \mathrm{ReLU}\big(\mathbf{n}^{(l)}_v\big) \ (l < L), \qquad
        \mathbf{h}^{(L)}_v = \mathbf{n}^{(L)}_v, \qquad
        \hat{\mathbf{y}}_v = \mathbf{W}_{\text{out}}
            [\mathbf{h}^{(1)}_v \,\|\, \dots \,\|\, \mathbf{h}^{(L)}_v] + \mathbf{b}_{\text{out}}

    with :math:`\mathbf{n}^{(l)}_v` the unit-length output of layer :math:`l`
    (:class:`NormalizedSumConv`). Three differences from :class:`GNNExplainerPaperNet`: every
    layer output has length 1 (before the ReLU), there is no self weight, the last layer has no
    activation. A consequence: scaling all messages into a node by the same :math:`c > 0`
    scales :math:`\mathbf{z}_v - \mathbf{b}` by :math:`c`, so with a small bias the layer
    output does not change.

    Args:
        in_channels: input feature size ``F``.
        out_channels: number of classes ``C``.
        hidden_channels: width of every layer (20 in the code: ``hidden_dim = output_dim = 20``).
        num_layers: :math:`L` (3 in the code).
        dropout: dropout on the input of every layer but the first and the last, as in the
            code (where it is 0).

    Shapes: ``forward(x [N, F], edge_index [2, E], edge_weight [E] | None) -> [N, C]`` logits.

    Example:
        >>> model = GNNExplainerOriginalNet(10, 4)
        >>> model(torch.ones(5, 10), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([5, 4])
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 20,
                 num_layers: int = 3, dropout: float = 0.0):
        super().__init__(NormalizedSumConv, in_channels, out_channels, hidden_channels, num_layers, dropout)

    def _drop(self, x: Tensor, i: int) -> Tensor:
        # the original code builds its first and last layers without dropout
        inner = 0 < i < len(self.convs) - 1
        return F.dropout(x, self.dropout, self.training) if inner and self.dropout > 0 else x

    def forward_gated(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                      gates: Optional[list] = None) -> tuple:
        r"""The forward pass with its nonlinearities exposed as gates: every layer multiplies
        :math:`\mathbf{z}_v` by :math:`g_v = [\mathbf{z}_v > 0] / \lVert \mathbf{z}_v \rVert`
        (the ReLU gate and the normalisation; the last layer only the latter).

        Returns ``(logits, gates)``, one ``[N, H]`` gate per layer. Given ``gates``, the pass
        uses them instead of its own: the model is then linear in each layer's input, which is
        what an exact decomposition of the logit over walks needs
        (``explain.walk_decomposition``).
        """
        check_model_input(self, x, edge_index, self.in_channels, edge_weight)
        hs, used = [], []
        for i, conv in enumerate(self.convs):
            z = conv.pre_normalization(self._drop(x, i), edge_index, edge_weight)
            if gates is None:
                g = 1.0 / z.norm(dim=-1, keepdim=True).clamp(min=1e-12)
                g = g * (z > 0).to(z.dtype) if i < len(self.convs) - 1 else g.expand_as(z)
            else:
                g = gates[i]
            used.append(g)
            x = z * g
            hs.append(x)
        return self.lin(torch.cat(hs, dim=-1)), used

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.lin.out_features}, "
                f"hidden={self.hidden_channels}, layers={len(self.convs)})")


class GATNodeClassifier(nn.Module):
    r"""A GAT-style node classifier shaped like :class:`GNNExplainerPaperNet` (3 layers of
    width 20, ReLU, concatenated layer outputs, linear classifier) whose aggregation is the
    attention-weighted mean of GAT (Velickovic et al., 2018):

    .. math:: \mathbf{h}^{(l)}_v = \sum_{u \in N(v) \cup \{v\}} \alpha_{uv} \mathbf{W}
              \mathbf{h}^{(l-1)}_u, \qquad \alpha_{uv} = \operatorname{softmax}_u\big(
              \text{LeakyReLU}(\mathbf{a}^\top[\mathbf{W}\mathbf{h}_v \,\|\, \mathbf{W}\mathbf{h}_u])\big)

    A weighted mean cannot count neighbours, so with constant features (the synthetic
    benchmarks) plain GAT cannot tell a house node from a base node. With ``degree_scaled=True``
    each layer's output is multiplied by the node's number of inputs :math:`|N(v)| + 1`: the
    weights :math:`(|N(v)|+1)\,\alpha_{uv}` then average 1, and uniform attention is exactly sum
    aggregation, as in the paper's model. The attention coefficients are unchanged softmax weights.

    Its attention coefficients are the paper's "Att" explanation baseline
    (:meth:`attention`). Shapes: ``forward(x [N, F], edge_index [2, E]) -> [N, C]``.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 20,
                 num_layers: int = 3, heads: int = 1, degree_scaled: bool = False):
        super().__init__()
        check_num_layers(num_layers)
        self.in_channels = in_channels
        self.degree_scaled = degree_scaled
        dims = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(GATConv(a, b, heads=heads, concat=False) for a, b in zip(dims[:-1], dims[1:]))
        self.lin = nn.Linear(hidden_channels * num_layers, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        self.lin.reset_parameters()

    def _run(self, x: Tensor, edge_index: Tensor):
        check_model_input(self, x, edge_index, self.in_channels)
        hs, atts = [], []
        # GATConv drops the input's self-loops and appends one per node after the other
        # edges; drop them here too, so that the coefficients can be mapped back to the input
        # order (an input self-loop gets its node's loop coefficient) and |N(v)| counts no loop.
        loop = edge_index[0] == edge_index[1]
        ei = edge_index[:, ~loop]
        inputs = None
        if self.degree_scaled:  # |N(v)| + 1: the edges into v plus GATConv's self-loop
            inputs = torch.bincount(ei[1], minlength=x.size(0)).float().add(1).unsqueeze(-1)
        for i, conv in enumerate(self.convs):
            x, (_, alpha) = conv(x, ei, return_attention_weights=True)
            if inputs is not None:
                x = x * inputs
            if i < len(self.convs) - 1:
                x = x.relu()
            hs.append(x)
            a = alpha.mean(-1)  # [E' + N]: the input's other edges in order, then one loop per node
            att = a.new_empty(edge_index.size(1))
            att[~loop] = a[: ei.size(1)]
            att[loop] = a[ei.size(1) + edge_index[0, loop]]
            atts.append(att)
        return self.lin(torch.cat(hs, dim=-1)), atts

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        if edge_weight is not None:
            raise ValueError("GATNodeClassifier learns its own edge weights; edge_weight is not supported")
        return self._run(x, edge_index)[0]

    def attention(self, x: Tensor, edge_index: Tensor) -> list:
        """Per layer, the ``[E]`` attention coefficients of the input edges (heads averaged)."""
        return self._run(x, edge_index)[1]
