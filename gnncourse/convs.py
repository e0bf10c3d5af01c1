r"""GCN, GAT and GIN layers from their formulas, each a message / aggregate / update triple.

The mean layer (:class:`gnncourse.layers.MeanAggregation`, GraphSAGE's mean
aggregator) is one point in a family. Every layer here computes, for each edge
``e = (u, v)`` a **message**, **aggregates** the messages that arrive at ``v``, and
**updates** ``v``'s state from the aggregate:

=========  ===============================================  ==================  =====================================
layer      message :math:`\mathbf{m}_{u \to v}`               aggregate           update
=========  ===============================================  ==================  =====================================
mean       :math:`\mathbf{h}_u`                              mean over N(v)      :math:`W \mathbf{m}_v + B \mathbf{h}_v`
GCN        :math:`\frac{1}{\sqrt{\hat d_u \hat d_v}} W \mathbf{h}_u`  sum over N(v) ∪ {v}  :math:`\mathbf{m}_v + \mathbf{b}`
GAT        :math:`\alpha_{vu} W \mathbf{h}_u`                sum over N(v) ∪ {v}  concatenate or average the heads, + b
GIN        :math:`\mathbf{h}_u`                              sum over N(v)       :math:`\mathrm{MLP}((1+\epsilon)\mathbf{h}_v + \mathbf{m}_v)`
=========  ===============================================  ==================  =====================================

Everything is plain PyTorch: a gather ``x[src]`` makes the messages, ``index_add_`` sums
them into their targets, ``scatter_reduce(..., "amax")`` takes the per-target maximum that
a numerically stable softmax needs. Each layer equals the PyG layer of the same name with
the same weights (``tests/test_convs.py``): :class:`GCNLayer` is ``GCNConv``,
:class:`GATLayer` is ``GATConv`` and :class:`GINLayer` is ``GINConv``.

:class:`GNN` stacks any of them (chosen by name in :data:`LAYERS`) into a node classifier,
with optional residual connections and jumping knowledge, for the depth experiments.

Conventions (PyG's, as in :mod:`gnncourse.layers`): an edge goes from ``edge_index[0]``
(source ``u``) to ``edge_index[1]`` (target ``v``); a duplicated edge counts as often as it
appears.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import MeanAggregation, mean_adjacency_csr
from .utils import check_dropout, check_edge_index, check_features, check_model_input

__all__ = [
    "add_self_loops",
    "gcn_norm",
    "segment_softmax",
    "GCNLayer",
    "GATLayer",
    "GINLayer",
    "LAYERS",
    "make_layer",
    "run_layer",
    "GNN",
    "dirichlet_energy",
    "mean_cosine_distance",
]


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def add_self_loops(edge_index: Tensor, num_nodes: int, edge_weight: Optional[Tensor] = None,
                   fill_value: float = 1.0) -> Tuple[Tensor, Optional[Tensor]]:
    r"""Give every node exactly one self-loop ``(v, v)``: drop the existing ones, append ``N`` new.

    A node that already had a self-loop keeps that loop's weight (the last one, if it had
    several); the others get ``fill_value``. This is what GCN's :math:`\hat A = A + I`
    means for a graph that may already contain loops (PyG's ``add_remaining_self_loops``).

    Args:
        edge_index: edges ``u -> v``, shape ``[2, E]``.
        num_nodes: ``N``.
        edge_weight: optional weights ``[E]``.
        fill_value: the weight of a new loop.

    Returns:
        ``(edge_index [2, E' + N], edge_weight [E' + N] or None)``, the ``E'`` non-loop
        edges first, then the loops of nodes ``0..N-1`` in order.
    """
    check_edge_index(edge_index, num_nodes=num_nodes)
    if edge_weight is not None and edge_weight.shape != (edge_index.size(1),):
        raise ValueError(f"edge_weight must have shape [E] = [{edge_index.size(1)}], got {list(edge_weight.shape)}")
    return _add_self_loops(edge_index, num_nodes, edge_weight, fill_value)


def _add_self_loops(edge_index: Tensor, num_nodes: int, edge_weight: Optional[Tensor] = None,
                    fill_value: float = 1.0) -> Tuple[Tensor, Optional[Tensor]]:
    """:func:`add_self_loops` without the input checks."""
    keep = edge_index[0] != edge_index[1]
    loops = torch.arange(num_nodes, device=edge_index.device, dtype=edge_index.dtype)
    out = torch.cat([edge_index[:, keep], loops.repeat(2, 1)], dim=1)
    if edge_weight is None:
        return out, None
    loop_weight = edge_weight.new_full((num_nodes,), fill_value)
    loop_weight[edge_index[0][~keep]] = edge_weight[~keep]
    return out, torch.cat([edge_weight[keep], loop_weight])


def gcn_norm(edge_index: Tensor, num_nodes: int, edge_weight: Optional[Tensor] = None,
             self_loops: bool = True, dtype: torch.dtype = torch.float32) -> Tuple[Tensor, Tensor]:
    r"""GCN's symmetric normalisation: the weight of every edge of :math:`\hat D^{-1/2}\hat A\hat D^{-1/2}`.

    .. math::
        \hat A = A + I, \qquad \hat d_v = \sum_u \hat A_{vu}, \qquad
        w_{u \to v} = \frac{\hat A_{vu}}{\sqrt{\hat d_u}\sqrt{\hat d_v}}

    The degree :math:`\hat d_v` counts the (weighted) edges *into* ``v``, its own loop
    included; a node whose degree is 0 (possible only without self-loops) gets weight 0.

    Args:
        edge_index: edges ``u -> v``, shape ``[2, E]``.
        num_nodes: ``N``.
        edge_weight: optional edge weights ``[E]`` (default: all 1).
        self_loops: add the loops of :math:`\hat A = A + I` (see :func:`add_self_loops`).
        dtype: the dtype of the weights when ``edge_weight`` is ``None``.

    Returns:
        ``(edge_index, weight)``: the edges (with the loops appended) and one weight each.
    """
    check_edge_index(edge_index, num_nodes=num_nodes)
    return _gcn_norm(edge_index, num_nodes, edge_weight, self_loops, dtype)


def _gcn_norm(edge_index: Tensor, num_nodes: int, edge_weight: Optional[Tensor], self_loops: bool,
              dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
    """:func:`gcn_norm` without the input checks."""
    if self_loops:
        edge_index, edge_weight = _add_self_loops(edge_index, num_nodes, edge_weight)
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
    src, dst = edge_index[0], edge_index[1]
    deg = edge_weight.new_zeros(num_nodes).index_add_(0, dst, edge_weight)  # \hat d_v, [N]
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return edge_index, inv_sqrt[src] * edge_weight * inv_sqrt[dst]


def segment_softmax(scores: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    r"""Softmax over the groups of entries that share a target: each node's incoming edges sum to 1.

    .. math:: \alpha_{e} = \frac{\exp(s_e - \max_{e' \to v} s_{e'})}
                               {\sum_{e' \to v} \exp(s_{e'} - \max_{e'' \to v} s_{e''})}
              \qquad \text{for every edge } e \to v

    Subtracting each group's maximum changes nothing mathematically and keeps ``exp`` from
    overflowing.

    Args:
        scores: one score per edge (and head), shape ``[E]`` or ``[E, H]``.
        index: the target node of every edge, shape ``[E]``.
        num_nodes: ``N``.

    Returns:
        The normalised weights, the shape of ``scores``.
    """
    if index.dim() != 1 or index.size(0) != scores.size(0):
        raise ValueError(f"index must have shape [E] = [{scores.size(0)}] (one target per score), "
                         f"got {list(index.shape)}")
    idx = index.view(-1, *([1] * (scores.dim() - 1))).expand_as(scores)  # [E, H]
    group_max = scores.new_full((num_nodes, *scores.shape[1:]), float("-inf"))
    group_max = group_max.scatter_reduce(0, idx, scores.detach(), reduce="amax", include_self=True)
    exp = (scores - group_max.index_select(0, index)).exp()  # [E, H], every entry <= 1
    denom = torch.zeros_like(group_max).index_add_(0, index, exp)  # [N, H]
    return exp / (denom.index_select(0, index) + 1e-16)


class GCNLayer(nn.Module):
    r"""The graph convolution of Kipf and Welling (2017).

    .. math::
        H' = \hat D^{-1/2} \hat A \hat D^{-1/2} H W^\top + \mathbf{b}, \qquad \hat A = A + I

    As message passing, per node ``v``:

    - **message** :math:`\mathbf{m}_{u \to v} = \frac{1}{\sqrt{\hat d_u \hat d_v}} W \mathbf{h}_u`
      for every ``u`` in :math:`N(v) \cup \{v\}`;
    - **aggregate** :math:`\mathbf{m}_v = \sum_{u \in N(v) \cup \{v\}} \mathbf{m}_{u \to v}`;
    - **update** :math:`\mathbf{h}_v' = \mathbf{m}_v + \mathbf{b}` (the activation is the model's).

    Unlike the mean layer there is no separate self weight :math:`B`: the node is its own
    neighbour through the self-loop, with the same :math:`W`. An existing self-loop is
    replaced, not doubled (:func:`add_self_loops`). Equal to PyG's ``GCNConv`` whose ``lin``
    is our ``lin`` and ``bias`` our ``bias``.

    Args:
        in_channels: input feature size :math:`F`.
        out_channels: output size :math:`F'`.
        bias: add the learnable bias :math:`\mathbf{b}`.
        self_loops: use :math:`\hat A = A + I` (``False``: :math:`A` as given).

    Shapes:
        ``x``: ``[N, F]``; ``edge_index``: ``[2, E]``; ``edge_weight``: ``[E]`` or ``None``;
        output ``[N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, self_loops: bool = True) -> None:
        super().__init__()
        _check_positive_int("in_channels", in_channels)
        _check_positive_int("out_channels", out_channels)
        self.in_channels, self.out_channels, self.self_loops = in_channels, out_channels, self_loops
        self.lin = nn.Linear(in_channels, out_channels, bias=False)  # W
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None  # b
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform :math:`W` and a zero bias, as in the paper."""
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        check_model_input(self, x, edge_index, self.in_channels)
        return self.message_passing(x, edge_index, edge_weight)

    def message_passing(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        """:meth:`forward` without the input checks (a model checks its inputs once, not per layer)."""
        n = x.size(0)
        edge_index, w = _gcn_norm(edge_index, n, edge_weight, self.self_loops, x.dtype)
        src, dst = edge_index[0], edge_index[1]
        h = self.lin(x)  # W h_u for every node, [N, F']
        messages = h.index_select(0, src) * w.unsqueeze(1)  # message: [E, F']
        out = h.new_zeros(n, self.out_channels).index_add_(0, dst, messages)  # aggregate: sum
        return out if self.bias is None else out + self.bias  # update

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


class GATLayer(nn.Module):
    r"""The graph attention layer of Veličković et al. (2018), with ``heads`` attention heads.

    For head :math:`k` with weights :math:`W^k` and attention vectors
    :math:`\mathbf{a}^k = [\mathbf{a}^k_{\text{src}} \,\|\, \mathbf{a}^k_{\text{dst}}]`:

    .. math::
        e^k_{vu} = \mathrm{LeakyReLU}_{0.2}\big(\mathbf{a}^{k\top}_{\text{src}} W^k \mathbf{h}_u
                   + \mathbf{a}^{k\top}_{\text{dst}} W^k \mathbf{h}_v\big), \qquad
        \alpha^k_{vu} = \operatorname{softmax}_{u \in N(v) \cup \{v\}} e^k_{vu}

    - **message** :math:`\mathbf{m}^k_{u \to v} = \alpha^k_{vu} W^k \mathbf{h}_u`, for
      ``u`` in :math:`N(v) \cup \{v\}`;
    - **aggregate** :math:`\mathbf{m}^k_v = \sum_u \mathbf{m}^k_{u \to v}` (a weighted mean: the
      :math:`\alpha^k_{vu}` sum to 1);
    - **update** :math:`\mathbf{h}'_v = \|_{k=1}^{K} \mathbf{m}^k_v + \mathbf{b}` (``concat=True``)
      or :math:`\frac{1}{K}\sum_k \mathbf{m}^k_v + \mathbf{b}` (``concat=False``, the paper's
      output layer).

    The sum :math:`\mathbf{a}^\top[W\mathbf{h}_u \| W\mathbf{h}_v]` splits into a score per
    source and a score per target, computed once per node and added per edge. Dropout on
    the attention weights (``dropout``) is the paper's. Existing self-loops are replaced by
    one per node. Equal to PyG's ``GATConv`` whose ``lin``, ``att_src``, ``att_dst`` and
    ``bias`` are ours.

    Args:
        in_channels: input size :math:`F`.
        out_channels: size :math:`F'` of each head.
        heads: the number of heads :math:`K`.
        concat: concatenate the heads (output ``K F'``) or average them (output ``F'``).
        negative_slope: the LeakyReLU slope (0.2 in the paper).
        dropout: dropout rate on the attention weights, in training mode only.
        bias: add the learnable bias.

    Shapes:
        ``x``: ``[N, F]``; ``edge_index``: ``[2, E]``; output ``[N, K F']`` or ``[N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        _check_positive_int("in_channels", in_channels)
        _check_positive_int("out_channels", out_channels)
        _check_positive_int("heads", heads)
        check_dropout(dropout)
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, float(negative_slope), float(dropout)
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)  # W^1..W^K stacked
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))  # a^k_src
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))  # a^k_dst
        self.bias = nn.Parameter(torch.empty(heads * out_channels if concat else out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights and attention vectors, zero bias."""
        nn.init.xavier_uniform_(self.lin.weight)
        for att in (self.att_src, self.att_dst):  # Glorot over the [heads, out_channels] matrix
            bound = (6.0 / (att.size(-2) + att.size(-1))) ** 0.5
            nn.init.uniform_(att, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def attention(self, x: Tensor, edge_index: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        r"""Return ``(h [N, K, F'], edge_index with loops [2, E'], alpha [E', K])`` (alpha before dropout)."""
        check_model_input(self, x, edge_index, self.in_channels)
        return self._attention(x, edge_index)

    def _attention(self, x: Tensor, edge_index: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        n = x.size(0)
        edge_index, _ = _add_self_loops(edge_index, n)
        src, dst = edge_index[0], edge_index[1]
        h = self.lin(x).view(n, self.heads, self.out_channels)  # W^k h_u, [N, K, F']
        score_src = (h * self.att_src).sum(-1)  # a_src^T W h_u, [N, K]
        score_dst = (h * self.att_dst).sum(-1)  # a_dst^T W h_v, [N, K]
        e = F.leaky_relu(score_src.index_select(0, src) + score_dst.index_select(0, dst), self.negative_slope)
        return h, edge_index, segment_softmax(e, dst, n)  # alpha: [E', K]

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        check_model_input(self, x, edge_index, self.in_channels)
        return self.message_passing(x, edge_index)

    def message_passing(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """:meth:`forward` without the input checks (a model checks its inputs once, not per layer)."""
        h, edge_index, alpha = self._attention(x, edge_index)
        src, dst = edge_index[0], edge_index[1]
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        messages = h.index_select(0, src) * alpha.unsqueeze(-1)  # message: [E', K, F']
        out = torch.zeros_like(h).index_add_(0, dst, messages)  # aggregate: [N, K, F']
        out = out.flatten(1) if self.concat else out.mean(dim=1)  # update: concat or average heads
        return out if self.bias is None else out + self.bias

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat})"


class GINLayer(nn.Module):
    r"""The graph isomorphism network layer of Xu et al. (2019).

    .. math:: \mathbf{h}'_v = \mathrm{MLP}\Big((1 + \epsilon)\, \mathbf{h}_v + \sum_{u \in N(v)} \mathbf{h}_u\Big)

    - **message** :math:`\mathbf{m}_{u \to v} = \mathbf{h}_u`;
    - **aggregate** :math:`\mathbf{m}_v = \sum_{u \in N(v)} \mathbf{h}_u`: a *sum*, which keeps
      how many neighbours carry each feature, where a mean or a max forgets it;
    - **update** :math:`\mathbf{h}'_v = \mathrm{MLP}((1+\epsilon)\mathbf{h}_v + \mathbf{m}_v)`.

    An explicit self-loop ``(v, v)`` makes ``v`` one of its own neighbours (no loop is added
    or removed). The default MLP is ``Linear(F, F') -> BatchNorm -> ReLU -> Linear(F', F')``,
    the paper's two-layer MLP. Equal to PyG's ``GINConv(mlp, eps, train_eps)`` holding the
    same MLP.

    Args:
        in_channels: input size :math:`F`.
        out_channels: output size :math:`F'` (ignored when ``mlp`` is given).
        mlp: the update network; default the two-layer MLP above.
        eps: :math:`\epsilon`, the weight of the node's own state beyond 1 (0 in GIN-0).
        train_eps: learn :math:`\epsilon` (GIN-:math:`\epsilon`).
        batch_norm: use batch normalisation in the default MLP.

    Shapes:
        ``x``: ``[N, F]``; ``edge_index``: ``[2, E]``; output ``[N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, mlp: Optional[nn.Module] = None,
                 eps: float = 0.0, train_eps: bool = False, batch_norm: bool = True) -> None:
        super().__init__()
        _check_positive_int("in_channels", in_channels)
        _check_positive_int("out_channels", out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        if mlp is None:
            mlp = nn.Sequential(nn.Linear(in_channels, out_channels),
                                nn.BatchNorm1d(out_channels) if batch_norm else nn.Identity(),
                                nn.ReLU(), nn.Linear(out_channels, out_channels))
        self.mlp = mlp
        self.initial_eps = float(eps)
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the MLP's weights (their default initialisation) and reset :math:`\\epsilon`."""
        for module in self.mlp.modules():
            if module is not self.mlp and hasattr(module, "reset_parameters"):
                module.reset_parameters()
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        check_model_input(self, x, edge_index, self.in_channels)
        return self.message_passing(x, edge_index)

    def message_passing(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """:meth:`forward` without the input checks (a model checks its inputs once, not per layer)."""
        src, dst = edge_index[0], edge_index[1]
        m = torch.zeros_like(x).index_add_(0, dst, x.index_select(0, src))  # message h_u, aggregate: sum
        return self.mlp((1 + self.eps) * x + m)  # update

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


def _gcn(in_channels: int, out_channels: int, **kwargs) -> nn.Module:
    return GCNLayer(in_channels, out_channels)


def _gat(in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
         attention_dropout: float = 0.0, **kwargs) -> nn.Module:
    if concat:
        if out_channels % heads:
            raise ValueError(f"a concatenating GAT layer needs out_channels divisible by heads, "
                             f"got {out_channels} and {heads}")
        return GATLayer(in_channels, out_channels // heads, heads=heads, concat=True, dropout=attention_dropout)
    return GATLayer(in_channels, out_channels, heads=heads, concat=False, dropout=attention_dropout)


def _gin(in_channels: int, out_channels: int, **kwargs) -> nn.Module:
    return GINLayer(in_channels, out_channels)


def _mean(in_channels: int, out_channels: int, **kwargs) -> nn.Module:
    return MeanAggregation(in_channels, out_channels)


#: The layers a model can be built from, by name: ``name -> factory(in, out, **options)``.
LAYERS: Dict[str, Callable[..., nn.Module]] = {"mean": _mean, "gcn": _gcn, "gat": _gat, "gin": _gin}


def run_layer(layer: nn.Module, x: Tensor, edge_index: Tensor) -> Tensor:
    """Apply ``layer`` to inputs a model has already checked (no per-layer checks).

    The package's layers skip their checks through ``message_passing``; the mean layer
    :class:`~gnncourse.layers.MeanAggregation` through ``propagate`` with its :math:`\\tilde A`.
    """
    if isinstance(layer, MeanAggregation):
        return layer.propagate(x, mean_adjacency_csr(edge_index, x.size(0), x.dtype))
    if hasattr(layer, "message_passing"):
        return layer.message_passing(x, edge_index)
    return layer(x, edge_index)


def make_layer(name: str, in_channels: int, out_channels: int, **options) -> nn.Module:
    r"""Build the layer called ``name`` (a key of :data:`LAYERS`) mapping ``in_channels -> out_channels``.

    ``options`` go to the layer that understands them and are ignored by the others:
    ``heads``, ``concat`` and ``attention_dropout`` for ``"gat"`` (with ``concat=True``
    the ``out_channels`` are split over the heads).
    """
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; choose one of {sorted(LAYERS)}")
    return LAYERS[name](in_channels, out_channels, **options)


class GNN(nn.Module):
    r"""``num_layers`` message-passing layers of one kind, for node classification.

    .. math::
        H^{(k+1)} = \sigma\big(\mathrm{layer}_k(\mathrm{dropout}(H^{(k)}))\big) \;[+\, H^{(k)}], \qquad
        Z = \mathrm{layer}_{K-1}(\mathrm{dropout}(H^{(K-1)}))

    The bracketed residual term (``residual=True``) is added in the hidden layers whose
    input and output widths agree (all but the first); it lets a deep stack keep each
    node's own signal instead of averaging it away. The last layer has no activation and
    returns logits. With ``layer="gat"`` the hidden layers concatenate ``heads`` heads of
    ``hidden_channels // heads`` features and the output layer has ``out_heads`` averaged
    heads, as in the GAT paper.

    Args:
        in_channels: input size.
        hidden_channels: width of the hidden layers.
        out_channels: number of classes.
        layer: a key of :data:`LAYERS` (``"mean"``, ``"gcn"``, ``"gat"``, ``"gin"``).
        num_layers: :math:`K \ge 1`.
        dropout: dropout on every layer's input, in ``[0, 1)``.
        activation: ``"relu"`` or ``"elu"`` (the GAT paper's).
        residual: add skip connections between hidden layers.
        heads: GAT heads in the hidden layers; out_heads: in the output layer.
        attention_dropout: GAT's dropout on the attention weights.

    Shapes:
        ``x``: ``[N, in_channels]``; ``edge_index``: ``[2, E]``; output ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, layer: str = "gcn",
                 num_layers: int = 2, dropout: float = 0.5, activation: str = "relu", residual: bool = False,
                 heads: int = 8, out_heads: int = 1, attention_dropout: float = 0.0) -> None:
        super().__init__()
        _check_positive_int("num_layers", num_layers)
        check_dropout(dropout)
        if activation not in ("relu", "elu"):
            raise ValueError(f"activation must be 'relu' or 'elu', got {activation!r}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.layer, self.num_layers, self.dropout = layer, num_layers, float(dropout)
        self.activation, self.residual = activation, residual
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        hidden = dict(heads=heads, concat=True, attention_dropout=attention_dropout)
        last = dict(heads=out_heads, concat=False, attention_dropout=attention_dropout)
        self.layers = nn.ModuleList(
            make_layer(layer, a, b, **(last if k == num_layers - 1 else hidden))
            for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])))

    def reset_parameters(self) -> None:
        """Re-draw the weights of every layer."""
        for layer in self.layers:
            layer.reset_parameters()

    def embeddings(self, x: Tensor, edge_index: Tensor) -> list:
        r"""Every layer's output ``[H^{(1)}, ..., H^{(K)}]`` (hidden ones after the activation)."""
        check_model_input(self, x, edge_index, self.in_channels)
        act = F.relu if self.activation == "relu" else F.elu
        h, out = x, []
        for k, layer in enumerate(self.layers):
            new = run_layer(layer, F.dropout(h, p=self.dropout, training=self.training), edge_index)
            if k < self.num_layers - 1:
                new = act(new)
                if self.residual and k > 0:
                    new = new + h
            h = new
            out.append(h)
        return out

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.embeddings(x, edge_index)[-1]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, "
                f"layer={self.layer!r}, num_layers={self.num_layers}, residual={self.residual})")


# --- Smoothness of node representations: how over-smoothing is measured --------------------


def dirichlet_energy(x: Tensor, edge_index: Tensor) -> float:
    r"""The Dirichlet energy of node vectors relative to their size: 0 when neighbours agree.

    .. math:: E(H) = \frac{\sum_{(u, v) \in E} \lVert \mathbf{h}_u - \mathbf{h}_v \rVert^2}
                          {\sum_{v} \lVert \mathbf{h}_v \rVert^2}

    Dividing by the total squared norm makes it blind to scale: multiplying all vectors by
    a constant does not change it, so a small value means the rows have become *alike*
    along the edges, not merely small. Over-smoothing drives it towards 0 in theory; on
    trained ReLU networks zeroed rows can raise it instead, so measure it next to
    :func:`mean_cosine_distance`.

    Args:
        x: node vectors ``[N, F]``.
        edge_index: edges ``[2, E]`` (both directions for an undirected graph).
    """
    check_features(x)
    check_edge_index(edge_index, num_nodes=x.size(0))
    diff = x.index_select(0, edge_index[0]) - x.index_select(0, edge_index[1])  # [E, F]
    total = x.pow(2).sum()
    return float(diff.pow(2).sum() / total) if total > 0 else 0.0


def mean_cosine_distance(x: Tensor, num_pairs: int = 20000, seed: int = 0) -> float:
    r"""The mean cosine distance between the vectors of random node pairs (MAD).

    .. math:: \mathrm{MAD}(H) = \operatorname{mean}_{(u, v)} \Big(1 - \frac{\mathbf{h}_u^\top
              \mathbf{h}_v}{\lVert \mathbf{h}_u \rVert \lVert \mathbf{h}_v \rVert}\Big)

    over ``num_pairs`` pairs ``u != v`` drawn with a generator seeded by ``seed``; 0 when
    all rows point the same way. A zero row counts as distance 1 from everything.
    """
    check_features(x)
    n = x.size(0)
    if n < 2:
        raise ValueError(f"mean_cosine_distance needs at least 2 nodes, got {n}")
    g = torch.Generator().manual_seed(seed)
    u = torch.randint(0, n, (num_pairs,), generator=g)
    v = (u + torch.randint(1, n, (num_pairs,), generator=g)) % n  # v != u
    return float((1 - F.cosine_similarity(x[u], x[v], dim=1, eps=1e-12)).mean())
