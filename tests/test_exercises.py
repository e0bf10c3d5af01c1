"""Every exercise checker accepts the right answer, waits for an unfinished stub, and names typical mistakes.

For each checker: the solution passes ("correct"), a stub returning ``None`` gets "not done
yet" without an exception, and each typical wrong answer gets "not yet" with a hint that
points at that mistake (checked by a phrase of the hint) and does not contain the answer.
"""
import math

import pytest
import torch
import torch.nn.functional as F

from gnncourse import exercises as ex
from gnncourse.layers import mean_aggregate


def _raises(*args):
    raise RuntimeError("boom")


# --- right answers ------------------------------------------------------------------------------

def undirected_edges(A):
    return int(A.sum()) // 2


def triangles(A):
    return int(torch.trace(A @ A @ A)) // 6


def class_homophily(y, edge_index, c):
    src, dst = edge_index
    same = (y[src] == y[dst]).float()
    return torch.zeros(c).index_add_(0, y[src], same) / torch.bincount(y[src], minlength=c)


def node2vec_weights(edge_index, n, t, v, p, q):
    nbrs = edge_index[0][edge_index[1] == v].sort().values
    t_nbrs = set(edge_index[0][edge_index[1] == t].tolist())
    return [1 / p if x == t else (1.0 if x in t_nbrs else 1 / q) for x in nbrs.tolist()]


def dot_products(n, r, length, w, k):
    pairs = r * n * sum(length + 1 - o for o in range(1, w + 1))
    return pairs * n, pairs * (k + 1)


def visit_probability(walks, n):
    visited = torch.zeros(walks.size(0), n).scatter_(1, walks[:, 1:], 1.0)
    return torch.zeros(n, n).index_add_(0, walks[:, 0], visited) / torch.bincount(walks[:, 0], minlength=n).clamp(min=1)[:, None]


def sum_aggregate(h, edge_index):
    return torch.zeros_like(h).index_add_(0, edge_index[1], h[edge_index[0]])


def equivariant(layer, x, edge_index, perm):
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm))
    return torch.allclose(layer(x[perm], inv[edge_index]), layer(x, edge_index)[perm], atol=1e-5)


def walk_count(edge_index, n, v, k):
    e = torch.zeros(n)
    e[v] = 1.0
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1.0
    for _ in range(k):
        e = a @ e
    return int(e.sum())


def stable_bce(s, y):
    return (torch.clamp(s, min=0) - s * y + torch.log1p(torch.exp(-s.abs()))).mean()


def roc_auc(pos, neg):
    d = pos[:, None] - neg[None, :]
    return float(((d > 0).float() + 0.5 * (d == 0).float()).mean())


def batch_bound(b, fanouts):
    total, width = 1, 1
    for k in fanouts:
        width *= k
        total += width
    return b * total


