r"""A search-based explainer in the spirit of SubgraphX (Yuan et al., ICML 2021).

GNNExplainer and its relatives score edges one by one. SubgraphX asks a different question:
*which small connected subgraph matters most for this prediction?* It answers it with two
ingredients.

**The score of a subgraph: a Shapley value.** Treat the candidate subgraph :math:`S` as one
player and every other node of its neighbourhood :math:`R` (the nodes within ``radius`` hops
of :math:`S`; an :math:`L`-layer model cannot see further) as one player each. Nodes outside
:math:`R` stay as they are. The value of a coalition :math:`C` is the model's probability of
the target class when only the nodes of :math:`C` (and those outside :math:`R`) are present:

.. math:: v(C) = p_\theta\big(y \mid G \text{ with the nodes of } R \setminus C \text{ removed}\big),

where a node is removed by zero-filling its features (``removal="zero_features"``, the
paper's choice) or by dropping every edge that touches it (``"drop_edges"``). The Shapley
value of :math:`S` is its average marginal contribution over a random order of the players,

.. math:: \phi(S) = \sum_{C \subseteq R \setminus S} \frac{|C|!\,(m - |C|)!}{(m+1)!}
          \big(v(C \cup S) - v(C)\big), \qquad m = |R \setminus S|,

estimated as in the paper by Monte-Carlo: draw ``samples`` random orders, let :math:`C` be the
players before :math:`S`, average :math:`v(C \cup S) - v(C)`. When :math:`2^m` does not exceed
``samples`` the sum is enumerated instead, exactly (this is what makes the large subgraphs at
the top of the search cheap: few players remain outside them). For a node prediction the
explained node is present in every coalition (it is never a player of its own).

**The search: Monte-Carlo tree search over connected subgraphs.** The root is the whole
computation subgraph. A child of subgraph :math:`S` removes one node of :math:`S` (the
``expand`` candidates of lowest degree inside :math:`S`; never the explained node) and keeps
the connected component that holds the explained node (for a whole graph: the largest
component). A subgraph with at most ``min_nodes`` nodes is a leaf. Each of ``rollouts``
rollouts walks from the root to a leaf, choosing at every step the child that maximises

.. math:: Q(S') + c\, \phi(S') \frac{\sqrt{\sum_{S''} N(S'')}}{1 + N(S')}

(:math:`Q` = mean reward of the rollouts through :math:`S'`, :math:`N` = their number; ties go to
the larger :math:`\phi`), and gives the leaf's :math:`\phi` to every subgraph on its path. The
explanation is the explored subgraph with the largest :math:`\phi` among those with at most
``max_nodes`` nodes.

Budget (defaults after the authors' reference implementation in DIG: ``samples=100``,
``expand=14``, ``c_puct=10``; with ``rollouts=20``, ``min_nodes=5``, ``radius=3``, the
model's layers; set ``min_nodes`` to the size of the structure you look for). The cost is
dominated by the Shapley estimates: about ``2 * samples`` masked forward passes of one
computation subgraph per new subgraph explored. They are batched: all candidates of all
explanations that a search step needs are copied into one disjoint union and scored by one
call of ``sg.logits`` (split only to bound memory), and the ``B`` searches advance in
lockstep, so explaining many nodes costs few forward passes.

**Edge scores.** To plug into the explainer registry (``explain.EXPLAINERS``), each edge gets
the largest :math:`\phi` of an explored subgraph of at most ``max_nodes`` nodes that contains
both its ends, and :data:`UNCOVERED` if there is none: the edges of the chosen explanation
rank first, then those of the next best subgraphs.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from math import factorial, sqrt
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from .explain import ComputationSubgraphs, GraphUnion, register_explainer
from .utils import check_features, progress

__all__ = ["SubgraphXResult", "subgraphx", "subgraph_shapley", "UNCOVERED", "MAX_PASS_NODES", "REMOVALS"]

#: the edge score of an edge that no explored small subgraph contains: below every Shapley
#: value of a probability (they lie in ``[-1, 1]``).
UNCOVERED = -2.0
#: at most this many nodes go into one forward pass (larger batches are split).
MAX_PASS_NODES = 1 << 18
#: how a node outside the coalition is removed: zero its features (the paper) or drop its edges.
REMOVALS = ("zero_features", "drop_edges")


@dataclass
class SubgraphXResult:
    """What :func:`subgraphx` found, per explanation ``b``.

    Attributes:
        edge_scores: ``[Eb]`` the edge scores described in the module's docstring.
        nodes: the chosen subgraph of each explanation, as original node ids (``sg.nodes``).
        shapley: ``[B]`` the Shapley value of each chosen subgraph.
        explored: ``[B]`` how many distinct subgraphs each search scored.
        passes: forward passes of the model (each over many copies).
    """

    edge_scores: Tensor
    nodes: List[Tensor]
    shapley: Tensor
    explored: Tensor
    passes: int


class _Piece:
    """One explanation's graph: its nodes and edges in local numbering, and what a copy needs."""

    def __init__(self, sg, b: int, x: Tensor):
        self.pos = (sg.node_batch == b).nonzero().flatten()
        self.eid = (sg.edge_batch == b).nonzero().flatten()
        n = self.pos.numel()
        local = torch.full((sg.num_nodes,), -1, dtype=torch.long)
        local[self.pos] = torch.arange(n)
        self.n = n
        self.ei = local[sg.edge_index[:, self.eid]]
        erank = torch.full((sg.edge_index.size(1),), -1, dtype=torch.long)
        erank[self.eid] = torch.arange(self.eid.numel())
        rev = sg.rev[self.eid]
        self.rev = torch.where(rev >= 0, erank[rev.clamp(min=0)], rev)
        self.x = x[sg.nodes[self.pos]]
        self.center = int(local[sg.center[b]]) if isinstance(sg, ComputationSubgraphs) else -1
        adj = np.zeros((n, n), dtype=bool)
        src, dst = self.ei.numpy()
        adj[src, dst] = True
        adj[dst, src] = True
        np.fill_diagonal(adj, False)
        self.adj = adj
        self.adjf = adj.astype(np.float32)


