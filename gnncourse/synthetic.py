r"""Synthetic graphs generated in code, with a seed: the explanation benchmarks of the
GNNExplainer paper (Ying et al., 2019): BA-Shapes, BA-Community, Tree-Cycles, Tree-Grid.

Every generator follows the original protocol of the paper's code (``gengraph.py`` and
``synthetic_structsim.py`` of the GNNExplainer repository), not PyG's simplified
``ExplainerDataset``:

* a base graph (Barabasi-Albert with :math:`m=5`, or a balanced binary tree of height 8);
* motifs attached by one edge from the motif's first node to base nodes that are
  **evenly spaced**: motif :math:`k` goes to base node :math:`k \lfloor n_{\text{base}} /
  n_{\text{motifs}} \rfloor`;
* random **noise edges** between nodes that are not yet connected, a fraction :math:`p` of the
  edge count (1% for BA-Shapes and Tree-Cycles, 10% for Tree-Grid);
* node labels = structural roles (0 for the base; house: 1 for the two nodes under the roof
  edge pair, 2 for the two bottom nodes, 3 for the roof; cycles and grids: 1);
* features: the constant vector of ones (10 dimensions) except BA-Community, whose
  features are drawn from a Gaussian per community;
* a random 80/20 train/test split of the nodes.

Each returned ``Data`` carries the explanation ground truth: ``motif_id`` (``[N]``, the
motif a node belongs to, -1 for base nodes) and ``edge_motif`` (``[E]``, the motif an edge
was created in, -1 for base, attachment and noise edges). ``edge_index`` holds each
undirected edge in both directions, sorted.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import networkx as nx
import numpy as np
import torch
from torch import Tensor

__all__ = ["ba_shapes", "ba_community", "tree_cycles", "tree_grid", "load_synthetic", "SYNTHETIC_DATASETS"]

# Each motif: (edge list over local ids 0..n-1, roles of the local nodes).
_HOUSE = ([(0, 1), (1, 2), (2, 3), (3, 0), (4, 0), (4, 1)], [1, 1, 2, 2, 3])


def _cycle(n: int) -> Tuple[List[Tuple[int, int]], List[int]]:
    return [(i, (i + 1) % n) for i in range(n)], [1] * n


def _grid(d: int) -> Tuple[List[Tuple[int, int]], List[int]]:
    edges = []
    for r in range(d):
        for c in range(d):
            if c + 1 < d:
                edges.append((r * d + c, r * d + c + 1))
            if r + 1 < d:
                edges.append((r * d + c, (r + 1) * d + c))
    return edges, [1] * (d * d)


def _check_seed(seed: int) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def _attach_motifs(
    base_edges: List[Tuple[int, int]], n_base: int, motif: Tuple[list, list], n_motifs: int
):
    """Base graph + motifs attached at evenly spaced base nodes (the original protocol).

    Returns ``edges`` (list of pairs), ``edge_motif`` (motif id or -1 per edge), ``roles``
    (label per node) and ``motif_id`` (motif per node, -1 for the base).
    """
    m_edges, m_roles = motif
    n_m = len(m_roles)
    spacing = math.floor(n_base / n_motifs)
    edges = list(base_edges)
    edge_motif = [-1] * len(edges)
    roles = [0] * n_base
    motif_id = [-1] * n_base
    for k in range(n_motifs):
        start = n_base + k * n_m
        edges += [(start + a, start + b) for a, b in m_edges]
        edge_motif += [k] * len(m_edges)
        edges.append((start, k * spacing))  # motif's first node -> evenly spaced base node
        edge_motif.append(-1)
        roles += m_roles
        motif_id += [k] * n_m
    return edges, edge_motif, roles, motif_id


def _add_noise_edges(edges, edge_motif, num_nodes: int, p: float, rng: np.random.Generator):
    """Add ``int(p * |E|)`` edges between random pairs of distinct, unconnected nodes."""
    present = {(min(u, v), max(u, v)) for u, v in edges}
    for _ in range(int(p * len(present))):
        while True:
            u, v = (int(a) for a in rng.integers(0, num_nodes, size=2))
            if u != v and (min(u, v), max(u, v)) not in present:
                break
        present.add((min(u, v), max(u, v)))
        edges.append((u, v))
        edge_motif.append(-1)


def _to_data(edges, edge_motif, x: Tensor, roles, motif_id, rng: np.random.Generator,
             train_ratio: float = 0.8):
    """Symmetric, sorted ``edge_index`` with aligned ``edge_motif``; random 80/20 split."""
    from torch_geometric.data import Data

    e = torch.tensor(edges, dtype=torch.long).t()
    em = torch.tensor(edge_motif, dtype=torch.long)
    ei = torch.cat([e, e.flip(0)], dim=1)
    em = torch.cat([em, em])
    n = x.size(0)
    key = ei[0] * n + ei[1]
    # Duplicate pairs cannot arise (noise edges avoid existing ones); sort for a canonical order.
    order = torch.argsort(key)
    ei, em = ei[:, order], em[order]
    if torch.unique(key).numel() != key.numel():
        raise RuntimeError("duplicate edge in a synthetic graph: this is a bug in the generator")
    perm = torch.from_numpy(rng.permutation(n))
    n_train = int(train_ratio * n)
    train_mask = torch.zeros(n, dtype=torch.bool)
    train_mask[perm[:n_train]] = True
    return Data(
        x=x, edge_index=ei, y=torch.tensor(roles, dtype=torch.long), train_mask=train_mask,
        test_mask=~train_mask, motif_id=torch.tensor(motif_id, dtype=torch.long), edge_motif=em,
    )


def _ba_with_houses(rng: np.random.Generator, n_base: int, n_houses: int, m: int):
    g = nx.barabasi_albert_graph(n_base, m, seed=int(rng.integers(2**31)))
    edges, edge_motif, roles, motif_id = _attach_motifs(list(g.edges()), n_base, _HOUSE, n_houses)
    n = n_base + 5 * n_houses
    _add_noise_edges(edges, edge_motif, n, 0.01, rng)
    return edges, edge_motif, roles, motif_id, n


def ba_shapes(seed: int = 0, num_base: int = 300, num_houses: int = 80, m: int = 5,
              num_features: int = 10):
    r"""BA-Shapes: a Barabasi-Albert graph (300 nodes, :math:`m=5`) with 80 houses attached.

    4 classes: base, the two upper nodes of a house's body (attached to the roof), the two
    lower nodes, the roof. 1% noise edges, constant features :math:`\mathbf{x}_v = \mathbf{1}
    \in \mathbb{R}^{10}`. 700 nodes.
    """
    _check_seed(seed)
    rng = np.random.default_rng(seed)
    edges, edge_motif, roles, motif_id, n = _ba_with_houses(rng, num_base, num_houses, m)
    return _to_data(edges, edge_motif, torch.ones(n, num_features), roles, motif_id, rng)


def ba_community(seed: int = 0, num_base: int = 300, num_houses: int = 80, m: int = 5,
                 num_bridges: int = 350):
    r"""BA-Community: two BA-Shapes graphs joined by 350 random edges, 8 classes.

    A node's class is its house role (0-3) plus 4 in the second community. Features are 10-dim
    Gaussians: the first two dimensions have mean :math:`-1` (community 1) or :math:`+1`
    (community 2) and variance 0.5, the other eight are :math:`\mathcal{N}(0, 1)`. 1,400 nodes.
    """
    _check_seed(seed)
    rng = np.random.default_rng(seed)
    parts = [_ba_with_houses(rng, num_base, num_houses, m) for _ in range(2)]
    (e1, em1, r1, mid1, n1), (e2, em2, r2, mid2, n2) = parts
    edges = e1 + [(u + n1, v + n1) for u, v in e2]
    edge_motif = em1 + [k + num_houses if k >= 0 else -1 for k in em2]
    roles = r1 + [r + 4 for r in r2]
    motif_id = mid1 + [k + num_houses if k >= 0 else -1 for k in mid2]
    present = {(min(u, v), max(u, v)) for u, v in edges}
    for _ in range(num_bridges):  # random edges between the communities (no duplicates)
        while True:
            u, v = int(rng.integers(n1)), int(rng.integers(n2)) + n1
            if (u, v) not in present:
                break
        present.add((u, v))
        edges.append((u, v))
        edge_motif.append(-1)
    var = np.array([0.5, 0.5] + [1.0] * 8)
    mu1 = np.array([-1.0, -1.0] + [0.0] * 8)
    x = np.concatenate([rng.normal(mu1, np.sqrt(var), size=(n1, 10)),
                        rng.normal(-mu1, np.sqrt(var), size=(n2, 10))])
    return _to_data(edges, edge_motif, torch.tensor(x, dtype=torch.float), roles, motif_id, rng)


def _tree_with(motif, n_motifs: int, noise: float, seed: int, height: int, num_features: int):
    _check_seed(seed)
    rng = np.random.default_rng(seed)
    tree = nx.balanced_tree(2, height)  # undirected, nodes 0..2^(h+1)-2 in BFS order
    n_base = tree.number_of_nodes()
    edges, edge_motif, roles, motif_id = _attach_motifs(list(tree.edges()), n_base, motif, n_motifs)
    n = len(roles)
    _add_noise_edges(edges, edge_motif, n, noise, rng)
    return _to_data(edges, edge_motif, torch.ones(n, num_features), roles, motif_id, rng)


def tree_cycles(seed: int = 0, height: int = 8, num_cycles: int = 60, num_features: int = 10):
    r"""Tree-Cycles: a balanced binary tree of height 8 (511 nodes) with 60 six-node cycles.

    2 classes (tree, cycle), 1% noise edges, constant features. 871 nodes.
    """
    return _tree_with(_cycle(6), num_cycles, 0.01, seed, height, num_features)


def tree_grid(seed: int = 0, height: int = 8, num_grids: int = 80, num_features: int = 10):
    r"""Tree-Grid: a balanced binary tree of height 8 with 80 :math:`3 \times 3` grids.

    2 classes (tree, grid), 10% noise edges, constant features. 1,231 nodes.
    """
    return _tree_with(_grid(3), num_grids, 0.10, seed, height, num_features)


#: name -> generator, in the order of the paper's table.
SYNTHETIC_DATASETS = {
    "BA-Shapes": ba_shapes,
    "BA-Community": ba_community,
    "Tree-Cycles": tree_cycles,
    "Tree-Grid": tree_grid,
}


def load_synthetic(name: str, seed: int = 0):
    """One of :data:`SYNTHETIC_DATASETS` by name, generated with ``seed``."""
    if name not in SYNTHETIC_DATASETS:
        raise ValueError(f"unknown synthetic dataset {name!r}; choose one of {list(SYNTHETIC_DATASETS)}")
    return SYNTHETIC_DATASETS[name](seed=seed)