CASES = [
    # (checker, right answer, [(wrong answer, phrase of its hint)])
    (ex.check_undirected_edge_count, undirected_edges,
     [(lambda A: int(A.sum()), "twice too large")]),
    (ex.check_triangle_count, triangles,
     [(lambda A: int(torch.trace(A @ A @ A)), "6 times"), (lambda A: int(torch.trace(A @ A @ A)) // 3, "2 times")]),
    (ex.check_class_homophily, class_homophily,
     [(lambda y, ei, c: class_homophily(y, ei.flip(0), c), "target"),
      (lambda y, ei, c: torch.zeros(c).index_add_(0, y[ei[0]], (y[ei[0]] == y[ei[1]]).float()) / torch.bincount(y, minlength=c),
       "number of nodes")]),
    (ex.check_zero_fraction, lambda n, d: 1 - d / n,
     [(lambda n, d: d / n, "non-zero"), (lambda n, d: 1 - d / n**2, "count the non-zero")]),
    (ex.check_node2vec_weights, node2vec_weights,
     [(lambda ei, n, t, v, p, q: node2vec_weights(ei, n, t, v, q, p), "swapped"),
      (lambda ei, n, t, v, p, q: node2vec_weights(ei, n, t, v, 1 / p, 1 / q), "reciprocals"),
      (lambda ei, n, t, v, p, q: sorted(node2vec_weights(ei, n, t, v, p, q)), "wrong order")]),
    (ex.check_dot_product_count, dot_products,
     [(lambda n, r, L, w, k: (dot_products(n, r, L, w, k)[0], dot_products(n, r, L, w, k)[1] // (k + 1) * k), "one more node"),
      (lambda n, r, L, w, k: (r * n * L * w * n, r * n * L * w * (k + 1)), "fewer partners"),
      (lambda n, r, L, w, k: (r * n * sum(L - o for o in range(1, w + 1)) * n, 0), "L + 1 nodes"),
      (lambda n, r, L, w, k: (2 * dot_products(n, r, L, w, k)[0], 0), "once")]),
    (ex.check_return_probability, lambda d, c, p, q: (1 / p) / (1 / p + c + (d - 1 - c) / q),
     [(lambda d, c, p, q: 1 / p, "normalise"),
      (lambda d, c, p, q: (1 / p) / (1 / p + c + (d - c) / q), "count it once"),
      (lambda d, c, p, q: p / (p + c + (d - 1 - c) * q), "reciprocals")]),
    (ex.check_visit_probability, visit_probability,
     [(lambda w, n: torch.zeros(n, n).index_add_(0, w[:, 0], F.one_hot(w[:, 1:], n).sum(1).float())
       / torch.bincount(w[:, 0], minlength=n).clamp(min=1)[:, None], "counts once"),
      (lambda w, n: torch.maximum(visit_probability(w, n), torch.diag((torch.bincount(w[:, 0], minlength=n) > 0).float())),
       "start node"),
      (lambda w, n: visit_probability(w, n).t(), "started")]),
    (ex.check_sum_aggregate, sum_aggregate,
     [(lambda h, ei: sum_aggregate(h, ei.flip(0)), "out-neighbours"), (mean_aggregate, "mean")]),
    (ex.check_equivariance_test, equivariant,
     [(lambda layer, x, ei, perm: True, "cannot be equivariant"),
      (lambda layer, x, ei, perm: torch.allclose(layer(x[perm], ei), layer(x, ei)[perm], atol=1e-5), "rejects")]),
    (ex.check_walk_count, walk_count,
     [(lambda ei, n, v, k: walk_count(ei.flip(0), n, v, k), "start"),
      (lambda ei, n, v, k: int(ex.computation_tree(ei, v, k, n) and len({u for lvl in ex.computation_tree(ei, v, k, n) for u, _ in lvl})),
       "distinct nodes")]),
    (ex.check_receptive_field, lambda d, K: 1 + d * sum((d - 1) ** j for j in range(K)),
     [(lambda d, K: d ** K, "walks of length K"), (lambda d, K: sum(d ** j for j in range(K + 1)), "d - 1"),
      (lambda d, K: d * (d - 1) ** (K - 1), "last hop")]),
    (ex.check_binary_score, lambda o: o[:, 1] - o[:, 0],
     [(lambda o: o[:, 0] - o[:, 1], "sign"), (lambda o: o[:, 1], "ignores one")]),
    (ex.check_leak_prediction, "higher", [("lower", "what an encoder sees"), ("same", "what an encoder sees")]),
    (ex.check_stable_bce, stable_bce,
     [(lambda s, y: -(y * torch.log(torch.sigmoid(s)) + (1 - y) * torch.log(1 - torch.sigmoid(s))).mean(), "not finite"),
      (lambda s, y: stable_bce(s, 1 - y), "swapped"), (lambda s, y: stable_bce(s, y) * len(s), "sum")]),
    (ex.check_roc_auc, roc_auc,
     [(lambda p, n: float((p[:, None] > n[None, :]).float().mean()), "half"),
      (lambda p, n: float((p[:, None] >= n[None, :]).float().mean()), "not a win"),
      (lambda p, n: float(((p > 0).float().mean() + (n <= 0).float().mean()) / 2), "threshold"),
      (lambda p, n: 1 - roc_auc(p, n), "swapped")]),
    (ex.check_batch_bound, batch_bound,
     [(lambda b, f: b, "seeds only"), (lambda b, f: b * (1 + sum(f)), "multiply"),
      (lambda b, f: b * math.prod(f), "last hop"), (lambda b, f: batch_bound(1, f), "one seed")]),
    (ex.check_gnn_parameter_count, lambda w: sum(2 * a * b + b for a, b in zip(w[:-1], w[1:])),
     [(lambda w: sum(2 * a * b for a, b in zip(w[:-1], w[1:])), "biases"),
      (lambda w: sum(a * b + b for a, b in zip(w[:-1], w[1:])), "two weight matrices"),
      (lambda w: sum(2 * a * b + 2 * b for a, b in zip(w[:-1], w[1:])), "one bias")]),
    (ex.check_homophily_prediction, "falls", [("rises", "rarely share"), ("stays", "rarely share")]),
    (ex.check_fanout_prediction, [(2, 2), (10, 5), (-1, -1)],
     [([(-1, -1), (10, 5), (2, 2)], "noisier"), ([(2, 2), (10, 5)], "exactly the three")]),
    (ex.check_isolated_node_prediction, "bias", [("zeros", "adds something"), ("features", "which messages")]),
    (ex.check_wl_prediction, False, [(True, "one colour everywhere"), ("no", "True or False")]),
    (ex.check_gcn_coefficient, lambda du, dv: 1 / math.sqrt((du + 1) * (dv + 1)),
     [(lambda du, dv: 1 / (dv + 1), "row"), (lambda du, dv: 1 / math.sqrt(max(du * dv, 1)), "self-loops"),
      (lambda du, dv: 1 / ((du + 1) * (dv + 1)), "square root")]),
    (ex.check_readout_prediction, {"sum"}, [({"sum", "mean"}, "appears twice"), ({"median"}, "pick among")]),
    (ex.check_sum_loss_factor, lambda W: W, [(lambda W: 1, "divides by W"), (lambda W: 1 / W, "divides by W")]),
    (ex.check_allreduce_bytes, lambda n, W: 2 * (W - 1) / W * n * 4,
     [(lambda n, W: 2 * (W - 1) / W * n, "4 bytes"), (lambda n, W: 2 * (W - 1) / W * n * 32, "bits"),
      (lambda n, W: 4 * n, "reduce-scatter")]),
    (ex.check_unequal_shards_prediction, False, [(True, "weighted mean")]),
    (ex.check_linear_scaling, lambda lr, W: lr * W,
     [(lambda lr, W: lr / W, "fewer, not smaller"), (lambda lr, W: lr * W ** 0.5, "square-root"),
      (lambda lr, W: lr, "covers less ground")]),
]


def test_every_checker_has_cases():
    assert sorted(c.__name__ for c, _, _ in CASES) == sorted(ex.__all__)


@pytest.mark.parametrize("checker,right,wrongs", CASES, ids=[c.__name__ for c, _, _ in CASES])
def test_checker(checker, right, wrongs):
    assert checker(right).startswith("correct"), checker(right)
    stub = None if not callable(right) else (lambda *args: None)
    assert checker(stub).startswith("not done yet")
    assert checker(None).startswith("not done yet")
    if callable(right):
        assert checker(_raises).startswith("not yet: your function raised RuntimeError")
    for wrong, phrase in wrongs:
        message = checker(wrong)
        assert message.startswith("not yet"), (phrase, message)
        assert phrase in message, (phrase, message)


def test_hints_do_not_give_the_numbers_away():
    """The messages for wrong numeric answers never contain the right value."""
    assert "78" not in ex.check_undirected_edge_count(lambda A: 1)
    assert "1 + " not in ex.check_receptive_field(lambda d, K: 0) and "(d - 1)^K" not in ex.check_receptive_field(lambda d, K: 0)
    message = ex.check_batch_bound(lambda b, f: 7)
    assert message.startswith("not yet") and str(batch_bound(1, [3])) not in message.replace("b = 1", "")
    message = ex.check_node2vec_weights(lambda *a: [0.0] * 6)
    assert "0.5" not in message.replace("q = 0.5", "") and "2.0, 1.0" not in message


def test_bool_predictions_reject_truthy_strings():
    assert ex.check_unequal_shards_prediction("False").startswith("not yet: answer True or False")
