r"""The 1-dimensional Weisfeiler-Lehman test (colour refinement), the bound on message passing.

Every node starts with a colour (its label, or one colour for all). Each round, a node's
new colour is an injective function of its old colour and the *multiset* of its
neighbours' colours:

.. math:: c^{(t+1)}_v = \mathrm{HASH}\big(c^{(t)}_v, \{\!\{ c^{(t)}_u : u \in N(v) \}\!\}\big)

Two graphs whose colour histograms differ at some round are certainly not isomorphic; if
the histograms agree at every round, 1-WL cannot tell them apart. A message-passing GNN's
layer is the same computation with a learned (and at best injective) HASH, so two graphs
that 1-WL cannot tell apart get the same output from every such GNN with a permutation
invariant readout (Xu et al., 2019; Morris et al., 2019).

Colours are refined on the disjoint union of all the graphs compared, so a colour id means
the same thing in every graph. Graphs are ``(edge_index, num_nodes)`` pairs or PyG ``Data``
objects; edges are read as undirected (both directions are used whether given or not).
"""
from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .utils import check_edge_index

__all__ = ["wl_colors", "wl_histograms", "wl_distinguishable", "star_graph"]

Graph = Union[Tuple[Tensor, int], object]


def _as_pair(graph: Graph) -> Tuple[Tensor, int]:
    if isinstance(graph, tuple) and len(graph) == 2:
        edge_index, n = graph
    elif hasattr(graph, "edge_index") and hasattr(graph, "num_nodes"):
        edge_index, n = graph.edge_index, graph.num_nodes
    else:
        raise ValueError(f"a graph must be an (edge_index, num_nodes) pair or a PyG Data object, got {type(graph).__name__}")
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"num_nodes must be a non-negative int, got {n!r}")
    check_edge_index(edge_index, num_nodes=n)
    return edge_index, n


def wl_colors(graphs: Sequence[Graph], iterations: Optional[int] = None,
              labels: Optional[Sequence[Sequence[int]]] = None) -> List[List[List[int]]]:
    r"""Refine the node colours of several graphs together; return every round's colours.

    Args:
        graphs: the graphs, each ``(edge_index, num_nodes)`` or a PyG ``Data``.
        iterations: the number of refinement rounds; default: until the partition of the
            nodes stops getting finer (at most the total number of nodes rounds).
        labels: optional initial colour (an int) of every node of every graph; default one
            colour for all nodes.

    Returns:
        ``colors[t][g]``: the colour ids of graph ``g``'s nodes after round ``t`` (round 0 is
        the initial colouring). The ids are shared by all graphs: the same id means the same
        refined neighbourhood.
    """
    pairs = [_as_pair(g) for g in graphs]
    if not pairs:
        raise ValueError("graphs is empty: give at least one graph")
    if iterations is not None and (not isinstance(iterations, int) or iterations < 0):
        raise ValueError(f"iterations must be a non-negative int or None, got {iterations!r}")
    offsets, neighbours = [], []
    total = 0
    for edge_index, n in pairs:
        offsets.append(total)
        nbrs = [[] for _ in range(n)]
        for u, v in edge_index.t().tolist():
            if v not in nbrs[u]:  # undirected, each neighbour once per edge pair
                nbrs[u].append(v)
            if u not in nbrs[v]:
                nbrs[v].append(u)
        neighbours.extend([[total + w for w in ws] for ws in nbrs])
        total += n
    if labels is None:
        color = [0] * total
    else:
        if len(labels) != len(pairs) or any(len(l) != n for l, (_, n) in zip(labels, pairs)):
            raise ValueError("labels must hold one list per graph with one colour per node")
        color = [int(c) for l in labels for c in l]
        palette = {c: i for i, c in enumerate(sorted(set(color)))}
        color = [palette[c] for c in color]

    def split(flat):
        return [flat[o:o + n] for o, (_, n) in zip(offsets, pairs)]

    rounds = [split(color)]
    limit = total if iterations is None else iterations
    for _ in range(limit):
        signature = [(color[v], tuple(sorted(color[u] for u in neighbours[v]))) for v in range(total)]
        palette = {s: i for i, s in enumerate(sorted(set(signature)))}  # injective HASH, deterministic ids
        new = [palette[s] for s in signature]
        stable = len(palette) == len(set(color))  # no class split: the refinement has converged
        color = new
        rounds.append(split(color))
        if iterations is None and stable:
            break
    return rounds


def wl_histograms(graphs: Sequence[Graph], iterations: Optional[int] = None,
                  labels: Optional[Sequence[Sequence[int]]] = None) -> List[List[Counter]]:
    """``hist[t][g]``: a ``Counter`` colour -> number of nodes, per round ``t`` and graph ``g``."""
    return [[Counter(c) for c in round_] for round_ in wl_colors(graphs, iterations, labels)]


def wl_distinguishable(g1: Graph, g2: Graph, iterations: Optional[int] = None,
                       labels: Optional[Sequence[Sequence[int]]] = None) -> bool:
    """``True`` if 1-WL tells the two graphs apart: their colour histograms differ at some round.

    ``False`` means no message-passing GNN (with a permutation-invariant readout) can tell
    them apart either; it does *not* mean the graphs are isomorphic.
    """
    return any(h[0] != h[1] for h in wl_histograms([g1, g2], iterations, labels))


def star_graph(leaf_features: Tensor, center_feature: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    r"""A star whose centre (node 0) receives one message from every leaf: a multiset made a graph.

    Args:
        leaf_features: ``[L, F]``, one row per leaf; the multiset the centre aggregates.
        center_feature: ``[F]``; default zeros.

    Returns:
        ``(x [L + 1, F], edge_index [2, 2L])``, edges in both directions.
    """
    if not isinstance(leaf_features, Tensor) or leaf_features.dim() != 2 or leaf_features.size(0) < 1:
        raise ValueError(f"leaf_features must be a [L, F] tensor with L >= 1, got {list(getattr(leaf_features, 'shape', []))}")
    num_leaves, f = leaf_features.shape
    center = leaf_features.new_zeros(f) if center_feature is None else center_feature
    x = torch.cat([center.view(1, f), leaf_features])
    leaves = torch.arange(1, num_leaves + 1)
    edge_index = torch.cat([torch.stack([leaves, torch.zeros_like(leaves)]),
                            torch.stack([torch.zeros_like(leaves), leaves])], dim=1)
    return x, edge_index
