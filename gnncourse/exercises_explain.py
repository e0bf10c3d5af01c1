r"""Checkers for the exercises on explaining predictions.

Each checker takes the reader's answer (a function or a short string), runs it on inputs
whose right answer is known, and returns a message: ``"correct: ..."``, or ``"not yet: ..."``
saying *what* is wrong without giving the answer away. The checkers never raise on a wrong
answer; they raise ``TypeError`` only when the answer has the wrong kind (not callable, not
a string).

* :func:`check_fidelity`: Fid+ and Fid- from three probability vectors.
* :func:`check_tied_auc`: the ROC-AUC of an explanation with tied scores, as a formula.
* :func:`check_grad_cam`: Grad-CAM node scores from hidden features and their gradients.
* :func:`check_rescaling_prediction`: which AUC a per-explanation rescaling can change.

Explaining models (XGNN):

* :func:`check_has_cycle`: does a connected graph have a cycle, from its size alone.
* :func:`check_nitro_count_prediction`: which readout counts a molecule's nitro groups.
* :func:`check_penalty_prediction`: what XGNN's rule penalty does to the invalid steps.
* :func:`check_accuracy_standard_error`: how far a test accuracy moves by chance alone.

Reproducing an explanation benchmark:

* :func:`check_true_label_prediction`: explaining the true label instead of the prediction.
* :func:`check_padded_auc`: the AUC once edges scored 0 are added, as a formula.
* :func:`check_straight_through`: binary masks with a straight-through gradient.
* :func:`check_kept_graph_prediction`: does the prediction hold on occlusion's kept edges.

A model-level explanation study:

* :func:`check_molecules_apart`: how many test graphs apart the best and the worst run are.
* :func:`check_class_share_prediction`: a class's share outside the training molecules.
* :func:`check_three_atom_count`: how many molecules of 3 atoms, derived from the valencies.
* :func:`check_nitro_number_prediction`: what the number of a group every molecule holds tells.
"""
from __future__ import annotations

import math
from typing import Callable

import networkx as nx
import pandas as pd
import torch
from torch import Tensor

from .explain import scatter_sum
from .metrics import fidelity, roc_auc

__all__ = ["check_fidelity", "check_tied_auc", "grad_cam_reference", "check_grad_cam",
           "check_rescaling_prediction", "check_has_cycle", "check_nitro_count_prediction",
           "check_penalty_prediction", "check_accuracy_standard_error", "check_true_label_prediction",
           "check_padded_auc", "check_straight_through", "check_kept_graph_prediction", "check_molecules_apart",
           "check_class_share_prediction", "check_three_atom_count", "check_nitro_number_prediction"]


def _need_callable(fn, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"pass your function {what} itself (not its result), got {type(fn).__name__}")


def _reader_number(fn: Callable, args: tuple, name: str) -> tuple:
    """Call the reader's ``fn(*args)`` and read its answer as a float: ``(number, None)``, or
    ``(None, message)`` when it is still the stub (returns ``None``), raised, or is no number."""
    try:
        out = fn(*args)
        if out is None:
            return None, f"not done yet: write {name} in the stub above, then run this cell again"
        return float(out), None
    except Exception as exc:  # the reader's code: report, do not crash
        return None, f"not yet: your function raised {type(exc).__name__}: {exc}"


def check_fidelity(fn: Callable) -> str:
    r"""Check ``fn(prob_full, prob_without, prob_only) -> (fid_plus, fid_minus)``.

    The right answer is :func:`gnncourse.metrics.fidelity`. The checker recognises the usual
    slips: the two fidelities swapped, the differences taken the other way round, sums
    instead of means.

    Example:
        >>> check_fidelity(fidelity).startswith("correct")
        True
        >>> check_fidelity(lambda f, w, o: (0.0, 0.0)).startswith("not yet")
        True
    """
    _need_callable(fn, "fn")
    gen = torch.Generator().manual_seed(0)
    full, without, only = torch.rand(3, 7, generator=gen)
    try:
        got = fn(full.clone(), without.clone(), only.clone())
        plus, minus = (float(v) for v in got)
    except Exception as exc:  # the reader's code: report, do not crash
        return f"not yet: your function raised {type(exc).__name__}: {exc}"
    want_plus, want_minus = fidelity(full, without, only)
    close = lambda a, b: abs(a - b) < 1e-5
    if close(plus, want_plus) and close(minus, want_minus):
        return "correct: Fid+ is the mean drop without the explanation, Fid- the mean drop with it alone"
    if close(plus, want_minus) and close(minus, want_plus):
        return "not yet: your two numbers are swapped (which one removes the explanation?)"
    if close(plus, -want_plus) or close(minus, -want_minus):
        return "not yet: a sign is flipped: fidelity measures how much the probability *drops*"
    if close(plus, want_plus * 7) or close(minus, want_minus * 7):
        return "not yet: average over the explained predictions, do not sum"
    return (f"not yet: on 7 random predictions Fid+ should be {want_plus:.3f} and Fid- "
            f"{want_minus:.3f}; you gave {plus:.3f} and {minus:.3f}")


