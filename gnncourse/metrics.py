r"""Explanation metrics: pure functions of scores, ground truth and probabilities.

* :func:`roc_auc`: the area under the ROC curve of edge scores against ground-truth edges.
* :func:`explanation_auc`: the AUC of many explanations, pooled (the GNNExplainer paper's
  number) and as the mean of per-node AUCs.
* :func:`fidelity`: how much the prediction depends on the explanation (Fid+ and Fid-).
"""
from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import Tensor

__all__ = ["roc_auc", "explanation_auc", "fidelity"]


def roc_auc(scores: Tensor, labels: Tensor) -> float:
    r"""Area under the ROC curve: the probability that a random positive scores above a
    random negative, ties counting one half (Mann-Whitney U):

    .. math:: \text{AUC} = \frac{1}{|P|\,|N|} \sum_{i \in P} \sum_{j \in N}
              \big( [s_i > s_j] + \tfrac12 [s_i = s_j] \big)
              = \frac{\sum_{i \in P} r_i - |P|(|P|+1)/2}{|P|\,|N|}

    with :math:`r_i` the (average-tie) rank of :math:`s_i` among all scores.

    Args:
        scores: ``[M]`` real scores (higher = more important).
        labels: ``[M]`` 0/1 or boolean ground truth.

    Returns:
        The AUC in ``[0, 1]``; ``nan`` when all labels are equal (the AUC is undefined).
    """
    scores = torch.as_tensor(scores, dtype=torch.float64).reshape(-1)
    labels = torch.as_tensor(labels).reshape(-1).bool()
    if scores.numel() != labels.numel():
        raise ValueError(f"scores ({scores.numel()}) and labels ({labels.numel()}) must have the same length")
    if torch.isnan(scores).any():
        raise ValueError("scores contain NaN: an explanation method produced invalid values")
    n_pos = int(labels.sum())
    n_neg = labels.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = torch.argsort(scores)
    s = scores[order]
    ranks = torch.empty_like(s)
    ranks[order] = torch.arange(1, s.numel() + 1, dtype=torch.float64)
    # average ranks over ties
    uniq, inv = torch.unique(scores, return_inverse=True)
    sum_r = torch.zeros(uniq.numel(), dtype=torch.float64).index_add_(0, inv, ranks)
    cnt = torch.zeros(uniq.numel(), dtype=torch.float64).index_add_(0, inv, torch.ones_like(ranks))
    avg = (sum_r / cnt)[inv]
    return float((avg[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def explanation_auc(scores: Tensor, labels: Tensor, group: Tensor) -> Dict[str, float]:
    r"""AUC of many explanations at once.

    * ``pooled``: one AUC over the edges of all explanations together (the paper's way). It
      compares scores *across* nodes, so a method whose scale varies from node to node is
      penalised, while easy nodes with many edges dominate.
    * ``per_node``: :math:`\frac{1}{|V'|}\sum_{v \in V'} \text{AUC}_v`, the mean over the
      explanations :math:`V'` whose subgraph has both positive and negative edges.

    Args:
        scores: ``[M]`` edge scores; labels: ``[M]`` ground truth; group: ``[M]`` explanation id.

    Returns:
        ``{"pooled": ..., "per_node": ..., "num_nodes": ...}``.
    """
    group = torch.as_tensor(group).reshape(-1)
    scores = torch.as_tensor(scores).reshape(-1)
    labels = torch.as_tensor(labels).reshape(-1)
    if group.numel() != scores.numel():
        raise ValueError("group must give one explanation id per score")
    pooled = roc_auc(scores, labels)
    per = []
    order = torch.argsort(group, stable=True)
    g, s, l = group[order], scores[order], labels[order]
    bounds = torch.unique_consecutive(g, return_counts=True)[1].cumsum(0).tolist()
    start = 0
    for end in bounds:
        a = roc_auc(s[start:end], l[start:end])
        if a == a:  # skip undefined (nan)
            per.append(a)
        start = end
    per_node = float(sum(per) / len(per)) if per else float("nan")
    return {"pooled": pooled, "per_node": per_node, "num_nodes": len(per)}


def fidelity(prob_full: Tensor, prob_without: Tensor, prob_only: Tensor) -> Tuple[float, float]:
    r"""Fidelity of explanations (Pope/Yuan et al.'s Fid+ and Fid-, probability version):

    .. math:: \text{Fid}^+ = \frac{1}{B}\sum_v \big(p(y_v \mid G) - p(y_v \mid G \setminus G_S)\big),
              \qquad
              \text{Fid}^- = \frac{1}{B}\sum_v \big(p(y_v \mid G) - p(y_v \mid G_S)\big)

    A faithful explanation :math:`G_S` has a high Fid+ (removing it hurts) and a Fid- near 0
    (it suffices on its own).

    Args:
        prob_full: ``[B]`` target-class probabilities on the full computation subgraph.
        prob_without: ``[B]`` the same with the explanation's edges removed.
        prob_only: ``[B]`` the same keeping only the explanation's edges.

    Returns:
        ``(fid_plus, fid_minus)``.
    """
    prob_full, prob_without, prob_only = (torch.as_tensor(t, dtype=torch.float64).reshape(-1)
                                          for t in (prob_full, prob_without, prob_only))
    if not (prob_full.numel() == prob_without.numel() == prob_only.numel()):
        raise ValueError("prob_full, prob_without and prob_only need one value per explained node each")
    for t in (prob_full, prob_without, prob_only):
        if (t < 0).any() or (t > 1).any():
            raise ValueError("fidelity takes probabilities in [0, 1] (apply softmax to logits first)")
    return float((prob_full - prob_without).mean()), float((prob_full - prob_only).mean())
