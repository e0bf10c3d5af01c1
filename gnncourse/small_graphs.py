r"""Every small connected graph with typed nodes under valency rules, exactly once.

A model-level explanation asks which graph a classifier likes best. For small sizes the
question has an exact answer: list every valid graph and score it. A graph here has ``n``
nodes, each of one of ``K`` types (for molecules: atom types), and obeys the rules of a
generator that builds it edge by edge: it is connected, simple (no self-loop, no duplicate
edge) and every node has at most ``valency[type]`` edges.

The enumeration has two stages:

1. **Skeletons**: the connected untyped graphs on ``n`` nodes, one per isomorphism class,
   from networkx's graph atlas (all graphs up to 7 nodes, from Read and Wilson's *An Atlas
   of Graphs*), keeping those whose largest degree some type can carry.
2. **Typings** of each skeleton: every assignment of a type to each node with
   :math:`\deg(v) \le \text{valency}[t_v]`. Two typings describe the same graph exactly when
   an automorphism :math:`\sigma` of the skeleton maps one onto the other,
   :math:`t'_v = t_{\sigma(v)}`, so each class is kept once: as the typing whose code
   :math:`\sum_v t_v K^{n-1-v}` is the smallest over the skeleton's automorphisms.

Two graphs on different skeletons are never isomorphic, so the families of all skeletons
together hold every valid typed graph exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import networkx as nx
import torch
import torch.nn.functional as F
from networkx.algorithms.isomorphism import GraphMatcher
from networkx.generators.atlas import graph_atlas_g
from torch import Tensor, nn

__all__ = ["MAX_ATLAS_NODES", "SkeletonFamily", "connected_skeletons", "typed_graphs", "count_typed_graphs",
           "family_batch", "score_families"]

#: The largest size the graph atlas covers.
MAX_ATLAS_NODES = 7


@dataclass
class SkeletonFamily:
    """All non-isomorphic typings of one skeleton.

    Attributes:
        edge_index: ``[2, E]``, both directions of every edge of the skeleton.
        types: ``[k, n]``: row ``i`` is the type of every node in the ``i``-th graph.
    """

    edge_index: Tensor
    types: Tensor

    @property
    def num_nodes(self) -> int:
        return int(self.types.size(1))

    @property
    def degree(self) -> Tensor:
        """``[n]``: each node's number of edges."""
        return torch.bincount(self.edge_index[0], minlength=self.num_nodes)

    def __len__(self) -> int:
        return int(self.types.size(0))


def _check_valency(valency: Sequence[int]) -> List[int]:
    values = list(valency)
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
        raise ValueError(f"valency must be a non-empty sequence of ints >= 0, one per node type, got {valency!r}")
    return values


def _check_size(num_nodes: int) -> None:
    if not isinstance(num_nodes, int) or isinstance(num_nodes, bool) or not 1 <= num_nodes <= MAX_ATLAS_NODES:
        raise ValueError(f"num_nodes must be an int in 1..{MAX_ATLAS_NODES} (the graph atlas covers up to "
                         f"{MAX_ATLAS_NODES} nodes), got {num_nodes!r}")


def connected_skeletons(num_nodes: int, max_degree: Optional[int] = None) -> List[nx.Graph]:
    r"""The connected graphs on ``num_nodes`` nodes (labelled ``0..n-1``), one per isomorphism
    class, whose largest degree is at most ``max_degree`` (``None``: any).

    Example:
        >>> [len(connected_skeletons(n)) for n in range(1, 6)]   # OEIS A001349
        [1, 1, 2, 6, 21]
    """
    _check_size(num_nodes)
    out = []
    for g in graph_atlas_g():
        if g.number_of_nodes() != num_nodes or not nx.is_connected(g):
            continue
        if max_degree is not None and max(d for _, d in g.degree()) > max_degree:
            continue
        out.append(g)
    return out


def _automorphisms(g: nx.Graph) -> Tensor:
    """``[A, n]``: row ``a`` maps node ``v`` to ``sigma_a(v)``."""
    n = g.number_of_nodes()
    perms = [[m[v] for v in range(n)] for m in GraphMatcher(g, g).isomorphisms_iter()]
    return torch.tensor(perms, dtype=torch.long)