def _copies(sg, groups: Sequence[Tuple[_Piece, Tensor]], removal: str):
    """One union holding ``k`` copies of each group's piece, node ``i`` of copy ``j`` present
    with weight ``keep[j, i]``; returns the union and its features."""
    fields = {k: [] for k in ("nodes", "node_batch", "edge_index", "edge_id", "edge_batch", "rev", "x", "w", "center", "hops")}
    n_off = e_off = c_off = 0
    for piece, keep in groups:
        k, n, e = keep.size(0), piece.n, piece.ei.size(1)
        copy = torch.arange(k)
        if removal == "zero_features":
            xs = (piece.x.unsqueeze(0) * keep.unsqueeze(-1)).reshape(k * n, -1)
            w = torch.ones(k * e)
        else:
            xs = piece.x.repeat(k, 1)
            w = (keep[:, piece.ei[0]] * keep[:, piece.ei[1]]).reshape(-1)
        fields["x"].append(xs)
        fields["w"].append(w)
        fields["nodes"].append(sg.nodes[piece.pos].repeat(k))
        fields["node_batch"].append((c_off + copy).repeat_interleave(n))
        fields["edge_index"].append((piece.ei.unsqueeze(1) + (n_off + copy * n).view(1, k, 1)).reshape(2, -1))
        fields["edge_id"].append(sg.edge_id[piece.eid].repeat(k))
        fields["edge_batch"].append((c_off + copy).repeat_interleave(e))
        shift = (e_off + copy * e).view(k, 1)
        fields["rev"].append(torch.where(piece.rev >= 0, piece.rev + shift, piece.rev.expand(k, e)).reshape(-1))
        if isinstance(sg, ComputationSubgraphs):
            fields["center"].append(n_off + copy * n + piece.center)
            fields["hops"].append(sg.hops[piece.pos].repeat(k))
        n_off, e_off, c_off = n_off + k * n, e_off + k * e, c_off + k
    cat = {k: torch.cat(v, dim=-1) if k == "edge_index" else torch.cat(v) for k, v in fields.items() if v}
    common = dict(nodes=cat["nodes"], node_batch=cat["node_batch"], edge_index=cat["edge_index"],
                  edge_id=cat["edge_id"], edge_batch=cat["edge_batch"], rev=cat["rev"])
    if isinstance(sg, ComputationSubgraphs):
        union = ComputationSubgraphs(**common, center=cat["center"], node_idx=cat["nodes"][cat["center"]],
                                     hops=cat["hops"], graph_edge_index=sg.graph_edge_index)
    else:
        union = GraphUnion(**common, x=cat["x"], graph_idx=torch.arange(c_off))
    return union, cat["x"], cat["w"]


