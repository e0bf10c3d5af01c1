"""Checkers for the book's exercises: each says whether an answer is right and, if not, what is wrong.

Every exercise has a stub the reader fills in (a function, or a value for a prediction) and
one checker here, named after what it checks (``check_mean_aggregate``-style names). A
checker never raises on a wrong or unfinished answer: it returns a one-line message,

- ``"not done yet: ..."`` while the stub still returns ``None`` or ``NotImplemented``;
- ``"not yet: ..."`` with a hint that points at the mistake without giving the answer;
- ``"correct: ..."`` when every case passes.

The checkers test on small graphs built here (fixed, seeded), so they run in milliseconds and
never need a dataset.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import networkx as nx
import torch
from torch import Tensor

from .layers import MeanAggregation, mean_aggregate
from .plot import computation_tree
from .sampling import in_csr, sample_neighbors

__all__ = [
    "check_undirected_edge_count", "check_triangle_count", "check_class_homophily", "check_zero_fraction",
    "check_node2vec_weights", "check_dot_product_count", "check_return_probability", "check_visit_probability",
    "check_sum_aggregate", "check_equivariance_test", "check_walk_count", "check_receptive_field",
    "check_binary_score", "check_leak_prediction", "check_stable_bce", "check_roc_auc",
    "check_batch_bound", "check_gnn_parameter_count", "check_homophily_prediction", "check_fanout_prediction",
    "check_isolated_node_prediction", "check_wl_prediction", "check_gcn_coefficient", "check_readout_prediction",
    "check_sum_loss_factor", "check_allreduce_bytes", "check_unequal_shards_prediction", "check_linear_scaling",
]

NOT_DONE = "not done yet: fill in the stub above, then run this cell again"


# --- shared helpers ------------------------------------------------------------------------------


def _undirected(pairs: Sequence[tuple], num_nodes: int | None = None) -> tuple[Tensor, int]:
    """Edge index with both directions of each pair, and the node count."""
    ei = torch.tensor(pairs, dtype=torch.long).t()
    ei = torch.cat([ei, ei.flip(0)], dim=1)
    return ei, (num_nodes if num_nodes is not None else int(ei.max()) + 1)


def _dense(edge_index: Tensor, num_nodes: int) -> Tensor:
    a = torch.zeros(num_nodes, num_nodes)
    a[edge_index[0], edge_index[1]] = 1.0
    return a


def _small_graphs() -> list[tuple[Tensor, int]]:
    """Three undirected test graphs: a triangle with a tail, the 4-clique, a seeded random graph."""
    g = nx.gnm_random_graph(12, 24, seed=3)
    return [_undirected([(0, 1), (0, 2), (1, 2), (2, 3), (3, 4)]),
            _undirected([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
            _undirected(list(g.edges()), 12)]


def _directed_graph() -> tuple[Tensor, int]:
    """A small directed graph whose in- and out-neighbourhoods differ."""
    ei = torch.tensor([[0, 0, 1, 2, 3, 3, 4, 5, 5], [1, 2, 2, 0, 2, 4, 5, 3, 1]])
    return ei, 6


def _call(fn: Callable, *args) -> tuple[Any, str | None]:
    """``(result, None)``, or ``(None, message)`` when ``fn`` is missing or raised."""
    if fn is None or fn is NotImplemented:
        return None, NOT_DONE
    try:
        out = fn(*args)
    except Exception as err:  # a reader's bug: report it, never raise
        return None, f"not yet: your function raised {type(err).__name__}: {err}"
    if out is None or out is NotImplemented:
        return None, NOT_DONE
    return out, None


def _number(x: Any) -> float | None:
    try:
        return float(x.item() if isinstance(x, Tensor) else x)
    except (TypeError, ValueError, RuntimeError):
        return None


def _close(a: float | None, b: float, rel: float = 1e-6) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def _tensor(x: Any) -> Tensor | None:
    try:
        return torch.as_tensor(x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return None


def _same(a: Tensor | None, b: Tensor, atol: float = 1e-5) -> bool:
    return a is not None and a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol)


def _verdict(answer: Any, verdicts: dict) -> str:
    """The message for a one-word (or ``True``/``False``) prediction: ``verdicts`` maps each
    option to its message, the right one starting with ``"correct:"``. A missing answer gets
    "not done yet", an answer that is no option gets the list of options."""
    if answer is None or answer is NotImplemented:
        return "not done yet: write your prediction in the stub above, then run this cell again"
    options = list(verdicts)
    if all(isinstance(o, bool) for o in options):
        if not isinstance(answer, bool):
            return f"not yet: answer True or False, got {answer!r}"
        return verdicts[answer]
    word = str(answer).strip().lower()
    if word not in verdicts:
        return f"not yet: answer with one of {options}, got {answer!r}"
    return verdicts[word]


# --- graphs as data ------------------------------------------------------------------------------


def check_undirected_edge_count(fn: Callable[[Tensor], Any]) -> str:
    """Check ``fn(A)``: the number of undirected edges of a graph without self-loops, from its adjacency matrix.

    Example:
        >>> print(check_undirected_edge_count(lambda A: None))
        not done yet: fill in the stub above, then run this cell again
    """
    for ei, n in _small_graphs():
        a = _dense(ei, n)
        expected = ei.size(1) // 2
        out, msg = _call(fn, a.clone())
        if msg:
            return msg
        got = _number(out)
        if _close(got, 2 * expected):
            return "not yet: your count is twice too large: how many entries of A does one undirected edge set to 1?"
        if not _close(got, expected):
            return f"not yet: on a graph with {n} nodes your count is {out}; count from the entries of A, nothing else"
    return "correct: the count agrees on three graphs"


def check_triangle_count(fn: Callable[[Tensor], Any]) -> str:
    """Check ``fn(A)``: the number of triangles of an undirected graph, from its adjacency matrix.

    Example:
        >>> print(check_triangle_count(lambda A: int(torch.trace(A @ A @ A))))
        not yet: your count is 6 times the number of triangles: how many closed walks of length 3 run around one triangle?
    """
    for ei, n in _small_graphs():
        a = _dense(ei, n)
        expected = sum(nx.triangles(nx.Graph(ei.t().tolist())).values()) // 3
        out, msg = _call(fn, a.clone())
        if msg:
            return msg
        got = _number(out)
        if expected and not _close(got, expected):
            for k in (6, 3, 2):
                if _close(got, k * expected):
                    return (f"not yet: your count is {k} times the number of triangles: how many closed walks "
                            f"of length 3 run around one triangle?")
            return f"not yet: your count is {out} on a graph with {n} nodes; start from the closed walks of length 3"
        if not expected and not _close(got, 0):
            return "not yet: a graph without triangles should give 0"
    return "correct: the count agrees with networkx on three graphs"


def check_class_homophily(fn: Callable[[Tensor, Tensor, int], Any]) -> str:
    """Check ``fn(y, edge_index, num_classes)``: per class c, the fraction of edges leaving a class-c node that end in class c.

    Example:
        >>> print(check_class_homophily(None))
        not done yet: fill in the stub above, then run this cell again
    """
    ei, n = _directed_graph()
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    src, dst = ei
    same = (y[src] == y[dst]).double()
    expected = torch.zeros(3, dtype=torch.float64).index_add_(0, y[src], same) / torch.bincount(y[src], minlength=3)
    out, msg = _call(fn, y.clone(), ei.clone(), 3)
    if msg:
        return msg
    got = _tensor(out)
    if got is None or got.numel() != 3:
        return "not yet: return one number per class (a tensor of length num_classes)"
    got = got.flatten()
    by_target = torch.zeros(3, dtype=torch.float64).index_add_(0, y[dst], same) / torch.bincount(y[dst], minlength=3)
    by_nodes = torch.zeros(3, dtype=torch.float64).index_add_(0, y[src], same) / torch.bincount(y, minlength=3)
    if _same(got, expected):
        return "correct: per-class homophily agrees on a directed test graph"
    if _same(got, by_target):
        return "not yet: you grouped the edges by the class of their target; the exercise groups them by the source"
    if _same(got, by_nodes):
        return "not yet: you divided by the number of nodes of each class; divide by the number of edges you averaged over"
    return "not yet: on a 6-node directed test graph some class's value is off; average the same-class indicator per group"


def check_zero_fraction(fn: Callable[[int, float], Any]) -> str:
    """Check ``fn(num_nodes, mean_degree)``: the fraction of entries of A that are 0 (no self-loops, degree = stored edges per node).

    Example:
        >>> print(check_zero_fraction(lambda n, d: d / n))
        not yet: that is the fraction of non-zero entries; the exercise asks for the zeros
    """
    for n, d in ((10, 2.0), (2708, 3.9), (10**6, 10.0)):
        expected = 1 - d / n
        out, msg = _call(fn, n, d)
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        if _close(got, d / n):
            return "not yet: that is the fraction of non-zero entries; the exercise asks for the zeros"
        if _close(got, 1 - d / n**2) or _close(got, 1 - d * n / n**2 / 2):
            return ("not yet: count the non-zero entries again: each node contributes one per stored edge, and A has "
                    "num_nodes^2 entries")
        return f"not yet: for {n} nodes of mean degree {d} you gave {out}"
    return "correct: and at a fixed mean degree the non-zero fraction shrinks like 1/|V|"


# --- node embeddings -----------------------------------------------------------------------------


def _karate() -> tuple[Tensor, int]:
    g = nx.karate_club_graph()
    return _undirected(list(g.edges()), g.number_of_nodes())


def _alpha(ei: Tensor, n: int, t: int, v: int, p: float, q: float) -> Tensor:
    a = _dense(ei, n)
    nbrs = ei[0][ei[1] == v].sort().values
    return torch.where(nbrs == t, 1 / p, torch.where(a[t, nbrs] > 0, 1.0, 1 / q)).double()


def check_node2vec_weights(fn: Callable[[Tensor, int, int, int, float, float], Any]) -> str:
    """Check ``fn(edge_index, num_nodes, t, v, p, q)``: node2vec's unnormalised weights of v's neighbours (ascending ids).

    Example:
        >>> check_node2vec_weights(None)
        'not done yet: fill in the stub above, then run this cell again'
    """
    ei, n = _karate()
    for t, v, p, q in ((2, 3, 2.0, 0.25), (0, 8, 0.5, 4.0), (33, 32, 4.0, 2.0)):
        out, msg = _call(fn, ei.clone(), n, t, v, p, q)
        if msg:
            return msg
        got = _tensor(out)
        expected = _alpha(ei, n, t, v, p, q)
        if got is None or got.flatten().shape != expected.shape:
            return f"not yet: return one weight per neighbour of v ({expected.numel()} for v = {v}), in increasing id"
        got = got.flatten()
        if _same(got, expected):
            continue
        if _same(got, _alpha(ei, n, t, v, q, p)):
            return "not yet: you swapped the roles of p and q: which one is the *return* parameter?"
        if _same(got, _alpha(ei, n, t, v, 1 / p, 1 / q)):
            return "not yet: the weights are reciprocals of the parameters (a large p makes returning rare)"
        if _same(got.sort().values, expected.sort().values):
            return "not yet: right weights, wrong order: list the neighbours of v in increasing id"
        return f"not yet: for t = {t}, v = {v}, p = {p}, q = {q} some weight is off: classify each neighbour x by its distance to t"
    return "correct: the weights agree for three (t, v, p, q) on the karate club"


def check_dot_product_count(fn: Callable[[int, int, int, int, int], Any]) -> str:
    """Check ``fn(num_nodes, walks_per_node, walk_length, window, k)``: dot products of one pass, ``(softmax, negative sampling)``.

    A walk of ``walk_length`` steps visits ``walk_length + 1`` nodes; pairs are (centre, context)
    at offsets 1..window, each counted once, as ``gnncourse.embeddings.walk_pairs`` makes them.

    Example:
        >>> print(check_dot_product_count(lambda n, r, L, w, k: None))
        not done yet: fill in the stub above, then run this cell again
    """
    for n, r, length, w, k in ((34, 2, 5, 2, 1), (2708, 5, 40, 10, 1), (100, 3, 12, 4, 5)):
        pairs = r * n * sum(length + 1 - o for o in range(1, w + 1))
        expected = (pairs * n, pairs * (k + 1))
        out, msg = _call(fn, n, r, length, w, k)
        if msg:
            return msg
        try:
            soft, neg = (_number(x) for x in out)
        except (TypeError, ValueError):
            return "not yet: return a pair (dot products with the softmax, dot products with negative sampling)"
        if _close(soft, expected[0]) and _close(neg, expected[1]):
            continue
        if _close(neg, pairs * k):
            return "not yet: each pair scores its k negatives *and* one more node: count it"
        naive = r * n * length * w
        if _close(soft, naive * n) or _close(neg, naive * (k + 1)):
            return "not yet: pairs near the end of a walk have fewer partners: count the pairs per offset"
        off_by_one = r * n * sum(length - o for o in range(1, w + 1))
        if _close(soft, off_by_one * n):
            return "not yet: a walk of L steps visits L + 1 nodes: recount the pairs per offset"
        if _close(soft, 2 * pairs * n):
            return "not yet: count each (centre, context) pair once, as walk_pairs does"
        return f"not yet: for {n} nodes, {r} walks of {length} steps, window {w}, k = {k}: recount the window pairs first"
    return "correct: both counts agree on three settings"


def check_return_probability(fn: Callable[[int, int, float, float], Any]) -> str:
    """Check ``fn(degree, common, p, q)``: node2vec's probability of stepping straight back to t.

    The walker moved t -> v; v has ``degree`` neighbours, t among them, and ``common`` of the
    others are also neighbours of t.

    Example:
        >>> print(check_return_probability(lambda d, c, p, q: 1 / p))
        not yet: that is the weight of going back, not its probability: normalise over all neighbours of v
    """
    for d, c, p, q in ((5, 2, 2.0, 0.5), (1, 0, 4.0, 1.0), (16, 3, 0.25, 4.0), (3, 2, 1.0, 1.0)):
        expected = (1 / p) / (1 / p + c + (d - 1 - c) / q)
        out, msg = _call(fn, d, c, p, q)
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        if _close(got, 1 / p) and not _close(1 / p, expected):
            return "not yet: that is the weight of going back, not its probability: normalise over all neighbours of v"
        if _close(got, (1 / p) / (1 / p + c + (d - c) / q)) or _close(got, (1 / p) / (1 / p + (c + 1) + (d - 2 - c) / q)):
            return "not yet: t is itself one of v's neighbours: count it once, with its own weight, and not again"
        if _close(got, p / (p + c + (d - 1 - c) * q)):
            return "not yet: the weights are reciprocals 1/p and 1/q, not p and q"
        return f"not yet: for degree {d}, {c} common neighbours, p = {p}, q = {q} you gave {out}"
    return "correct: and as p grows the walk almost never backtracks"


def check_visit_probability(fn: Callable[[Tensor, int], Any]) -> str:
    """Check ``fn(walks, num_nodes)``: ``P[u, v]``, the share of walks started at u that visit v after the start.

    Example:
        >>> print(check_visit_probability(None))
        not done yet: fill in the stub above, then run this cell again
    """
    walks = torch.tensor([[0, 1, 0, 1], [0, 2, 3, 2], [1, 0, 1, 2], [1, 2, 1, 0], [3, 2, 3, 2]])
    n = 4
    expected = torch.zeros(n, n, dtype=torch.float64)
    starts = torch.bincount(walks[:, 0], minlength=n).double()
    for w in walks.tolist():
        for v in set(w[1:]):
            expected[w[0], v] += 1
    expected /= starts.clamp(min=1)[:, None]
    out, msg = _call(fn, walks.clone(), n)
    if msg:
        return msg
    got = _tensor(out)
    if got is None or got.shape != (n, n):
        return f"not yet: return an [N, N] matrix ({n} x {n} here)"
    if _same(got, expected):
        return "correct: visits are counted once per walk, the start excluded"
    counts = torch.zeros(n, n, dtype=torch.float64)
    for w in walks.tolist():
        for v in w[1:]:
            counts[w[0], v] += 1
    if _same(got, counts / starts.clamp(min=1)[:, None]):
        return "not yet: a walk that visits v twice counts once: the question is *whether* it visits v"
    with_start = expected.clone()
    with_start[torch.arange(n), torch.arange(n)] = (starts > 0).double()
    if _same(got, with_start):
        return "not yet: do not count the start node as a visit"
    if _same(got, expected * starts.clamp(min=1)[:, None]):
        return "not yet: divide by the number of walks started at each u"
    if _same(got, expected.t()):
        return "not yet: row u should hold the walks *started* at u"
    return "not yet: on five hand-written walks of 4 nodes some entries are off"


# --- neighbourhood aggregation -------------------------------------------------------------------


def check_sum_aggregate(fn: Callable[[Tensor, Tensor], Any]) -> str:
    """Check ``fn(h, edge_index)``: row v holds the sum of h_u over the in-neighbours u (edges u -> v).

    Example:
        >>> print(check_sum_aggregate(lambda h, ei: h))
        not yet: on a 6-node directed graph some rows are off: row v sums h over the sources of the edges into v
    """
    ei, n = _directed_graph()
    h = torch.randn(n, 3, generator=torch.Generator().manual_seed(0))
    expected = torch.zeros(n, 3).index_add_(0, ei[1], h[ei[0]])
    out, msg = _call(fn, h.clone(), ei.clone())
    if msg:
        return msg
    got = _tensor(out)
    if _same(got, expected):
        return "correct: sums over in-neighbours agree on a directed graph"
    if _same(got, torch.zeros(n, 3).index_add_(0, ei[0], h[ei[1]])):
        return "not yet: you summed over out-neighbours: N(v) holds the *sources* of the edges that end at v"
    if _same(got, mean_aggregate(h, ei)):
        return "not yet: that is the mean; the exercise asks for the sum"
    if got is not None and got.shape != expected.shape:
        return f"not yet: return one row per node, shape {tuple(expected.shape)}"
    return "not yet: on a 6-node directed graph some rows are off: row v sums h over the sources of the edges into v"


class _PositionalLayer(torch.nn.Module):
    """A layer that is *not* permutation equivariant: it adds each node's index to its mean."""

    def forward(self, h: Tensor, edge_index: Tensor) -> Tensor:
        return mean_aggregate(h, edge_index) + torch.arange(h.size(0), dtype=h.dtype)[:, None]