def check_tied_auc(fn: Callable) -> str:
    r"""Check a formula ``fn(n, m)`` for the ROC-AUC of one explanation in which every
    ground-truth edge scores 1 and, of the ``n`` other edges, ``m`` also score 1 and the rest
    0. Compared with :func:`gnncourse.metrics.roc_auc` on such score vectors.

    Example:
        >>> check_tied_auc(lambda n, m: 0.5).startswith("not yet")
        True
    """
    _need_callable(fn, "fn")
    for k, n, m in [(6, 10, 0), (6, 10, 10), (6, 10, 4), (3, 40, 7), (12, 100, 33)]:
        scores = torch.cat([torch.ones(k), torch.ones(m), torch.zeros(n - m)])
        labels = torch.cat([torch.ones(k), torch.zeros(n)]).bool()
        want = roc_auc(scores, labels)
        try:
            got = float(fn(n, m))
        except Exception as exc:  # the reader's code: report, do not crash
            return f"not yet: your function raised {type(exc).__name__}: {exc}"
        if abs(got - want) > 1e-9:
            hint = (" Ties count one half." if abs(got - (1 - m / n)) < 1e-9 else "")
            return f"not yet: with n={n} other edges of which m={m} tie with the truth, the AUC is not {got:.4f}.{hint}"
    return "correct: and it does not depend on the number of ground-truth edges"


def grad_cam_reference(H: Tensor, G: Tensor, batch: Tensor) -> Tensor:
    r"""Grad-CAM node scores for many graphs at once (the reference of :func:`check_grad_cam`).

    .. math:: \alpha^{(b)}_k = \frac{1}{|V_b|}\sum_{u \in V_b} G_{uk}, \qquad
              L_u = \mathrm{ReLU}\Big(\sum_k \alpha^{(b(u))}_k H_{uk}\Big)

    Args:
        H: ``[N, K]`` hidden features of a layer; G: ``[N, K]`` the gradient of the explained
            output with respect to them; batch: ``[N]`` the graph (explanation) of each node.

    Returns:
        ``[N]`` non-negative node scores.

    Example:
        >>> H = torch.tensor([[1., 0.], [0., 2.]]); G = torch.tensor([[1., -1.], [1., 0.]])
        >>> grad_cam_reference(H, G, torch.tensor([0, 0])).tolist()   # alpha = (1, -0.5)
        [1.0, 0.0]
    """
    H, G, batch = torch.as_tensor(H), torch.as_tensor(G), torch.as_tensor(batch).long()
    if H.dim() != 2 or H.shape != G.shape or batch.shape != H.shape[:1]:
        raise ValueError(f"need H [N, K], G [N, K] and batch [N]; got {tuple(H.shape)}, "
                         f"{tuple(G.shape)} and {tuple(batch.shape)}")
    B = int(batch.max()) + 1 if batch.numel() else 0
    alpha = scatter_sum(G, batch, B) / torch.bincount(batch, minlength=B).clamp(min=1)[:, None]
    return (alpha[batch] * H).sum(1).relu()


