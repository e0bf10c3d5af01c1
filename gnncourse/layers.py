r"""Neighbourhood aggregation: the mean-aggregation layer, written three ways.

One layer of the deep encoder

.. math::

    \mathbf{h}_v^{(k+1)} = \sigma\Big( W_k \sum_{u \in N(v)} \frac{\mathbf{h}_u^{(k)}}{|N(v)|}
                                       + B_k \mathbf{h}_v^{(k)} \Big),
    \qquad \mathbf{h}_v^{(0)} = \mathbf{x}_v,

and computes the neighbour mean in three equivalent ways:

1. :func:`mean_aggregate_loop`: a readable loop over the nodes (slow; for teaching and tests);
2. :func:`mean_aggregate`: vectorized gather + ``index_add_`` over the edge list;
3. :func:`mean_aggregate_sparse`: the matrix form :math:`\tilde A H` with
   :math:`\tilde A = D^{-1} A^\top` stored as a torch sparse matrix.

:func:`max_aggregate` is an aggregator that has no such matrix form and needs a scatter.
:class:`MeanAggregation` is the trainable layer (without :math:`\sigma`; the model applies it).

Conventions (PyG's): an edge ``e`` goes from ``u = edge_index[0, e]`` (source) to
``v = edge_index[1, e]`` (target), and :math:`N(v)` are the sources of the edges into ``v``.
A node without neighbours gets a zero mean. A duplicated edge counts as many times as it
appears, and a self-loop ``(v, v)`` puts ``v`` in its own neighbourhood.
"""
from __future__ import annotations

import warnings
from typing import Optional

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from .utils import check_edge_index, check_features

__all__ = [
    "mean_aggregate_loop",
    "mean_aggregate",
    "mean_adjacency",
    "mean_adjacency_csr",
    "mean_aggregate_sparse",
    "max_aggregate",
    "MeanAggregation",
]


def _checked_num_nodes(x: Tensor, edge_index: Tensor, num_nodes: Optional[int]) -> int:
    """Validate ``x`` and ``edge_index`` together and return the node count ``N``."""
    check_features(x)
    n = x.size(0) if num_nodes is None else num_nodes
    check_features(x, num_nodes=n)
    check_edge_index(edge_index, num_nodes=n)
    return n


def mean_aggregate_loop(x: Tensor, edge_index: Tensor, num_nodes: Optional[int] = None) -> Tensor:
    r"""The neighbour mean, one node at a time (readable, slow: for teaching and tests).

    .. math:: \mathbf{m}_v = \frac{1}{|N(v)|} \sum_{u \in N(v)} \mathbf{h}_u,
              \qquad \mathbf{m}_v = \mathbf{0} \text{ if } N(v) = \emptyset

    Args:
        x: node features :math:`H`, shape ``[N, F]``.
        edge_index: edges ``u -> v``, shape ``[2, E]`` (row 0 source, row 1 target).
        num_nodes: ``N``; defaults to ``x.size(0)``.

    Returns:
        The means :math:`M`, shape ``[N, F]``.
    """
    n = _checked_num_nodes(x, edge_index, num_nodes)
    src, dst = edge_index
    out = x.new_zeros(n, x.size(1))
    for v in range(n):
        neighbours = src[dst == v]  # N(v): the sources of the edges that point to v
        if len(neighbours) > 0:
            out[v] = x[neighbours].mean(dim=0)
    return out


def mean_aggregate(x: Tensor, edge_index: Tensor, num_nodes: Optional[int] = None) -> Tensor:
    r"""The neighbour mean for all nodes at once: gather along the edges, sum into the targets.

    .. math:: \mathbf{m}_v = \frac{1}{\max(1, |N(v)|)} \sum_{e = (u, v)} \mathbf{h}_u

    Each edge ``e = (u, v)`` carries the message ``h[u]``; ``index_add_`` sums the messages
    into row ``v``; dividing by the in-degree (at least 1) turns the sum into a mean, and a
    node without neighbours keeps a zero row. Cost :math:`O(|E| F)` time, :math:`O(|E| F)`
    memory for the messages: never a :math:`|V| \times |V|` matrix.

    Args:
        x: node features :math:`H`, shape ``[N, F]``.
        edge_index: edges ``u -> v``, shape ``[2, E]``.
        num_nodes: ``N``; defaults to ``x.size(0)``.

    Returns:
        The means :math:`M`, shape ``[N, F]``.
    """
    n = _checked_num_nodes(x, edge_index, num_nodes)
    return _mean_aggregate(x, edge_index, n)


