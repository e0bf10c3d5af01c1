r"""Synthetic graphs generated in code, with a seed: the explanation benchmarks of the
GNNExplainer paper (Ying et al., 2019): BA-Shapes, BA-Community, Tree-Cycles, Tree-Grid;
and Is_Acyclic, the graph-classification benchmark of the XGNN paper (at the end).

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
import random
from typing import Dict, List, Optional, Tuple

import networkx as nx
import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from .graph_classification import degree_features

__all__ = ["ba_shapes", "ba_community", "tree_cycles", "tree_grid", "load_synthetic", "SYNTHETIC_DATASETS",
           "IS_ACYCLIC_CLASSES", "IS_ACYCLIC_FAMILIES", "family_edges", "make_is_acyclic"]

# Each motif: (edge list over local ids 0..n-1, roles of the local nodes).
_HOUSE = ([(0, 1), (1, 2), (2, 3), (3, 0), (4, 0), (4, 1)], [1, 1, 2, 2, 3])
_HOUSE_NODES = len(_HOUSE[1])

#: Noise edges, as a fraction of the edge count (the paper's code): BA-Shapes, BA-Community
#: and Tree-Cycles get 1%, Tree-Grid 10%.
NOISE_FRACTION = 0.01
NOISE_FRACTION_GRID = 0.10


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


def _add_new_edge(edges, edge_motif, present: set, draw) -> None:
    """Draw pairs with ``draw()`` until one is a new edge between two distinct nodes; add it
    (as a non-motif edge) to ``edges``, ``edge_motif`` and the set ``present``."""
    while True:
        u, v = draw()
        if u != v and (min(u, v), max(u, v)) not in present:
            break
    present.add((min(u, v), max(u, v)))
    edges.append((u, v))
    edge_motif.append(-1)


def _add_noise_edges(edges, edge_motif, num_nodes: int, p: float, rng: np.random.Generator):
    """Add ``int(p * |E|)`` edges between random pairs of distinct, unconnected nodes."""
    present = {(min(u, v), max(u, v)) for u, v in edges}
    for _ in range(int(p * len(present))):
        _add_new_edge(edges, edge_motif, present, lambda: tuple(int(a) for a in rng.integers(0, num_nodes, size=2)))


def _to_data(edges, edge_motif, x: Tensor, roles, motif_id, rng: np.random.Generator,
             train_ratio: float = 0.8):
    """Symmetric, sorted ``edge_index`` with aligned ``edge_motif``; random 80/20 split."""
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
    n = n_base + _HOUSE_NODES * n_houses
    _add_noise_edges(edges, edge_motif, n, NOISE_FRACTION, rng)
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
        _add_new_edge(edges, edge_motif, present, lambda: (int(rng.integers(n1)), int(rng.integers(n2)) + n1))
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
    return _tree_with(_cycle(6), num_cycles, NOISE_FRACTION, seed, height, num_features)


def tree_grid(seed: int = 0, height: int = 8, num_grids: int = 80, num_features: int = 10):
    r"""Tree-Grid: a balanced binary tree of height 8 with 80 :math:`3 \times 3` grids.

    2 classes (tree, grid), 10% noise edges, constant features. 1,231 nodes.
    """
    return _tree_with(_grid(3), num_grids, NOISE_FRACTION_GRID, seed, height, num_features)


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


# --- Is_Acyclic: whole graphs, one label each (the XGNN paper's benchmark) ---------------

#: Label names of Is_Acyclic: ``y == 0`` is a graph with a cycle, ``y == 1`` one without.
IS_ACYCLIC_CLASSES = ["cyclic", "acyclic"]

# Family -> (label, inclusive range of the size parameter). The ranges are chosen so that
# the dataset's average size is close to the XGNN paper's (about 28 nodes and 30 edges).
IS_ACYCLIC_FAMILIES: Dict[str, Tuple[int, Tuple[int, int]]] = {
    # cyclic (label 0): no node of degree 1 ...
    "cycle": (0, (6, 50)),  # n nodes on a ring
    "grid": (0, (3, 6)),  # an a x b lattice, a and b drawn from the range
    "wheel": (0, (6, 20)),  # a hub joined to every node of a ring of n - 1 nodes
    "circular_ladder": (0, (3, 15)),  # two rings of k nodes joined rung by rung: 2k nodes
    # acyclic (label 1): trees
    "path": (1, (10, 60)),
    "star": (1, (10, 60)),  # a centre and n - 1 leaves
    "binary_tree": (1, (3, 5)),  # a complete binary tree of height h: 2^(h+1) - 1 nodes
    "random_tree": (1, (10, 60)),  # node i attaches to a uniformly chosen earlier node
}


def family_edges(family: str, size: int, rng: Optional[random.Random] = None) -> Tuple[int, List[Tuple[int, int]]]:
    r"""Build one graph of a family as a fresh list of undirected edges ``(u, v)`` with ``u < v``.

    Args:
        family: a key of :data:`IS_ACYCLIC_FAMILIES`.
        size: the family's size parameter (nodes for cycle/wheel/path/star/random_tree,
            side for grid (an ``a x size`` grid with ``a`` drawn from the family's range),
            rungs for the circular ladder, height for the binary tree).
        rng: the random source for the random families (grid side, random tree).

    Returns:
        ``(num_nodes, edges)``. Every call builds new objects: nothing is shared between
        graphs (the widely copied Is_Acyclic script appends one tree object many times).
    """
    rng = rng or random.Random(0)
    if family not in IS_ACYCLIC_FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {sorted(IS_ACYCLIC_FAMILIES)}")
    lo, _ = IS_ACYCLIC_FAMILIES[family][1]
    if size < lo:
        raise ValueError(f"family {family!r} needs size >= {lo}, got {size}")
    edges: List[Tuple[int, int]] = []
    if family == "cycle":
        n = size
        edges = [(i, i + 1) for i in range(n - 1)] + [(0, n - 1)]
    elif family == "grid":
        a, b = rng.randint(*IS_ACYCLIC_FAMILIES["grid"][1]), size
        n = a * b
        for r in range(a):
            for c in range(b):
                v = r * b + c
                if c + 1 < b:
                    edges.append((v, v + 1))
                if r + 1 < a:
                    edges.append((v, v + b))
    elif family == "wheel":
        n = size  # node 0 is the hub, 1..n-1 the ring
        edges = [(0, i) for i in range(1, n)] + [(i, i + 1) for i in range(1, n - 1)] + [(1, n - 1)]
    elif family == "circular_ladder":
        k = size
        n = 2 * k
        for i in range(k):
            j = (i + 1) % k
            edges += [tuple(sorted((i, j))), tuple(sorted((k + i, k + j))), (i, k + i)]
    elif family == "path":
        n = size
        edges = [(i, i + 1) for i in range(n - 1)]
    elif family == "star":
        n = size
        edges = [(0, i) for i in range(1, n)]
    elif family == "binary_tree":
        n = 2 ** (size + 1) - 1
        edges = [((i - 1) // 2, i) for i in range(1, n)]
    else:  # random_tree
        n = size
        edges = [(rng.randrange(i), i) for i in range(1, n)]
    return n, edges


def _graph_data(num_nodes: int, edges: List[Tuple[int, int]], y: int, features: str, max_degree: int):
    e = torch.tensor(edges, dtype=torch.long).t()
    edge_index = torch.cat([e, e.flip(0)], dim=1)  # both directions: an undirected graph
    if features == "constant":
        x = torch.ones(num_nodes, 1)
    else:
        x = degree_features(edge_index, num_nodes, max_degree)
    return Data(x=x, edge_index=edge_index, y=torch.tensor([y]), num_nodes=num_nodes)


def make_is_acyclic(
    graphs_per_family: int = 60,
    seed: int = 0,
    features: str = "constant",
    max_degree: int = 10,
) -> List:
    r"""The Is_Acyclic benchmark: cyclic graphs (label 0) versus trees (label 1).

    Cyclic families: cycles, 2-D grids, wheels and circular ladders. Acyclic families:
    paths, stars, complete binary trees and random recursive trees. Each graph is built from
    scratch by :func:`family_edges` with a size drawn from the family's range.

    Args:
        graphs_per_family: graphs drawn per family (8 families).
        seed: seed of the private random stream (the global random state is not used).
        features: ``"constant"`` gives every node the feature ``[1]`` (the graphs have no
            attributes; the GCN's degree normalisation still sees the structure);
            ``"degree"`` gives a one-hot degree (capped at ``max_degree``).
        max_degree: the cap of the degree one-hot.

    Returns:
        A list of PyG ``Data`` objects with ``x``, ``edge_index`` (both directions), ``y``
        (shape ``[1]``) and an extra string attribute ``family``.
    """
    if graphs_per_family < 1:
        raise ValueError(f"graphs_per_family must be >= 1, got {graphs_per_family}")
    if features not in ("constant", "degree"):
        raise ValueError(f"features must be 'constant' or 'degree', got {features!r}")
    rng = random.Random(seed)
    dataset = []
    for family, (label, (lo, hi)) in IS_ACYCLIC_FAMILIES.items():
        for _ in range(graphs_per_family):
            n, edges = family_edges(family, rng.randint(lo, hi), rng)
            data = _graph_data(n, edges, label, features, max_degree)
            data.family = family
            dataset.append(data)
    return dataset
