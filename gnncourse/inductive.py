r"""Inductive settings: nodes and graphs the model never saw in training.

A GNN layer applies the same parameters :math:`(W_k, B_k)` at every node, so a trained
model can compute an embedding for *any* node from its computation graph, also for a node
that joined after training, or for a node of a different graph:

.. math::

    \mathbf{z}_v = f_\Theta\big(\mathbf{x}_v, \{\mathbf{x}_u : u \in N_K(v)\},
    \text{edges among them}\big)

This module holds what the chapter on inductive capability needs around that fact:

* :func:`inductive_views`: the graph as seen at training, validation and test time, with
  the nodes not yet seen (and their edges) removed.
* :class:`GraphFamily`: a seeded generative family of graphs (a degree-corrected planted
  partition with class-dependent features), to train on one draw and apply to another.
* :class:`GrowingGraph`: a graph that new nodes join one at a time, each embedded on
  arrival from its computation graph, without retraining.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, NamedTuple, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from .sampling import expand_loop
from .utils import check_edge_index, check_features

__all__ = ["InductiveViews", "inductive_views", "GraphFamily", "GrowingGraph"]


class InductiveViews(NamedTuple):
    r"""The graph at three moments: ``train`` (validation and test nodes absent), ``val``
    (test nodes absent) and ``test`` (everything). Each is a PyG ``Data`` whose ``n_id``
    holds the original node ids; its masks mark the nodes to train on or evaluate."""

    train: object
    val: object
    test: object


def inductive_views(data) -> InductiveViews:
    r"""Remove the validation and test nodes, and every edge touching them, for training.

    In the *transductive* setting the whole graph, test nodes included (without labels),
    is there during training: their features and edges shape the training nodes'
    embeddings. In the *inductive* setting they do not exist yet:

    * ``train`` view: the subgraph induced by :math:`V \setminus (V_\text{val} \cup
      V_\text{test})`: labelled training nodes and unlabelled nodes, nothing else.
    * ``val`` view: the validation nodes have joined, with their edges to the nodes present.
    * ``test`` view: the test nodes have joined too: the full graph.

    Args:
        data: a PyG ``Data`` with ``x``, ``edge_index`` and boolean ``train_mask``,
            ``val_mask``, ``test_mask`` of shape ``[N]``.

    Returns:
        :class:`InductiveViews`; in each view the per-node tensors (``x``, ``y``, masks) are
        restricted to its nodes, node ids are relabelled ``0..n-1`` and ``n_id`` maps them
        back to the original ids.
    """
    for name in ("train_mask", "val_mask", "test_mask"):
        mask = getattr(data, name, None)
        if mask is None or mask.dtype != torch.bool or mask.numel() != data.num_nodes:
            raise ValueError(f"data.{name} must be a boolean mask of shape [N={data.num_nodes}]")
    if bool((data.train_mask & (data.val_mask | data.test_mask)).any()):
        raise ValueError("train_mask overlaps val_mask or test_mask: an unseen node cannot also be a training node")
    check_edge_index(data.edge_index, data.num_nodes)
    n_id = torch.arange(data.num_nodes)
    views = []
    for absent in (data.val_mask | data.test_mask, data.test_mask, torch.zeros_like(data.test_mask)):
        view = data.subgraph(~absent)  # slices per-node tensors, keeps induced edges, relabels
        view.n_id = n_id[~absent]
        views.append(view)
    return InductiveViews(*views)


@dataclass
class GraphFamily:
    r"""A generative family of node-classification graphs: draw as many as you like.

    Each graph with :math:`N` nodes and :math:`C` classes is drawn as follows (everything in
    a draw depends on its ``seed``; what the graphs share, the class means, on
    ``family_seed``):

    1. Labels :math:`y_v \sim \mathrm{Uniform}\{0, \dots, C-1\}`.
    2. Node :math:`v` starts :math:`m_v \sim \mathrm{Poisson}(\lambda_{y_v} / 2)` edges,
       with a class-dependent rate :math:`\lambda_c = \bar d\,\big(1 + s\,(\tfrac{2c}{C-1}
       - 1)\big)` (class 0 has the fewest links, class :math:`C-1` the most).
    3. Each edge goes, with probability :math:`h` (the *homophily*), to a uniformly chosen
       node of the same class, otherwise to a uniformly chosen node; then every edge is made
       undirected (self-loops and duplicates dropped). The mean degree is about :math:`\bar d`.
    4. Features :math:`\mathbf{x}_v = a\,\boldsymbol{\mu}_{y_v} + \boldsymbol{\varepsilon}_v`,
       :math:`\boldsymbol{\varepsilon}_v \sim \mathcal{N}(0, I)`, class means
       :math:`\boldsymbol{\mu}_c` with unit-variance entries.

    With a weak feature signal :math:`a` one node's features say little about its class; its
    neighbours (mostly of its own class when :math:`h` is high) say much more. That is
    what a GNN learns, and since every draw follows the same rules, what it learned on one
    graph holds on another.

    Generation is vectorized: a 3-million-node graph takes seconds.

    Args:
        num_classes: :math:`C`.
        num_features: feature size.
        avg_degree: :math:`\bar d`.
        homophily: :math:`h \in [0, 1]`.
        degree_spread: :math:`s \in [0, 1)`: how much the degree depends on the class.
        feature_signal: :math:`a`.
        family_seed: seeds the class means shared by every graph of the family.
    """

    num_classes: int = 4
    num_features: int = 16
    avg_degree: float = 10.0
    homophily: float = 0.5
    degree_spread: float = 0.5
    feature_signal: float = 0.35
    family_seed: int = 0

    def __post_init__(self) -> None:
        if int(self.num_classes) < 2 or int(self.num_features) < 1:
            raise ValueError("a family needs num_classes >= 2 and num_features >= 1")
        if not 0.0 <= self.homophily <= 1.0:
            raise ValueError(f"homophily must lie in [0, 1], got {self.homophily}")
        if not 0.0 <= self.degree_spread < 1.0:
            raise ValueError(f"degree_spread must lie in [0, 1), got {self.degree_spread}")
        if self.avg_degree <= 0:
            raise ValueError(f"avg_degree must be positive, got {self.avg_degree}")

    def class_means(self) -> Tensor:
        r"""The class means :math:`\boldsymbol{\mu}_c`, shape ``[C, F]``, fixed by ``family_seed``."""
        g = torch.Generator().manual_seed(self.family_seed)
        return torch.randn(self.num_classes, self.num_features, generator=g)

    def sample(self, num_nodes: int, seed: int, split: Sequence[float] = (0.5, 0.25, 0.25)):
        r"""Draw one graph of the family.

        Args:
            num_nodes: :math:`N`.
            seed: seeds this draw (labels, edges, features, split).
            split: fractions of nodes in ``train_mask``, ``val_mask``, ``test_mask``
                (random, disjoint; they may sum to less than 1).

        Returns:
            A PyG ``Data`` with ``x`` ``[N, F]``, undirected ``edge_index``, ``y`` ``[N]`` and
            the three masks.
        """
        if int(num_nodes) < 2:
            raise ValueError(f"num_nodes must be at least 2, got {num_nodes}")
        if len(split) != 3 or min(split) < 0 or sum(split) > 1 + 1e-9:
            raise ValueError(f"split must be three non-negative fractions summing to at most 1, got {split}")
        n, c = int(num_nodes), self.num_classes
        g = torch.Generator().manual_seed(int(seed))
        y = torch.randint(0, c, (n,), generator=g)
        # 2. class-dependent number of edge stubs per node
        rate = self.avg_degree * (1 + self.degree_spread * (2 * torch.arange(c) / (c - 1) - 1))
        stubs = torch.poisson((rate[y] / 2).double(), generator=g).long()
        src = torch.repeat_interleave(torch.arange(n), stubs)
        # 3. homophilous or uniform partner for each stub
        by_class = torch.argsort(y, stable=True)  # node ids grouped by class
        count = torch.bincount(y, minlength=c)
        start = torch.cumsum(count, 0) - count
        cls = y[src]
        same = by_class[start[cls] + (torch.rand(src.numel(), generator=g) * count[cls]).long().clamp(max=n - 1)]
        anyone = torch.randint(0, n, (src.numel(),), generator=g)
        dst = torch.where(torch.rand(src.numel(), generator=g) < self.homophily, same, anyone)
        keep = src != dst
        lo, hi = torch.minimum(src[keep], dst[keep]), torch.maximum(src[keep], dst[keep])
        key = torch.unique(lo * n + hi)  # each undirected edge once, duplicates dropped
        lo, hi = key // n, key % n
        edge_index = torch.stack([torch.cat([lo, hi]), torch.cat([hi, lo])])
        # 4. features: weak class signal plus noise
        x = self.feature_signal * self.class_means()[y] + torch.randn(n, self.num_features, generator=g)
        # random split
        perm = torch.randperm(n, generator=g)
        masks = []
        lo = 0
        for frac in split:
            hi = lo + int(round(frac * n))
            m = torch.zeros(n, dtype=torch.bool)
            m[perm[lo:hi]] = True
            masks.append(m)
            lo = hi
        return Data(x=x, edge_index=edge_index, y=y, train_mask=masks[0], val_mask=masks[1], test_mask=masks[2])


class GrowingGraph:
    r"""A graph that keeps meeting new nodes, as Reddit, YouTube or Google Scholar do.

    It stores adjacency lists (cheap to extend, unlike a CSR array) and the feature rows.
    :meth:`add_node` inserts a node with its features and its links to nodes already
    present; :meth:`computation_graph` returns the :math:`K`-hop computation graph of a node,
    on which a trained model computes that node's embedding without any retraining::

        v = graph.add_node(x_new, neighbours)
        nodes, edge_index = graph.computation_graph(v, num_hops=2)
        z_v = model(graph.x[nodes], edge_index)[0]

    Edges are undirected (stored both ways).

    Args:
        x: features of the initial nodes, ``[N0, F]``.
        edge_index: edges among them, ``[2, E0]``.
        self_loops: give every node, old and new, a self-loop (for a model trained on a
            graph with self-loops); other self-loops in ``edge_index`` are ignored.
    """

    def __init__(self, x: Tensor, edge_index: Tensor, self_loops: bool = False) -> None:
        check_features(x)
        check_edge_index(edge_index, x.size(0))
        self._x = x.clone()
        self._n = x.size(0)
        self.self_loops = bool(self_loops)
        self.adj: List[set] = [{v} if self.self_loops else set() for v in range(self._n)]
        for u, v in edge_index.t().tolist():
            if u != v:
                self.adj[u].add(v)
                self.adj[v].add(u)

    @property
    def num_nodes(self) -> int:
        return self._n

    @property
    def x(self) -> Tensor:
        """Features of the nodes present, ``[N, F]``."""
        return self._x[: self._n]

    def add_node(self, x: Tensor, neighbors: Sequence[int]) -> int:
        r"""Insert a node with features ``x`` (``[F]``) linked to existing ``neighbors``;
        return its id (the next free one)."""
        if x.dim() != 1 or x.numel() != self._x.size(1):
            raise ValueError(f"x must be one feature vector of shape [{self._x.size(1)}], got {list(x.shape)}")
        bad = [u for u in neighbors if not 0 <= int(u) < self._n]
        if bad:
            raise ValueError(f"neighbors {bad[:5]} are not nodes of the graph (ids 0..{self._n - 1}); add them first")
        if self._n == self._x.size(0):  # grow the feature buffer geometrically
            self._x = torch.cat([self._x, torch.empty_like(self._x[: max(self._n, 1)])])
        v = self._n
        self._x[v] = x
        self._n += 1
        self.adj.append({int(u) for u in neighbors})
        for u in self.adj[v]:
            self.adj[u].add(v)
        if self.self_loops:
            self.adj[v].add(v)
        return v

    def computation_graph(self, v: int, num_hops: int) -> Tuple[Tensor, Tensor]:
        r"""Nodes within ``num_hops`` of ``v`` (``v`` first) and, in local ids, every edge
        a ``num_hops``-layer GNN needs for :math:`\mathbf{z}_v`: all edges into nodes within
        ``num_hops - 1`` hops.

        Returns:
            ``(nodes, edge_index)``: global ids ``[n]`` with ``nodes[0] == v``; edges
            ``[2, e]`` in positions of ``nodes``.
        """
        if not 0 <= v < self._n:
            raise ValueError(f"node {v} is not in the graph (ids 0..{self._n - 1})")
        sub = expand_loop(lambda w: list(self.adj[w]), [v], [-1] * int(num_hops), random.Random(0))
        return sub.nodes, sub.edge_index