def check_grad_cam(fn: Callable) -> str:
    r"""Check ``fn(H, G, batch) -> [N]`` Grad-CAM node scores against
    :func:`grad_cam_reference` on two random graphs, recognising the usual slips: no ReLU,
    one weight vector per node (gradient times activation) instead of per graph, weights
    pooled over all graphs instead of per graph.

    Example:
        >>> check_grad_cam(grad_cam_reference).startswith("correct")
        True
    """
    _need_callable(fn, "fn")
    gen = torch.Generator().manual_seed(1)
    H = torch.rand(9, 4, generator=gen)
    G = torch.randn(9, 4, generator=gen)
    G[6:] -= 1.5  # some nodes' weighted sums are negative, so the final ReLU matters
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    try:
        got = torch.as_tensor(fn(H.clone(), G.clone(), batch.clone()), dtype=torch.float32).reshape(-1)
    except Exception as exc:  # the reader's code: report, do not crash
        return f"not yet: your function raised {type(exc).__name__}: {exc}"
    want = grad_cam_reference(H, G, batch)
    if got.shape != want.shape:
        return f"not yet: return one score per node ({want.numel()}), got {got.numel()} values"
    if torch.allclose(got, want, atol=1e-5):
        return "correct: one weight per channel and graph, then a ReLU of the weighted features"
    alpha = scatter_sum(G, batch, 2) / torch.bincount(batch)[:, None]
    if torch.allclose(got, (alpha[batch] * H).sum(1), atol=1e-5):
        return "not yet: keep only the evidence *for* the class (what does Grad-CAM do last?)"
    if torch.allclose(got, (G * H).sum(1).relu(), atol=1e-5) or torch.allclose(got, (G * H).sum(1), atol=1e-5):
        return "not yet: the weights alpha_k are averaged over the graph's nodes, not taken node by node"
    if torch.allclose(got, (G.mean(0) * H).sum(1).relu(), atol=1e-5):
        return "not yet: average the gradient over each graph's own nodes, not over all graphs"
    return "not yet: compare your scores with the formula above on a graph of two nodes by hand"


_RESCALING_ANSWERS = {"pooled", "per-node", "both", "neither"}


def check_rescaling_prediction(answer: str) -> str:
    r"""Check a prediction: multiply every score of one explanation by its own positive
    constant (a different one per explained node). Which AUC can change: ``"pooled"``,
    ``"per-node"``, ``"both"`` or ``"neither"``?

    Example:
        >>> check_rescaling_prediction("neither").startswith("not yet")
        True
    """
    if not isinstance(answer, str):
        raise TypeError(f"answer with one of {sorted(_RESCALING_ANSWERS)} as a string, got {type(answer).__name__}")
    a = answer.strip().lower().replace("_", "-").replace(" ", "-")
    if a not in _RESCALING_ANSWERS:
        return f"not yet: answer with one of {sorted(_RESCALING_ANSWERS)}"
    if a == "pooled":
        return ("correct: a positive factor keeps the order within each explanation, so every "
                "per-node AUC stays; the pooled AUC compares edges of different nodes, whose order changes")
    if a in ("per-node", "both"):
        return "not yet: within one explanation, does a positive factor change which edge outranks which?"
    return "not yet: the pooled AUC ranks edges of *different* explanations against each other"


# --- explaining models (XGNN) ---------------------------------------------------------------------


def _verdict(answer, verdicts: dict) -> str:
    """The message for a one-word prediction: ``verdicts`` maps each option to its message (the
    right one starts with ``"correct:"``); "not done yet" for a missing answer, a list of the
    options for an unknown one, ``TypeError`` for an answer that is not a string."""
    options = list(verdicts)
    if answer is None or answer is NotImplemented:
        return "not done yet: write your prediction in the stub above, then run this cell again"
    if not isinstance(answer, str):
        raise TypeError(f"answer with one of {options} as a string, got {type(answer).__name__}")
    word = answer.strip().lower()
    if word not in verdicts:
        return f"not yet: answer with one of {options}, got {answer!r}"
    return verdicts[word]


def _test_graphs() -> list:
    """Connected test graphs with and without cycles: trees, cycles, trees with one or more extra edges."""
    rng = torch.Generator().manual_seed(0)
    graphs = [nx.path_graph(2), nx.path_graph(5), nx.star_graph(4), nx.cycle_graph(3), nx.cycle_graph(8),
              nx.complete_graph(4)]
    for n in (6, 9, 14, 20):
        prufer = torch.randint(0, n, (n - 2,), generator=rng).tolist()
        tree = nx.from_prufer_sequence(prufer)
        graphs.append(tree)
        extra = tree.copy()
        while extra.number_of_edges() < n + 1:             # two edges more than a tree: cyclic
            u, v = torch.randint(0, n, (2,), generator=rng).tolist()
            if u != v:
                extra.add_edge(u, v)
        graphs.append(extra)
    return graphs


