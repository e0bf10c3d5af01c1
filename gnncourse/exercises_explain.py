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
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .explain import scatter_sum
from .metrics import fidelity, roc_auc

__all__ = ["check_fidelity", "check_tied_auc", "grad_cam_reference", "check_grad_cam",
           "check_rescaling_prediction"]


def _need_callable(fn, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"pass your function {what} itself (not its result), got {type(fn).__name__}")


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