def _mean_aggregate(x: Tensor, edge_index: Tensor, n: int) -> Tensor:
    """:func:`mean_aggregate` without the input checks (the layer checks once)."""
    src, dst = edge_index[0], edge_index[1]
    deg = torch.bincount(dst, minlength=n).clamp_(min=1).to(x.dtype)  # |N(v)|, at least 1
    out = x.new_zeros(n, x.size(1)).index_add_(0, dst, x.index_select(0, src))  # [N, F] sums
    return out / deg.unsqueeze(1)


def mean_adjacency_csr(edge_index: Tensor, n: int, dtype: torch.dtype) -> Tensor:
    r""":math:`\tilde A` in CSR layout, built with one stable sort by target (no coalescing)."""
    src, dst = edge_index[0].long(), edge_index[1].long()
    deg = torch.bincount(dst, minlength=n)
    perm = torch.argsort(dst, stable=True)  # rows of the CSR matrix = targets
    crow = torch.cat([deg.new_zeros(1), deg.cumsum(0)])
    values = (1.0 / deg.clamp(min=1).to(dtype))[dst[perm]]
    with warnings.catch_warnings():  # "sparse CSR support is in beta": it works for this use
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, src[perm], values, (n, n), check_invariants=False)


def mean_adjacency(edge_index: Tensor, num_nodes: int, layout: str = "coo",
                   dtype: torch.dtype = torch.float32) -> Tensor:
    r"""The row-normalised adjacency :math:`\tilde A = D^{-1} A^\top`, rows indexed by targets.

    .. math:: \tilde A_{vu} = \frac{\#\{\text{edges } u \to v\}}{|N(v)|}

    With :math:`A_{uv} = 1` for an edge :math:`u \to v` (the book's notation) this is
    :math:`D^{-1}A^\top`; for an undirected graph :math:`A^\top = A`. Each non-empty
    row sums to 1, so :math:`(\tilde A H)_v` is the mean of the neighbours' rows. A node
    without neighbours has an all-zero row.

    Args:
        edge_index: edges ``u -> v``, shape ``[2, E]``.
        num_nodes: ``N``.
        layout: ``"coo"`` or ``"csr"`` (torch sparse), or ``"dense"`` (an ``[N, N]`` tensor,
            which needs :math:`4 N^2` bytes in float32).
        dtype: the dtype of the values.

    Returns:
        :math:`\tilde A`, shape ``[N, N]``.
    """
    check_edge_index(edge_index, num_nodes=num_nodes)
    if layout not in ("coo", "csr", "dense"):
        raise ValueError(f"unknown layout {layout!r}; use 'coo', 'csr' or 'dense'")
    src, dst = edge_index[0], edge_index[1]
    deg = torch.bincount(dst, minlength=num_nodes).clamp_(min=1).to(dtype)
    values = 1.0 / deg[dst]  # each edge u -> v gets weight 1 / |N(v)|
    if layout == "dense":
        return torch.zeros(num_nodes, num_nodes, dtype=dtype).index_put_((dst, src), values, accumulate=True)
    # ids were checked above, so torch's own (slow) invariant checks are not needed
    a = torch.sparse_coo_tensor(torch.stack([dst, src]).long(), values, (num_nodes, num_nodes),
                                check_invariants=False).coalesce()
    if layout == "csr":
        with warnings.catch_warnings():  # "sparse CSR support is in beta": it works for this use
            warnings.simplefilter("ignore", UserWarning)
            return a.to_sparse_csr()
    return a


def mean_aggregate_sparse(x: Tensor, edge_index: Tensor, num_nodes: Optional[int] = None) -> Tensor:
    r"""The neighbour mean as one sparse matrix product.

    .. math:: M = \tilde A H, \qquad \tilde A = D^{-1} A^\top

    Args:
        x: node features :math:`H`, shape ``[N, F]`` (float32 or float64).
        edge_index: edges ``u -> v``, shape ``[2, E]``.
        num_nodes: ``N``; defaults to ``x.size(0)``.

    Returns:
        The means :math:`M`, shape ``[N, F]``.
    """
    n = _checked_num_nodes(x, edge_index, num_nodes)
    a = mean_adjacency(edge_index, n, layout="coo", dtype=x.dtype)
    return torch.sparse.mm(a, x)


def max_aggregate(x: Tensor, edge_index: Tensor, num_nodes: Optional[int] = None) -> Tensor:
    r"""The element-wise maximum over the neighbours: an aggregator with no matrix form.

    .. math:: \mathbf{m}_v = \max_{u \in N(v)} \mathbf{h}_u \ \text{(per feature)},
              \qquad \mathbf{m}_v = \mathbf{0} \text{ if } N(v) = \emptyset

    A maximum is not a weighted sum, so no matrix :math:`\tilde A` gives :math:`M = \tilde A H`;
    it needs a scatter with a ``max`` reduction over the edges.

    Args:
        x: node features :math:`H`, shape ``[N, F]``.
        edge_index: edges ``u -> v``, shape ``[2, E]``.
        num_nodes: ``N``; defaults to ``x.size(0)``.

    Returns:
        The maxima, shape ``[N, F]``.
    """
    n = _checked_num_nodes(x, edge_index, num_nodes)
    src, dst = edge_index[0], edge_index[1]
    index = dst.unsqueeze(1).expand(-1, x.size(1))  # [E, F]: the target row of every message
    # include_self=False: rows that receive no message keep their initial zero
    return x.new_zeros(n, x.size(1)).scatter_reduce(0, index, x.index_select(0, src), reduce="amax",
                                                    include_self=False)