def check_has_cycle(fn: Callable) -> str:
    r"""Check ``fn(edge_index, num_nodes) -> bool``: does a *connected* undirected graph (both
    directions of every edge in ``edge_index``) have a cycle? Compared with networkx's cycle
    basis on trees, cycles and trees with extra edges; recognises counting each edge twice and
    an off-by-one on the tree's edge count.

    Example:
        >>> check_has_cycle(lambda e, n: e.size(1) // 2 >= n).startswith("correct")
        True
        >>> print(check_has_cycle(lambda e, n: e.size(1) >= n))
        not yet: you called a tree with 2 nodes cyclic: does edge_index hold each edge once?
    """
    _need_callable(fn, "fn")
    for g in _test_graphs():
        e = torch.tensor(list(g.edges()), dtype=torch.long).t()
        edge_index = torch.cat([e, e.flip(0)], 1)
        n, m = g.number_of_nodes(), g.number_of_edges()
        truth = bool(nx.cycle_basis(g))
        try:
            got = fn(edge_index.clone(), n)
        except Exception as exc:  # the reader's code: report, do not crash
            return f"not yet: your function raised {type(exc).__name__}: {exc}"
        if got is None:
            return "not done yet: write has_cycle in the stub above, then run this cell again"
        if bool(got) == truth:
            continue
        if not truth:
            return f"not yet: you called a tree with {n} nodes cyclic: does edge_index hold each edge once?"
        if m == n:
            return f"not yet: you missed the cycle of a graph with {n} nodes and {n} edges: how many edges has a tree?"
        return f"not yet: wrong on a graph with {n} nodes and {m} edges"
    return "correct: a connected graph is a tree exactly when |E| = |V| - 1"


def check_nitro_count_prediction(answer: str) -> str:
    r"""Check a prediction: which graph readout, ``"sum"``, ``"mean"`` or ``"max"``, can tell a
    molecule with one nitro group from the same molecule doubled (two copies side by side, so
    two nitro groups)?

    Example:
        >>> print(check_nitro_count_prediction("max"))
        not yet: the largest value of each channel is the same in one copy and in two
    """
    return _verdict(answer, {
        "sum": "correct: only the sum grows with the number of atoms that carry the pattern",
        "mean": "not yet: the mean keeps each atom type's share, and doubling keeps every share",
        "max": "not yet: the largest value of each channel is the same in one copy and in two",
    })


def check_penalty_prediction(answer: str) -> str:
    r"""Check a prediction: without XGNN's rule penalty (:math:`\lambda_2 = 0` instead of 2),
    is the generator's share of invalid steps ``"higher"``, ``"lower"`` or ``"same"``?

    Example:
        >>> check_penalty_prediction("higher").startswith("correct")
        True
    """
    return _verdict(answer, {
        "higher": "correct: an invalid step then costs only the lost step, so the policy has less reason to avoid it",
        "lower": "not yet: what does an invalid step cost the generator once lambda_2 is 0?",
        "same": "not yet: the penalty is part of the reward; does the policy gradient see it?",
    })


def check_accuracy_standard_error(fn: Callable) -> str:
    r"""Check ``fn(p, n)``: the standard error of a test accuracy measured on ``n`` independent
    test graphs by a model that gets each right with probability ``p``, i.e. the standard
    deviation of the fraction of ``n`` Bernoulli(``p``) draws. Recognises the variance (no
    square root), ``n`` instead of ``1/n``, and a missing ``1 - p``.

    Example:
        >>> check_accuracy_standard_error(lambda p, n: math.sqrt(p * (1 - p) / n)).startswith("correct")
        True
    """
    _need_callable(fn, "fn")
    for p, n in [(0.9, 38), (0.5, 100), (0.75, 12), (0.99, 1000)]:
        want = math.sqrt(p * (1 - p) / n)
        got, msg = _reader_number(fn, (p, n), "accuracy_se")
        if msg:
            return msg
        close = lambda a, b: math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
        if close(got, want):
            continue
        if close(got, want ** 2):
            return "not yet: that is the variance; the standard error is its square root"
        if close(got, math.sqrt(p * (1 - p) * n)) or close(got, p * (1 - p) * n):
            return "not yet: that is the count of right answers; divide by n to get the accuracy"
        if close(got, math.sqrt(p / n)):
            return "not yet: the variance of one Bernoulli draw is p (1 - p), not p"
        return f"not yet: for p = {p} and n = {n} the standard error is not {got:.4f}"
    return "correct: sqrt(p (1 - p) / n): about 0.05 for p = 0.9 on 38 molecules"