def check_equivariance_test(fn: Callable[[torch.nn.Module, Tensor, Tensor, Tensor], Any]) -> str:
    """Check ``fn(layer, x, edge_index, perm)``: True exactly when ``layer`` is equivariant under ``perm``.

    ``perm[i]`` is the old id of new node ``i``. The checker hands ``fn`` an equivariant layer
    and one that is not, and expects ``True`` and ``False``.

    Example:
        >>> print(check_equivariance_test(lambda layer, x, ei, perm: True))
        not yet: your test passes a layer that adds each node's position to its output: it cannot be equivariant
    """
    ei, n = _undirected([(0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (3, 5)])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    torch.manual_seed(0)
    good = MeanAggregation(3, 2)
    out, msg = _call(fn, good, x.clone(), ei.clone(), perm.clone())
    if msg:
        return msg
    if not bool(out):
        return ("not yet: your test rejects the mean-aggregation layer, which is equivariant: relabel the edges "
                "with the inverse permutation and compare the outputs row by row")
    out, msg = _call(fn, _PositionalLayer(), x.clone(), ei.clone(), perm.clone())
    if msg:
        return msg
    if bool(out):
        return ("not yet: your test passes a layer that adds each node's position to its output: "
                "it cannot be equivariant")
    return "correct: your test accepts the equivariant layer and rejects the other"


def check_walk_count(fn: Callable[[Tensor, int, int, int], Any]) -> str:
    """Check ``fn(edge_index, num_nodes, v, K)``: the number of walks of length K that end at v (edges u -> v).

    Example:
        >>> print(check_walk_count(None))
        not done yet: fill in the stub above, then run this cell again
    """
    ei, n = _directed_graph()
    a = _dense(ei, n)
    for v, k in ((2, 1), (2, 2), (1, 3), (4, 2), (0, 0)):
        expected = int(torch.linalg.matrix_power(a, k)[:, v].sum())
        assert expected == len(computation_tree(ei, v, k, n)[k])
        out, msg = _call(fn, ei.clone(), n, v, k)
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        if _close(got, float(torch.linalg.matrix_power(a, k)[v].sum())):
            return "not yet: you counted walks that *start* at v: a message travels along u -> v into v"
        from_khop = len(set().union(*[{u for u, _ in lvl} for lvl in computation_tree(ei, v, k, n)]))
        if _close(got, from_khop):
            return "not yet: you counted distinct nodes; a node reached along several paths counts once per path"
        return f"not yet: for v = {v} and K = {k} you gave {out} on a 6-node directed graph"
    return "correct: the counts equal the sizes of the computation trees' last layers"


def check_receptive_field(fn: Callable[[int, int], Any]) -> str:
    """Check ``fn(d, K)``: the number of nodes within K hops of a node in an infinite tree where every node has degree d.

    Example:
        >>> print(check_receptive_field(lambda d, K: d ** K))
        not yet: that counts the walks of length K, not the nodes they reach: walks may step back
    """
    for d, k in ((3, 2), (4, 3), (3, 1), (2, 5), (10, 2)):
        expected = 1 + d * sum((d - 1) ** j for j in range(k))
        out, msg = _call(fn, d, k)
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        if _close(got, d ** k) and d ** k != expected:
            return "not yet: that counts the walks of length K, not the nodes they reach: walks may step back"
        if _close(got, sum(d ** j for j in range(k + 1))):
            return "not yet: a node's neighbours include the one it was reached from: only d - 1 of them are new"
        if _close(got, d * (d - 1) ** (k - 1)):
            return "not yet: that is the last hop alone; the receptive field holds every hop from 0 to K"
        return f"not yet: for d = {d}, K = {k} you gave {out}"
    return "correct: so the receptive field grows like (d - 1)^K"


# --- training ------------------------------------------------------------------------------------


def check_binary_score(fn: Callable[[Tensor], Any]) -> str:
    """Check ``fn(logits)``: the single score s whose binary cross-entropy equals the two-class cross-entropy of ``logits`` [N, 2].

    Example:
        >>> print(check_binary_score(lambda o: o[:, 1]))
        not yet: your score ignores one of the logits: the softmax depends on both
    """
    g = torch.Generator().manual_seed(0)
    o = 3 * torch.randn(50, 2, generator=g)
    y = torch.randint(0, 2, (50,), generator=g)
    out, msg = _call(fn, o.clone())
    if msg:
        return msg
    got = _tensor(out)
    if got is None or got.numel() != 50:
        return "not yet: return one score per row of the logits"
    got = got.flatten().float()
    ce = torch.nn.functional.cross_entropy(o, y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(got, y.float())
    if torch.allclose(ce, bce, atol=1e-5):
        return "correct: the two losses agree on 50 random logits"
    if _same(got, o[:, 0] - o[:, 1]):
        return "not yet: the sign is flipped: which class does sigma(s) give the probability of?"
    if _same(got, o[:, 1]) or _same(got, o[:, 0]):
        return "not yet: your score ignores one of the logits: the softmax depends on both"
    return "not yet: the two losses differ: write softmax(o)_1 as a sigmoid of one number"


def check_leak_prediction(answer: Any) -> str:
    """Check a prediction: the held-out ROC-AUC with the test edges left in the message-passing graph is "higher", "lower" or "same".

    Example:
        >>> print(check_leak_prediction("lower"))
        not yet: think about what an encoder sees when the edge it should predict is in its input
    """
    wrong = "not yet: think about what an encoder sees when the edge it should predict is in its input"
    return _verdict(answer, {
        "higher": "correct: and the gain is leakage, not skill; run the solution to see by how much",
        "lower": wrong, "same": wrong})


def check_stable_bce(fn: Callable[[Tensor, Tensor], Any]) -> str:
    """Check ``fn(scores, targets)``: the mean binary cross-entropy computed from the scores (logits), finite for any score.

    Example:
        >>> naive = lambda s, y: -(y * torch.log(torch.sigmoid(s)) + (1 - y) * torch.log(1 - torch.sigmoid(s))).mean()
        >>> print(check_stable_bce(naive))
        not yet: your loss is not finite for scores of +-200: a sigmoid of a large score rounds to exactly 0 or 1 before the log
    """
    s = torch.tensor([-200.0, -3.0, 0.0, 2.0, 200.0, 50.0])
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(s, y)
    out, msg = _call(fn, s.clone(), y.clone())
    if msg:
        return msg
    got = _number(out)
    if got is None:
        return "not yet: return the mean loss as one number (or a 0-dim tensor)"
    if not math.isfinite(got):
        return ("not yet: your loss is not finite for scores of +-200: a sigmoid of a large score rounds to exactly "
                "0 or 1 before the log")
    if _close(got, float(expected), rel=1e-4):
        return "correct: finite and equal to BCEWithLogitsLoss, also at scores of +-200"
    flipped = torch.nn.functional.binary_cross_entropy_with_logits(s, 1 - y)
    if _close(got, float(flipped), rel=1e-4):
        return "not yet: the targets are swapped: y = 1 should reward a large score"
    if _close(got, float(expected) * len(s), rel=1e-4):
        return "not yet: that is the sum; return the mean over the nodes"
    return "not yet: finite, but not the binary cross-entropy: use log sigma(s) = -log(1 + exp(-s)), written stably"


def check_roc_auc(fn: Callable[[Tensor, Tensor], Any]) -> str:
    """Check ``fn(pos_scores, neg_scores)``: the ROC-AUC, the probability that a random positive outscores a random negative.

    Example:
        >>> print(check_roc_auc(lambda pos, neg: ((pos > 0).float().mean() + (neg <= 0).float().mean()) / 2))
        not yet: that is an accuracy at one threshold; the AUC compares every positive with every negative
    """
    pos = torch.tensor([0.9, 0.8, 0.4, 0.4, -0.2])
    neg = torch.tensor([0.4, 0.1, -0.5, 0.95])
    diff = pos[:, None] - neg[None, :]
    expected = float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean())
    out, msg = _call(fn, pos.clone(), neg.clone())
    if msg:
        return msg
    got = _number(out)
    if _close(got, expected):
        return "correct: ties count one half, as in sklearn's roc_auc_score"
    if _close(got, float((diff > 0).double().mean())):
        return "not yet: a positive and a negative with the same score count as half a correct ordering"
    if _close(got, float((diff >= 0).double().mean())):
        return "not yet: a tie is not a win: count it as one half"
    acc = float(((pos > 0).double().mean() + (neg <= 0).double().mean()) / 2)
    if _close(got, acc) or _close(got, float(torch.cat([(pos > 0), (neg <= 0)]).double().mean())):
        return "not yet: that is an accuracy at one threshold; the AUC compares every positive with every negative"
    if _close(got, 1 - expected):
        return "not yet: positives and negatives are swapped"
    return f"not yet: on 5 positives and 4 negatives you gave {out}"


# --- inductive capability and sampling -----------------------------------------------------------


def check_batch_bound(fn: Callable[[int, Sequence[int]], Any]) -> str:
    """Check ``fn(b, fanouts)``: the most nodes a sampled mini-batch of b seeds can hold; and that samples respect it.

    Example:
        >>> print(check_batch_bound(lambda b, fanouts: b))
        not yet: the bound counts the seeds only: each hop adds nodes too
    """
    g = nx.gnm_random_graph(3000, 30000, seed=0)
    ei, n = _undirected(list(g.edges()), 3000)
    rowptr, col = in_csr(ei, n)
    gen = torch.Generator().manual_seed(0)
    for b, fanouts in ((1, [3]), (8, [10, 5]), (64, [5, 5, 5]), (100, [2, 4, 6])):
        expected, width = 1, 1
        for k in fanouts:
            width *= k
            expected += width
        expected *= b
        out, msg = _call(fn, b, list(fanouts))
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            seeds = torch.randperm(n, generator=gen)[:b]
            if sample_neighbors(rowptr, col, seeds, list(fanouts), gen).num_nodes > expected:
                return "not yet: a sample exceeded the bound"  # cannot happen for the right bound
            continue
        if _close(got, b):
            return "not yet: the bound counts the seeds only: each hop adds nodes too"
        if _close(got, b * (1 + sum(fanouts))):
            return "not yet: each node of hop l - 1 keeps up to k_l neighbours: the hops multiply, they do not add"
        if _close(got, b * math.prod(fanouts)):
            return "not yet: that is the last hop alone; the batch also holds the seeds and the hops in between"
        if _close(got, expected / b):
            return "not yet: that is the bound for one seed; the batch has b of them"
        return f"not yet: for b = {b}, fanouts = {fanouts} you gave {out}"
    return "correct: and no sample drawn on a 3,000-node random graph exceeded it"


def check_gnn_parameter_count(fn: Callable[[Sequence[int]], Any]) -> str:
    """Check ``fn(widths)``: the parameters of a stack of mean-aggregation layers with widths d_0, ..., d_K.

    Each layer is ``MeanAggregation(d_k, d_{k+1})``: a neighbour weight with a bias and a self weight.

    Example:
        >>> print(check_gnn_parameter_count(None))
        not done yet: fill in the stub above, then run this cell again
    """
    for widths in ([3, 2], [1433, 64, 7], [16, 32, 32, 4]):
        expected = sum(sum(p.numel() for p in MeanAggregation(a, b).parameters())
                       for a, b in zip(widths[:-1], widths[1:]))
        out, msg = _call(fn, list(widths))
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        pairs = list(zip(widths[:-1], widths[1:]))
        if _close(got, sum(2 * a * b for a, b in pairs)):
            return "not yet: you forgot the biases"
        if _close(got, sum(a * b + b for a, b in pairs)):
            return "not yet: each layer has two weight matrices: one for the neighbour mean, one for the node itself"
        if _close(got, sum(2 * a * b + 2 * b for a, b in pairs)):
            return "not yet: one bias per layer is enough (the self weight has none)"
        return f"not yet: for widths {widths} you gave {out}"
    return "correct: and the count never mentions the number of nodes"


def check_homophily_prediction(answer: Any) -> str:
    """Check a prediction: as the new graph's homophily falls from 0.5 to 0, the transferred GNN's accuracy "rises", "falls" or "stays".

    Example:
        >>> print(check_homophily_prediction("stays"))
        not yet: what does the mean of a node's neighbours tell the model once they rarely share its class?
    """
    wrong = "not yet: what does the mean of a node's neighbours tell the model once they rarely share its class?"
    return _verdict(answer, {
        "rises": wrong,
        "falls": "correct: the rule the model learned, neighbours share your class, stops holding; run the solution",
        "stays": wrong})


def check_fanout_prediction(answer: Any) -> str:
    """Check a prediction: the test fanouts ``(2, 2)``, ``(10, 5)``, ``(-1, -1)`` ordered from lowest to highest accuracy.

    Example:
        >>> print(check_fanout_prediction([(-1, -1), (10, 5), (2, 2)]))
        not yet: a mean over fewer sampled neighbours is a noisier estimate of the full mean
    """
    if answer is None or answer is NotImplemented:
        return "not done yet: write your prediction in the stub above, then run this cell again"
    try:
        order = [tuple(int(k) for k in f) for f in answer]
    except (TypeError, ValueError):
        return "not yet: answer with a list of the three fanouts, e.g. [(10, 5), (2, 2), (-1, -1)]"
    if sorted(order) != sorted([(2, 2), (10, 5), (-1, -1)]):
        return "not yet: order exactly the three fanouts (2, 2), (10, 5) and (-1, -1)"
    if order == [(2, 2), (10, 5), (-1, -1)]:
        return "correct: more neighbours, less noise in each mean; run the solution to see the cost in nodes"
    return "not yet: a mean over fewer sampled neighbours is a noisier estimate of the full mean"


# --- beyond the mean -----------------------------------------------------------------------------


def check_isolated_node_prediction(answer: Any) -> str:
    """Check a prediction: a GCN layer without self-loops gives an isolated node "zeros", "bias" or "features" (W x_v + b).

    Example:
        >>> print(check_isolated_node_prediction("features"))
        not yet: without a self-loop, which messages reach a node that has no edges?
    """
    return _verdict(answer, {
        "zeros": "not yet: the layer adds something after aggregating, even when nothing arrives",
        "bias": "correct: no message arrives, only the bias is added: every isolated node looks alike",
        "features": "not yet: without a self-loop, which messages reach a node that has no edges?"})


def check_wl_prediction(answer: Any) -> str:
    """Check a prediction: can 1-WL tell two 3-regular graphs with the same node count apart? ``True`` or ``False``.

    Example:
        >>> print(check_wl_prediction(True))
        not yet: start 1-WL with one colour everywhere: what does every node see after one round?
    """
    return _verdict(answer, {
        False: "correct: every node sees three neighbours of one colour, in both graphs, in every round",
        True: "not yet: start 1-WL with one colour everywhere: what does every node see after one round?"})


def check_gcn_coefficient(fn: Callable[[int, int], Any]) -> str:
    """Check ``fn(deg_u, deg_v)``: GCN's weight of the message u -> v, with self-loops added (degrees *without* them).

    Example:
        >>> print(check_gcn_coefficient(lambda du, dv: 1 / (dv + 1)))
        not yet: that is the mean (row) normalisation; GCN normalises by both endpoints
    """
    for du, dv in ((1, 1), (3, 1), (2, 7), (0, 4)):
        expected = 1 / math.sqrt((du + 1) * (dv + 1))
        out, msg = _call(fn, du, dv)
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        if du != dv and (_close(got, 1 / (dv + 1)) or _close(got, 1 / (du + 1))):
            return "not yet: that is the mean (row) normalisation; GCN normalises by both endpoints"
        if du * dv and _close(got, 1 / math.sqrt(du * dv)):
            return "not yet: the self-loops add one to every degree"
        if _close(got, 1 / ((du + 1) * (dv + 1))):
            return "not yet: GCN takes the square root of the product of the degrees"
        return f"not yet: for degrees {du} and {dv} you gave {out}"
    return "correct: symmetric normalisation, D^-1/2 (A + I) D^-1/2"


def check_readout_prediction(answer: Any) -> str:
    """Check a prediction: which of the readouts "sum", "mean", "max" tell a graph from two disjoint copies of itself.

    Example:
        >>> print(check_readout_prediction({"sum", "mean"}))
        not yet: two copies have the same node states, twice: which readouts change when every state appears twice?
    """
    if answer is None or answer is NotImplemented:
        return "not done yet: write your prediction in the stub above, then run this cell again"
    try:
        chosen = {str(a).strip().lower() for a in ([answer] if isinstance(answer, str) else answer)}
    except TypeError:
        return "not yet: answer with a set of readout names, e.g. {'mean'}"
    if not chosen <= {"sum", "mean", "max"}:
        return f"not yet: pick among 'sum', 'mean' and 'max', got {sorted(chosen)}"
    if chosen == {"sum"}:
        return "correct: mean and max see the same multiset proportions and the same maxima"
    return ("not yet: two copies have the same node states, twice: which readouts change when every state appears "
            "twice?")


# --- scaling out ---------------------------------------------------------------------------------


def check_sum_loss_factor(fn: Callable[[int], Any]) -> str:
    """Check ``fn(W)``: with summed (not averaged) per-rank losses, the global summed-loss gradient divided by DDP's average.

    Example:
        >>> print(check_sum_loss_factor(lambda W: 1))
        not yet: with sums the ranks' gradients add up to the global one; DDP then divides by W
    """
    for w in (2, 4, 8):
        out, msg = _call(fn, w)
        if msg:
            return msg
        got = _number(out)
        if _close(got, w):
            continue
        if _close(got, 1) or _close(got, 1 / w):
            return "not yet: with sums the ranks' gradients add up to the global one; DDP then divides by W"
        return f"not yet: for W = {w} you gave {out}"
    return "correct: which is why each rank takes the mean over an equal share of seeds"


def check_allreduce_bytes(fn: Callable[[int, int], Any]) -> str:
    """Check ``fn(num_params, W)``: bytes each process sends in a ring all-reduce of float32 gradients.

    Example:
        >>> print(check_allreduce_bytes(lambda n, W: 4 * n))
        not yet: a ring all-reduce sends about 2 (W - 1) / W times the gradient: a reduce-scatter, then an all-gather
    """
    for n, w in ((1000, 2), (92_231, 2), (92_231, 8), (10, 1)):
        expected = 2 * (w - 1) / w * n * 4
        out, msg = _call(fn, n, w)
        if msg:
            return msg
        got = _number(out)
        if _close(got, expected):
            continue
        if _close(got, expected / 4):
            return "not yet: that counts numbers; each float32 takes 4 bytes"
        if _close(got, expected * 8):
            return "not yet: that counts bits; the exercise asks for bytes"
        if w > 1 and (_close(got, 4 * n) or _close(got, 8 * n)):
            return ("not yet: a ring all-reduce sends about 2 (W - 1) / W times the gradient: a reduce-scatter, "
                    "then an all-gather")
        return f"not yet: for {n} parameters and W = {w} you gave {out}"
    return "correct: and the traffic does not depend on the batch size"


def check_unequal_shards_prediction(answer: Any) -> str:
    """Check a prediction: with unequal shards, is the average of the ranks' mean-loss gradients still the global mean's? ``True``/``False``.

    Example:
        >>> print(check_unequal_shards_prediction(True))
        not yet: write the average of the ranks' means as a weighted mean of the seeds: are the weights equal?
    """
    return _verdict(answer, {
        False: "correct: a seed on a smaller shard weighs more; run the solution to see the gap",
        True: "not yet: write the average of the ranks' means as a weighted mean of the seeds: are the weights equal?"})


def check_linear_scaling(fn: Callable[[float, int], Any]) -> str:
    """Check ``fn(lr, W)``: the linear scaling rule's learning rate when the global batch grows W-fold.

    Example:
        >>> print(check_linear_scaling(lambda lr, W: lr / W))
        not yet: a W times larger batch averages W times more gradients into one step: fewer, not smaller, steps
    """
    for lr, w in ((0.01, 2), (0.1, 8), (0.003, 1)):
        out, msg = _call(fn, lr, w)
        if msg:
            return msg
        got = _number(out)
        if _close(got, lr * w):
            continue
        if w > 1 and _close(got, lr / w):
            return ("not yet: a W times larger batch averages W times more gradients into one step: fewer, "
                    "not smaller, steps")
        if w > 1 and _close(got, lr * math.sqrt(w)):
            return "not yet: that is the square-root rule; the exercise asks for the linear one"
        if w > 1 and _close(got, lr):
            return "not yet: with W times fewer steps per epoch, the same rate covers less ground"
        return f"not yet: for lr = {lr} and W = {w} you gave {out}"
    return "correct: in practice with a warm-up over the first epochs"