def _typings(g: nx.Graph, valency: List[int]) -> Tensor:
    """``[k, n]`` the canonical typing of every class of valid typings of skeleton ``g``."""
    n, K = g.number_of_nodes(), len(valency)
    allowed = [[t for t in range(K) if valency[t] >= g.degree(v)] for v in range(n)]
    if any(not a for a in allowed):
        return torch.zeros(0, n, dtype=torch.long)
    grids = torch.meshgrid(*[torch.tensor(a) for a in allowed], indexing="ij")
    types = torch.stack([t.reshape(-1) for t in grids], dim=1)  # [P, n]: every valid typing
    weights = K ** torch.arange(n - 1, -1, -1)  # code = sum_v t_v K^(n-1-v)
    perms = _automorphisms(g)  # [A, n]
    codes = torch.stack([(types[:, p] * weights).sum(1) for p in perms]).min(0).values  # [P]
    canon = torch.unique(codes)  # one code per class, sorted
    digits = (canon[:, None] // weights) % K  # decode: the canonical typing itself
    return digits


def typed_graphs(num_nodes: int, valency: Sequence[int]) -> List[SkeletonFamily]:
    r"""Every connected graph on ``num_nodes`` nodes with node types ``0..K-1`` and
    :math:`\deg(v) \le \text{valency}[t_v]`, each isomorphism class once, grouped by skeleton.

    Args:
        num_nodes: ``n`` in ``1..7``.
        valency: ``[K]``, the most edges a node of each type may have.

    Example:
        >>> fams = typed_graphs(2, valency=[4, 1])     # C-C, C-F, F-F
        >>> sum(len(f) for f in fams)
        3
    """
    _check_size(num_nodes)
    valency = _check_valency(valency)
    families = []
    for g in connected_skeletons(num_nodes, max(valency)):
        types = _typings(g, valency)
        if len(types):
            edges = torch.tensor(list(g.edges()), dtype=torch.long).view(-1, 2).t()
            edge_index = torch.cat([edges, edges.flip(0)], dim=1)
            families.append(SkeletonFamily(edge_index, types))
    return families


def count_typed_graphs(num_nodes: int, valency: Sequence[int]) -> int:
    """How many graphs :func:`typed_graphs` lists.

    Example:
        >>> [count_typed_graphs(n, valency=[4]) for n in range(1, 8)]   # carbon skeletons, cycles allowed
        [1, 1, 2, 6, 21, 78, 353]
    """
    return sum(len(f) for f in typed_graphs(num_nodes, valency))


Featurizer = Callable[[Tensor, Tensor], Tensor]


def family_batch(family: SkeletonFamily, featurize: Featurizer, rows: Optional[slice] = None
                 ) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Graphs of a family as one disjoint union: ``(x [k n, F], edge_index [2, k E], batch [k n])``.

    Args:
        family: the graphs.
        featurize: ``featurize(node_type [N], edge_index [2, E]) -> x [N, F]``, the model's
            node features (e.g. one-hot types).
        rows: which of the family's graphs (default all).
    """
    types = family.types if rows is None else family.types[rows]
    k, n = types.shape
    offsets = (torch.arange(k) * n).repeat_interleave(family.edge_index.size(1))
    edge_index = family.edge_index.repeat(1, k) + offsets
    node_type = types.reshape(-1)
    batch = torch.arange(k).repeat_interleave(n)
    return featurize(node_type, edge_index), edge_index, batch


@torch.no_grad()
def score_families(model: nn.Module, families: Sequence[SkeletonFamily], featurize: Featurizer,
                   chunk: int = 4096) -> Iterator[Tensor]:
    r"""The model's class probabilities for every graph of every family: one ``[k, C]`` tensor
    per family, in order. The model is called as ``model(x, edge_index, batch)`` in eval mode.

    Example:
        >>> net = nn.Linear(2, 2)
        >>> model = lambda x, ei, b: torch.zeros(int(b.max()) + 1, 2).index_add_(0, b, net(x))
        >>> fams = typed_graphs(3, valency=[2, 1])
        >>> [p.shape for p in score_families(model, fams, lambda t, ei: F.one_hot(t, 2).float())]
        [torch.Size([3, 2]), torch.Size([1, 2])]
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if isinstance(model, nn.Module):
        model.eval()
    for fam in families:
        parts = []
        for i in range(0, len(fam), chunk):
            x, edge_index, batch = family_batch(fam, featurize, slice(i, i + chunk))
            parts.append(F.softmax(model(x, edge_index, batch), dim=-1))
        yield torch.cat(parts)