class MeanAggregation(nn.Module):
    r"""One mean-aggregation layer (GraphSAGE with the mean aggregator), before :math:`\sigma`.

    .. math::

        \mathbf{h}_v' = W \, \frac{1}{|N(v)|} \sum_{u \in N(v)} \mathbf{h}_u + B \, \mathbf{h}_v,
        \qquad H' = \tilde A H W^\top + H B^\top

    :math:`W` is ``lin_neigh`` (it carries the bias when ``bias=True``) and :math:`B` is
    ``lin_self``. A node without neighbours gets a zero mean, so :math:`\mathbf{h}_v' = B
    \mathbf{h}_v + \mathbf{b}`. This is PyG's ``SAGEConv(in, out, aggr="mean")``, whose
    ``lin_l`` is our ``lin_neigh`` and ``lin_r`` our ``lin_self``.

    The neighbour mean is computed as :math:`\tilde A H` with :math:`\tilde A` in CSR
    layout (``benchmarks/bench_layers.py`` measured it faster than ``index_add_``), and
    because the mean is linear, :math:`W \operatorname{mean}_u \mathbf{h}_u = \operatorname{mean}_u
    W \mathbf{h}_u`: the layer transforms first when that makes the rows it averages narrower
    (``out_channels < in_channels``), which is cheaper and gives the same result.

    Args:
        in_channels: input feature size :math:`F`.
        out_channels: output feature size :math:`F'`.
        bias: add a learnable bias (in ``lin_neigh``).

    Shapes:
        ``x``: ``[N, F]``; ``edge_index``: ``[2, E]``; output: ``[N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin_neigh = nn.Linear(in_channels, out_channels, bias=bias)  # W_k
        self.lin_self = nn.Linear(in_channels, out_channels, bias=False)  # B_k
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights (PyTorch's default ``nn.Linear`` initialisation)."""
        self.lin_neigh.reset_parameters()
        self.lin_self.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        r"""Return :math:`\tilde A H W^\top + H B^\top` (+ bias), shape ``[N, out_channels]``."""
        if x.dim() == 2 and x.size(-1) != self.in_channels:
            raise ValueError(f"x has {x.size(-1)} features per node but the layer expects "
                             f"in_channels={self.in_channels}")
        n = _checked_num_nodes(x, edge_index, None)
        return self.propagate(x, mean_adjacency_csr(edge_index, n, x.dtype))

    def propagate(self, x: Tensor, a: Tensor) -> Tensor:
        r""":math:`\tilde A H W^\top + H B^\top` for a prebuilt :math:`\tilde A` (no input checks).

        A model that stacks layers validates its inputs and builds :math:`\tilde A` once per
        forward pass (:func:`mean_adjacency_csr`), then calls this for every layer.
        """
        if self.out_channels < self.in_channels:  # average the narrower rows: W x_u first
            neigh = torch.sparse.mm(a, x @ self.lin_neigh.weight.t())
            if self.lin_neigh.bias is not None:
                neigh = neigh + self.lin_neigh.bias
        else:
            neigh = self.lin_neigh(torch.sparse.mm(a, x))
        return neigh + self.lin_self(x)

    def to_pyg(self) -> SAGEConv:
        """PyG's ``SAGEConv(aggr="mean")`` with this layer's weights (``lin_l`` <- ``lin_neigh``,
        ``lin_r`` <- ``lin_self``): the same function, to compare against or to hand to PyG code.

        Example:
            >>> layer = MeanAggregation(3, 2)
            >>> x, ei = torch.rand(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
            >>> torch.allclose(layer(x, ei), layer.to_pyg()(x, ei), atol=1e-6)
            True
        """
        conv = SAGEConv(self.in_channels, self.out_channels, aggr="mean",
                        bias=self.lin_neigh.bias is not None).to(self.lin_self.weight.dtype)
        with torch.no_grad():
            conv.lin_l.weight.copy_(self.lin_neigh.weight)
            if self.lin_neigh.bias is not None:
                conv.lin_l.bias.copy_(self.lin_neigh.bias)
            conv.lin_r.weight.copy_(self.lin_self.weight)
        return conv

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