# --- reproducing an explanation benchmark ---------------------------------------------------------


def check_true_label_prediction(answer: str) -> str:
    r"""Check a prediction: GNNExplainer explains the *true label* instead of the model's
    prediction, on nodes the model classifies correctly, from the same random start. Do the
    masks come out the ``"same"`` or ``"different"``?

    Example:
        >>> check_true_label_prediction("same").startswith("correct")
        True
    """
    return _verdict(answer, {
        "same": ("correct: where the model is right, the label and the prediction are one class, so the "
                 "objective, and with the same start every step, stays the same"),
        "different": "not yet: on a node the model gets right, which class does each choice ask the mask to keep?",
    })


def check_padded_auc(fn: Callable) -> str:
    r"""Check a formula ``fn(auc, n_other, n_added)``: an explanation ranks its ground-truth
    edges against ``n_other`` other edges with ROC-AUC ``auc``; then ``n_added`` more edges,
    none of them ground truth, are scored 0, below every ground-truth edge. What is the AUC now?
    Compared with :func:`gnncourse.metrics.roc_auc` on such score vectors; recognises an
    unchanged AUC, ties counted where there are none, and the added pairs' share taken alone.

    Example:
        >>> check_padded_auc(lambda a, n, e: (a * n + e) / (n + e)).startswith("correct")
        True
        >>> print(check_padded_auc(lambda a, n, e: a))
        not yet: the added edges are scored too: each one is a pair the ground truth wins
    """
    _need_callable(fn, "fn")
    gen = torch.Generator().manual_seed(2)
    for k, n, e in [(6, 10, 30), (12, 40, 0), (3, 25, 500), (20, 7, 4), (5, 60, 60)]:
        truth = torch.rand(k, generator=gen) * 0.9 + 0.1                # ground truth: scores above 0
        other = torch.rand(n, generator=gen)
        other[: n // 4] = 0.0                                           # some other edges score 0 too
        other[n // 4: n // 2] = truth[torch.randint(0, k, (n // 2 - n // 4,), generator=gen)]   # ties
        labels = torch.cat([torch.ones(k), torch.zeros(n)]).bool()
        auc = roc_auc(torch.cat([truth, other]), labels)
        want = roc_auc(torch.cat([truth, other, torch.zeros(e)]), torch.cat([labels, torch.zeros(e).bool()]))
        got, msg = _reader_number(fn, (auc, n, e), "padded_auc")
        if msg:
            return msg
        close = lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        if close(got, want):
            continue
        if close(got, auc):
            return "not yet: the added edges are scored too: each one is a pair the ground truth wins"
        if close(got, (auc * n + e / 2) / (n + e)):
            return "not yet: the added edges score below every ground-truth edge, so no pair with them is a tie"
        if e and close(got, e / (n + e)):
            return "not yet: the pairs with the first n_other edges still count"
        return (f"not yet: with auc = {auc:.3f} on n_other = {n} edges and n_added = {e}, the AUC is not "
                f"{got:.4f}; count the (ground truth, other) pairs the ground truth wins, before and after")
    return "correct: every added edge is a pair the ground truth wins, whatever the number of ground-truth edges"


def check_straight_through(fn: Callable) -> str:
    r"""Check ``fn(mask, sample) -> weights``, the straight-through estimator: the forward value
    is the binary ``sample`` (the model sees a real subgraph), the gradient with respect to
    ``mask`` is the gradient with respect to the weights, for every edge. Recognises a forward
    pass that sees the soft mask, a sample cut off from the gradient, and a gradient that reaches
    the kept edges only.

    Example:
        >>> check_straight_through(lambda m, z: z + m - m.detach()).startswith("correct")
        True
        >>> print(check_straight_through(lambda m, z: z))
        not yet: the forward value is right, but no gradient reaches the mask
    """
    _need_callable(fn, "fn")
    gen = torch.Generator().manual_seed(3)
    probs = torch.rand(12, generator=gen)
    sample = (torch.rand(12, generator=gen) < probs).float()
    sample[:2] = torch.tensor([0.0, 1.0])                              # both values occur
    upstream = torch.randn(12, generator=gen)
    mask = probs.clone().requires_grad_(True)
    try:
        out = fn(mask, sample.clone())
        if out is None:
            return "not done yet: write straight_through in the stub above, then run this cell again"
        weights = torch.as_tensor(out)
        if weights.shape != sample.shape:
            return f"not yet: return one weight per edge ({sample.numel()}), got shape {tuple(weights.shape)}"
        forward_ok = torch.allclose(weights.detach().float(), sample, atol=1e-6)
        if weights.requires_grad:
            (weights * upstream).sum().backward()
    except Exception as exc:  # the reader's code: report, do not crash
        return f"not yet: your function raised {type(exc).__name__}: {exc}"
    if not forward_ok:
        if torch.allclose(weights.detach().float(), probs, atol=1e-6):
            return "not yet: the model would see the soft mask; the forward value must be the 0/1 sample"
        return "not yet: the forward value must equal the sample, 0 or 1 on every edge"
    grad = mask.grad
    if grad is None or not grad.abs().sum() > 0:
        return "not yet: the forward value is right, but no gradient reaches the mask"
    if torch.allclose(grad, upstream, atol=1e-6):
        return "correct: the model sees the sampled subgraph, and every edge's mask gets the weight's gradient"
    if torch.allclose(grad, upstream * sample, atol=1e-6):
        return "not yet: only the kept edges get a gradient; a dropped edge's mask must learn too"
    return "not yet: the gradient with respect to the mask must equal the gradient with respect to the weights"


def check_kept_graph_prediction(answer: str) -> str:
    r"""Check a prediction: keep, for every explained node, only the edges whose removal
    lowers the log-odds of the predicted class (a positive occlusion score), when the motif
    alone keeps the prediction. Does the model still predict the class on the kept graph,
    ``"yes"`` or ``"no"``?

    Example:
        >>> check_kept_graph_prediction("no").startswith("not yet")
        True
    """
    return _verdict(answer, {
        "yes": ("correct: the kept graph holds the edges that support the class and drops those that "
                "work against it, and it is a real subgraph, an input the model knows"),
        "no": ("not yet: which edges does the rule drop: those the class needs, or those whose removal "
               "leaves it as likely or likelier?"),
    })


# --- a model-level explanation study ----------------------------------------------------------------


def check_molecules_apart(fn: Callable) -> str:
    r"""Check ``fn(test_acc, n_test) -> int``: how many test graphs apart the best and the worst
    of several runs are, given their test accuracies (a pandas Series, stored with four decimals)
    on ``n_test`` graphs each. Recognises a difference of accuracies, a count left unrounded and
    a count truncated instead of rounded.

    Example:
        >>> print(check_molecules_apart(lambda acc, n: float(acc.max() - acc.min())))
        not yet: that is a difference of accuracies; how many graphs is it?
    """
    _need_callable(fn, "fn")
    cases = [([0.5, 0.75, 0.25], 4), ([0.9211, 0.8421, 0.9474, 0.8684, 0.9737], 38),
             ([0.7, 0.9, 0.8], 10), ([0.6667, 0.3333, 0.5833, 0.4167], 12), ([0.84], 25)]
    for accs, n in cases:
        acc = pd.Series(accs)
        right = (acc * n).round()
        want = int(right.max() - right.min())
        got, msg = _reader_number(fn, (acc.copy(), n), "molecules_apart")
        if msg:
            return msg
        if got == want:
            continue
        if math.isclose(got, acc.max() - acc.min(), abs_tol=1e-9):
            return "not yet: that is a difference of accuracies; how many graphs is it?"
        if math.isclose(got, (acc.max() - acc.min()) * n, abs_tol=1e-9):
            return (f"not yet: {got:g} is not a whole number of graphs: the accuracies are rounded to four "
                    f"decimals, so each accuracy times n is only close to a count")
        if got == int(acc.max() * n) - int(acc.min() * n):
            return ("not yet: with four decimals, an accuracy times n can fall just below a whole number "
                    "(0.8421 x 38 = 31.9998): truncating it loses a graph")
        return f"not yet: wrong for accuracies {accs} on {n} graphs"
    return "correct: accuracy times the number of test graphs counts the right answers"


def check_class_share_prediction(answer: str) -> str:
    r"""Check a prediction: a classifier is trained on molecules of which two thirds are in
    class 1. Which share of *all* valid small molecules (enumerated, far from the training
    molecules) does it put in class 1: ``"more"``, ``"same"`` or ``"less"``?

    Example:
        >>> check_class_share_prediction("less").startswith("correct")
        True
    """
    return _verdict(answer, {
        "more": "not yet: what must a molecule look like to be called class 1, and how many small molecules do?",
        "same": "not yet: the share is a fact about the training molecules; do the enumerated ones look like them?",
        "less": ("correct: a class's share among the training molecules says nothing about the molecules a "
                 "classifier never saw; the class covers a small corner of them"),
    })


def _three_atom_molecules(valency) -> int:
    """Brute force: typed paths and triangles of 3 atoms, each isomorphism class once."""
    k = range(len(valency))
    path = {min((a, b, c), (c, b, a)) for a in k for b in k for c in k if valency[b] >= 2 and valency[a] >= 1
            and valency[c] >= 1}
    triangle = {tuple(sorted((a, b, c))) for a in k for b in k for c in k if min(valency[t] for t in (a, b, c)) >= 2}
    return len(path) + len(triangle)


def check_three_atom_count(fn: Callable) -> str:
    r"""Check ``fn(valency) -> int``: how many different connected molecules of 3 atoms exist
    when atom type ``t`` can carry at most ``valency[t]`` bonds (no self-loops, no double
    bonds, no hydrogens), each counted once up to isomorphism. Compared with a brute force over
    all typed graphs; recognises a skeleton left out, the two ends of a path told apart, a
    triangle's symmetry ignored and the valency of the middle atom forgotten.

    Example:
        >>> print(check_three_atom_count(lambda valency: 3 ** len(valency)))
        not yet: for valencies [4] there are not 3 molecules of 3 atoms
    """
    _need_callable(fn, "fn")
    for valency in ([4], [4, 3, 2, 1, 1, 1, 1], [1, 1, 1], [2, 1], [4, 4, 2], [3, 1, 1, 1, 1, 2]):
        want = _three_atom_molecules(valency)
        k = len(valency)
        k2 = sum(v >= 2 for v in valency)
        got, msg = _reader_number(fn, (list(valency),), "three_atom_molecules")
        if msg:
            return msg
        if got == want:
            continue
        path = k2 * k * (k + 1) // 2
        triangle = math.comb(k2 + 2, 3)
        if k2 and got == path:
            return "not yet: three atoms can be bonded in two ways; you counted one of them"
        if k2 and got in (k2 * k * k + triangle, k2 * k * k + k2 ** 3):
            return "not yet: a path read from either end is the same molecule: count it once"
        if k2 and got in (path + k2 ** 3, path + k2 * (k2 - 1) * (k2 - 2) // 6):
            return "not yet: how many triangles are there, if turning or flipping one gives the same molecule?"
        if k2 < k and got == k * k * (k + 1) // 2 + triangle:
            return "not yet: the atom in the middle of a path has two bonds: can every type carry them?"
        return f"not yet: for valencies {list(valency)} there are not {got:g} molecules of 3 atoms"
    return "correct: a path's two ends form an unordered pair, a triangle's three atoms a multiset"


def check_nitro_number_prediction(answer: str) -> str:
    r"""Check a prediction: every training molecule, in both classes, holds at least one nitro
    group, and class 1 is two thirds of them. Among the molecules with *two or more* nitro
    groups, is the share of class 1 (the mutagenic class) ``"more"``, the ``"same"`` or
    ``"less"``?

    Example:
        >>> check_nitro_number_prediction("more").startswith("correct")
        True
    """
    return _verdict(answer, {
        "more": ("correct: a group that every molecule holds says nothing by its presence, but how many "
                 "a molecule holds still differs between the classes"),
        "same": "not yet: the presence of the group tells the classes nothing; does its number?",
        "less": ("not yet: which class holds the molecules with many nitro groups, if a group is a sign "
                 "of mutagenicity?"),
    })