class _Scorer:
    """Probabilities of the target class on masked copies of the pieces, in batched passes."""

    def __init__(self, model, sg, pieces, target, removal):
        self.model, self.sg, self.pieces, self.target, self.removal = model, sg, pieces, target, removal
        self.passes = 0

    def values(self, jobs: Sequence[Tuple[int, Tensor]]) -> List[Tensor]:
        """``jobs``: (explanation ``b``, ``keep [k, n_b]``); returns one ``[k]`` tensor per job."""
        out: List[Optional[Tensor]] = [None] * len(jobs)
        # split the jobs (and, if needed, a job's rows) into passes of at most MAX_PASS_NODES nodes
        batch, size, parts = [], 0, {}

        def flush():
            nonlocal batch, size
            if not batch:
                return
            union, xs, w = _copies(self.sg, [(self.pieces[b], keep) for _, b, keep in batch], self.removal)
            tgt = torch.cat([self.target[b].repeat(keep.size(0)) for _, b, keep in batch])
            with torch.no_grad():
                p = union.logits(self.model, xs, w).softmax(-1).gather(1, tgt[:, None]).squeeze(1)
            self.passes += 1
            start = 0
            for j, _, keep in batch:
                parts.setdefault(j, []).append(p[start:start + keep.size(0)])
                start += keep.size(0)
            batch, size = [], 0

        for j, (b, keep) in enumerate(jobs):
            n = self.pieces[b].n
            rows = max(1, MAX_PASS_NODES // max(n, 1))
            for chunk in torch.split(keep, rows):
                if size + chunk.size(0) * n > MAX_PASS_NODES:
                    flush()
                batch.append((j, b, chunk))
                size += chunk.size(0) * n
        flush()
        for j in range(len(jobs)):
            out[j] = torch.cat(parts[j])
        return out


def _coalitions(m: int, samples: int, generator) -> Tuple[Tensor, Tensor]:
    """``(coalitions [K, m] bool, weights [K])``: every subset with its Shapley weight when
    ``2**m <= samples`` (and m <= 16), else ``samples`` random orders (the players before the subgraph)."""
    if m <= 16 and 2 ** m <= samples:
        coal = torch.tensor(list(product([False, True], repeat=m)), dtype=torch.bool).reshape(2 ** m, m)
        size = coal.sum(1)
        weights = torch.tensor([factorial(int(k)) * factorial(m - int(k)) / factorial(m + 1) for k in size],
                               dtype=torch.float32)
        return coal, weights
    keys = torch.rand(samples, m + 1, generator=generator)
    return keys[:, :m] < keys[:, m:], torch.full((samples,), 1.0 / samples)


def _shapley_jobs(piece: _Piece, S: np.ndarray, radius: int, samples: int, generator):
    """The masks that estimate ``phi(S)``: ``keep [2K, n]`` (K with S, K without) and weights."""
    R = S.copy()
    for _ in range(radius):
        R = R | (piece.adjf[:, R].sum(1) > 0)
    players = np.flatnonzero(R & ~S)
    coal, weights = _coalitions(len(players), samples, generator)
    K = coal.size(0)
    excl = torch.tensor(~R, dtype=torch.float32).repeat(K, 1)
    excl[:, torch.as_tensor(players, dtype=torch.long)] = coal.float()
    if piece.center >= 0:
        excl[:, piece.center] = 1.0
    incl = excl.clone()
    incl[:, torch.as_tensor(np.flatnonzero(S), dtype=torch.long)] = 1.0
    return torch.cat([incl, excl]), weights


def _shapley_many(scorer: _Scorer, cands: Sequence[Tuple[int, np.ndarray]], radius, samples, generator) -> List[float]:
    jobs, weights = [], []
    for b, S in cands:
        keep, w = _shapley_jobs(scorer.pieces[b], S, radius, samples, generator)
        jobs.append((b, keep))
        weights.append(w)
    vals = scorer.values(jobs)
    out = []
    for v, w in zip(vals, weights):
        K = w.numel()
        out.append(float((w * (v[:K] - v[K:])).sum()))
    return out


def _check_common(model, x, sg, target) -> Tensor:
    if not isinstance(sg, (ComputationSubgraphs, GraphUnion)):
        raise ValueError(f"sg must be the ComputationSubgraphs of the explained nodes (explain.computation_subgraphs"
                         f"(...)) or a GraphUnion of the explained graphs, got {type(sg).__name__}")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module returning logits, got {type(model).__name__}")
    check_features(x)
    target = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if target.numel() != sg.num_explanations:
        raise ValueError(f"target needs one class per explanation: got {target.numel()} for "
                         f"{sg.num_explanations} explanations")
    with torch.no_grad():
        out = sg.logits(model, x[sg.nodes], torch.ones(sg.edge_index.size(1)))
    bad = target[(target < 0) | (target >= out.size(-1))]
    if bad.numel():
        raise ValueError(f"target holds class {int(bad[0])}, but the model predicts {out.size(-1)} classes "
                         f"(0..{out.size(-1) - 1})")
    return target


def _check_int(name: str, value, least: int, hint: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name} must be an int >= {least} ({hint}), got {value!r}")


def _check_removal(removal: str) -> None:
    if removal not in REMOVALS:
        raise ValueError(f"removal must be one of {REMOVALS} (how a node outside the coalition is removed), "
                         f"got {removal!r}")


def subgraph_shapley(model: nn.Module, x: Tensor, sg: Union[ComputationSubgraphs, GraphUnion], target: Tensor,
                     keep: Tensor, *, radius: int = 3, samples: int = 100, removal: str = "zero_features",
                     generator: Optional[torch.Generator] = None) -> Tensor:
    r"""``[B]`` the Shapley value :math:`\phi(S_b)` of one subgraph per explanation, the score
    :func:`subgraphx` searches with (see the module's docstring): the subgraph is one player,
    the other nodes within ``radius`` hops of it one player each, and the value of a coalition
    is the target probability with the other nodes of that neighbourhood removed.

    Args:
        keep: ``[Nb]`` bool over the union's nodes: the nodes of each :math:`S_b` (any set).
        radius: the neighbourhood's hops (the model's number of layers).
        samples: random orders drawn; when :math:`2^m \le` ``samples`` (``m`` other players)
            the Shapley sum is enumerated exactly instead.
        removal: ``"zero_features"`` or ``"drop_edges"`` (see :data:`REMOVALS`).
        generator: the random stream of the orders.

    Example:
        >>> from torch_geometric.data import Data
        >>> class Count(nn.Module):  # logits (0, number of present nodes): p(class 1) grows with them
        ...     def forward(self, x, edge_index, batch, edge_weight=None):
        ...         n = torch.zeros(int(batch.max()) + 1).index_add_(0, batch, x[:, 0])
        ...         return torch.stack([torch.zeros_like(n), n], 1)
        >>> g = Data(x=torch.ones(3, 1), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
        >>> gu = GraphUnion.from_graphs([g])
        >>> phi = [subgraph_shapley(Count(), gu.x, gu, [1], torch.arange(3) == i) for i in range(3)]
        >>> round(float(sum(phi)), 4)  # efficiency: the players share p(all) - p(none) = 0.9526 - 0.5
        0.4526
    """
    target = _check_common(model, x, sg, target)
    _check_int("radius", radius, 0, "the model's number of layers")
    _check_int("samples", samples, 1, "random orders per Shapley estimate, e.g. 100")
    _check_removal(removal)
    keep = torch.as_tensor(keep).bool().reshape(-1)
    if keep.numel() != sg.num_nodes:
        raise ValueError(f"keep needs one entry per node of the union ({sg.num_nodes}), got {keep.numel()}")
    pieces = [_Piece(sg, b, x) for b in range(sg.num_explanations)]
    scorer = _Scorer(model, sg, pieces, target, removal)
    cands = [(b, keep[p.pos].numpy().copy()) for b, p in enumerate(pieces)]
    return torch.tensor(_shapley_many(scorer, cands, radius, samples, generator))


class _TreeNode:
    __slots__ = ("S", "size", "P", "W", "N", "children")

    def __init__(self, S: np.ndarray):
        self.S, self.size = S, int(S.sum())
        self.P: Optional[float] = None
        self.W, self.N = 0.0, 0
        self.children: Optional[list] = None


def _children(piece: _Piece, S: np.ndarray, expand: int) -> List[np.ndarray]:
    """The subgraphs one pruning step away from ``S`` (see the module's docstring)."""
    idx = np.flatnonzero(S)
    if piece.center >= 0:
        idx = idx[idx != piece.center]
    if idx.size == 0:
        return []
    deg = piece.adj[np.ix_(idx, np.flatnonzero(S))].sum(1)
    cand = idx[np.argsort(deg, kind="stable")[:expand]]
    c = cand.size
    sub = np.repeat(S[None], c, 0)
    sub[np.arange(c), cand] = False
    if piece.center >= 0:  # the component of the explained node
        comp = np.zeros_like(sub)
        comp[:, piece.center] = True
        while True:
            nxt = comp | (((comp.astype(np.float32) @ piece.adjf) > 0) & sub)
            if (nxt == comp).all():
                break
            comp = nxt
    else:  # the largest component: propagate the smallest node id over each component
        n = piece.n
        lab = np.where(sub, np.arange(n)[None], n)
        while True:
            nb = np.where(piece.adj[None], lab[:, None, :], n).min(2)
            nxt = np.where(sub, np.minimum(lab, nb), n)
            if (nxt == lab).all():
                break
            lab = nxt
        comp = np.zeros_like(sub)
        for i in range(c):
            vals, counts = np.unique(lab[i][sub[i]], return_counts=True)
            comp[i] = lab[i] == vals[np.argmax(counts)]
    out, seen = [], set()
    for row in comp:
        key = row.tobytes()
        if key not in seen and row.any():
            seen.add(key)
            out.append(row)
    return out


def subgraphx(model: nn.Module, x: Tensor, sg: Union[ComputationSubgraphs, GraphUnion], target: Tensor, *,
              rollouts: int = 20, min_nodes: int = 5, max_nodes: Optional[int] = None, samples: int = 100,
              expand: int = 14, c_puct: float = 10.0, radius: int = 3, removal: str = "zero_features",
              generator: Optional[torch.Generator] = None, desc: Optional[str] = None) -> SubgraphXResult:
    r"""Explain ``B`` predictions by Monte-Carlo tree search over connected subgraphs, each scored
    by its Shapley value (the module's docstring gives the method, its budget and its cost).

    Args:
        model: the explained model (see ``explain.ComputationSubgraphs`` / ``explain.GraphUnion``).
        x: ``[N, F]`` node features (``GraphUnion.x`` for graphs); sg: the batched explanations.
        target: ``[B]`` the class to explain per prediction.
        rollouts: rollouts of the tree search per explanation (:math:`M`).
        min_nodes: a subgraph with at most this many nodes is a leaf (:math:`N_{min}`).
        max_nodes: the explanation has at most this many nodes (``None``: ``min_nodes``).
        samples, radius, removal, generator: of the Shapley estimate, see :func:`subgraph_shapley`.
        expand: children per subgraph: the ``expand`` lowest-degree nodes are tried for pruning.
        c_puct: the weight :math:`c` of the exploration term.
        desc: progress-bar label over the rollouts (``None``: no bar).

    Returns:
        :class:`SubgraphXResult` (``edge_scores [Eb]``, the chosen nodes, their Shapley values).

    Example:
        >>> from torch_geometric.data import Data
        >>> class Count(nn.Module):  # class 1 grows with the number of present nodes
        ...     def forward(self, x, edge_index, batch, edge_weight=None):
        ...         n = torch.zeros(int(batch.max()) + 1).index_add_(0, batch, x[:, 0])
        ...         return torch.stack([torch.zeros_like(n), n], 1)
        >>> g = Data(x=torch.ones(4, 1), edge_index=torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]))
        >>> gu = GraphUnion.from_graphs([g])
        >>> res = subgraphx(Count(), gu.x, gu, [1], min_nodes=2, rollouts=3)
        >>> res.nodes[0].numel(), res.edge_scores.shape
        (2, torch.Size([6]))
    """
    target = _check_common(model, x, sg, target)
    _check_int("rollouts", rollouts, 1, "tree-search rollouts per explanation, e.g. 20")
    _check_int("min_nodes", min_nodes, 1, "the size at which the search stops pruning, e.g. the motif's size")
    max_nodes = min_nodes if max_nodes is None else max_nodes
    _check_int("max_nodes", max_nodes, min_nodes, "the largest explanation; at least min_nodes")
    _check_int("samples", samples, 1, "random orders per Shapley estimate, e.g. 100")
    _check_int("expand", expand, 1, "children tried per subgraph; 14 in the reference code")
    _check_int("radius", radius, 0, "the model's number of layers")
    _check_removal(removal)
    if not isinstance(c_puct, (int, float)) or isinstance(c_puct, bool) or c_puct < 0:
        raise ValueError(f"c_puct must be a number >= 0 (the exploration weight; 10 in the reference code), "
                         f"got {c_puct!r}")
    B = sg.num_explanations
    pieces = [_Piece(sg, b, x) for b in range(B)]
    scorer = _Scorer(model, sg, pieces, target, removal)
    states = [dict() for _ in range(B)]
    roots = []
    for b, p in enumerate(pieces):
        root = _TreeNode(np.ones(p.n, dtype=bool))
        states[b][root.S.tobytes()] = root
        roots.append(root)
    small_roots = [(b, r.S) for b, r in enumerate(roots) if r.size <= max_nodes]
    for (b, _), phi in zip(small_roots, _shapley_many(scorer, small_roots, radius, samples, generator)):
        roots[b].P = phi

    def is_leaf(node: _TreeNode) -> bool:
        return node.size <= min_nodes or node.children == []

    for _ in progress(range(rollouts), desc=desc):
        cur, paths, active = list(roots), [[r] for r in roots], list(range(B))
        while active:
            new = []  # expand, in every active search, the subgraph it stands on
            for b in active:
                node = cur[b]
                if node.children is None and node.size > min_nodes:
                    node.children = []
                    for S in _children(pieces[b], node.S, expand):
                        key = S.tobytes()
                        child = states[b].get(key)
                        if child is None:
                            child = states[b][key] = _TreeNode(S)
                            new.append((b, child))
                        node.children.append(child)
            if new:  # every new subgraph of every search scored in the same passes
                for (b, child), phi in zip(new, _shapley_many(scorer, [(b, c.S) for b, c in new], radius,
                                                             samples, generator)):
                    child.P = phi
            still = []
            for b in active:
                node = cur[b]
                if is_leaf(node):
                    continue
                total = sqrt(sum(c.N for c in node.children))
                best = max(node.children, key=lambda c: (c.W / c.N if c.N else 0.0)
                           + c_puct * c.P * total / (1 + c.N) + 1e-9 * c.P)
                cur[b] = best
                paths[b].append(best)
                still.append(b)
            active = still
        for b in range(B):  # back up the leaf's Shapley value along the path
            leaf = paths[b][-1]
            v = leaf.P if leaf.P is not None else 0.0
            for node in paths[b][1:]:
                node.W += v
                node.N += 1

    scores = torch.full((sg.edge_index.size(1),), UNCOVERED)
    chosen, phis, explored = [], [], []
    for b, p in enumerate(pieces):
        small = [s for s in states[b].values() if s.P is not None and s.size <= max_nodes]
        explored.append(sum(s.P is not None for s in states[b].values()))
        if not small:  # cannot happen once a rollout reached a leaf; kept for safety
            chosen.append(sg.nodes[p.pos[p.center:p.center + 1]] if p.center >= 0 else sg.nodes[p.pos[:0]])
            phis.append(float("nan"))
            continue
        best = max(small, key=lambda s: (s.P, -s.size))
        chosen.append(sg.nodes[p.pos[torch.as_tensor(np.flatnonzero(best.S))]])
        phis.append(best.P)
        Smat = torch.as_tensor(np.stack([s.S for s in small]))
        P = torch.tensor([s.P for s in small], dtype=torch.float32)
        inside = Smat[:, p.ei[0]] & Smat[:, p.ei[1]]  # [k, e]
        sc = torch.where(inside, P[:, None], torch.full_like(P[:, None], UNCOVERED)).max(0).values
        scores[p.eid] = sc
    return SubgraphXResult(scores, chosen, torch.tensor(phis), torch.tensor(explored), scorer.passes)


@register_explainer("subgraphx")
def _subgraphx(model, x, sg, target, *, generator=None, **options) -> Tensor:
    return subgraphx(model, x, sg, target, generator=generator, **options).edge_scores
