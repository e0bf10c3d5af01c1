r"""Links as supervision: edge splits, negative sampling, the dot-product decoder, ROC-AUC.

When a graph has no labels, the graph itself supervises: an encoder is trained so that the
decoder :math:`\mathrm{DEC}(\mathbf{z}_u, \mathbf{z}_v) = \mathbf{z}_u^\top \mathbf{z}_v`
scores edges high and non-edges low, with the link reconstruction loss

.. math::
    \mathcal{L} = \sum_{(u, v)} \mathrm{CE}\big(y_{uv}, \sigma(\mathbf{z}_u^\top \mathbf{z}_v)\big),
    \qquad y_{uv} = 1 \text{ for edges}, \; y_{uv} = 0 \text{ for sampled non-edges}.

Evaluating it honestly needs edges the encoder never saw: :func:`split_edges` holds out
validation and test edges, removed from the graph the encoder passes messages on (in both
directions for an undirected graph), and pairs each held-out set with as many non-edges.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import Tensor

from .train import History, fit
from .utils import check_edge_index

__all__ = [
    "LinkSplit",
    "is_undirected",
    "negative_sampling",
    "split_edges",
    "dot_product_decoder",
    "link_reconstruction_loss",
    "link_auc",
    "walk_cooccurrence_loss",
    "link_prediction_step",
    "evaluate_link_predictor",
    "train_link_predictor",
]


def _keys(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Encode each pair ``(u, v)`` as the single integer ``u * N + v``."""
    return edge_index[0].long() * num_nodes + edge_index[1].long()


def is_undirected(edge_index: Tensor, num_nodes: Optional[int] = None) -> bool:
    """``True`` when every edge ``(u, v)`` comes with its reverse ``(v, u)``."""
    check_edge_index(edge_index, num_nodes)
    n = int(edge_index.max()) + 1 if num_nodes is None and edge_index.numel() else (num_nodes or 0)
    fwd = torch.unique(_keys(edge_index, n))
    rev = torch.unique(_keys(edge_index.flip(0), n))
    return fwd.numel() == rev.numel() and bool(torch.equal(fwd, rev))


def negative_sampling(
    edge_index: Tensor,
    num_nodes: int,
    num_samples: int,
    *,
    undirected: bool = False,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    r"""Sample ``num_samples`` distinct node pairs that are *not* edges (nor self-loops).

    Candidates ``(u, v)`` are drawn uniformly and rejected when ``(u, v)`` is in
    ``edge_index`` or ``u = v``, in vectorised rounds until enough distinct pairs remain.

    Args:
        edge_index: the edges to avoid, ``[2, E]``.
        num_nodes: ``N``.
        num_samples: how many non-edges to return.
        undirected: sample unordered pairs: each returned pair has ``u < v`` and neither
            ``(u, v)`` nor ``(v, u)`` is an edge.
        generator: a seeded ``torch.Generator`` for reproducible samples.

    Returns:
        ``[2, num_samples]`` long tensor of non-edges, in random order.

    Raises:
        ValueError: invalid input, or fewer non-edges exist than ``num_samples``.
    """
    check_edge_index(edge_index, num_nodes)
    if not isinstance(num_samples, int) or num_samples < 0:
        raise ValueError(f"num_samples must be a non-negative int, got {num_samples!r}")
    n = num_nodes
    forbidden = edge_index[:, edge_index[0] != edge_index[1]]
    if undirected:
        forbidden = torch.cat([forbidden, forbidden.flip(0)], dim=1)
    forbidden = torch.unique(_keys(forbidden, n))
    pairs_total = n * (n - 1) // 2 if undirected else n * (n - 1)
    available = pairs_total - (forbidden.numel() // 2 if undirected else forbidden.numel())
    if num_samples > available:
        raise ValueError(
            f"asked for {num_samples} non-edges but the graph with {n} nodes has only {available} "
            f"{'unordered ' if undirected else ''}node pairs that are not edges; ask for fewer"
        )
    if num_samples == 0:
        return torch.empty(2, 0, dtype=torch.long)

    if available <= DENSE_IF_AVAILABLE_BELOW * num_samples or pairs_total <= DENSE_IF_PAIRS_BELOW:
        chosen = _enumerated_non_edges(n, forbidden, num_samples, undirected, generator)
    else:
        chosen = _rejected_non_edges(n, forbidden, num_samples, undirected, generator)
    return torch.stack([chosen // n, chosen % n])


#: :func:`negative_sampling` enumerates every non-edge (and picks a random subset) when there
#: are fewer than this many times the non-edges asked for (rejection would reject most draws),
DENSE_IF_AVAILABLE_BELOW = 4
#: or when the graph has at most this many node pairs (enumerating them is cheap);
DENSE_IF_PAIRS_BELOW = 1 << 16
#: otherwise it draws candidates in rounds, each this much larger than what is missing
#: (plus :data:`ROUND_EXTRA`), so that one round usually suffices after the rejections.
ROUND_OVERDRAW = 1.2
ROUND_EXTRA = 16


def _enumerated_non_edges(n: int, forbidden: Tensor, num_samples: int, undirected: bool,
                          generator: Optional[torch.Generator]) -> Tensor:
    """Keys ``u * n + v`` of ``num_samples`` random non-edges, from the list of all of them."""
    u, v = torch.triu_indices(n, n, offset=1) if undirected else torch.ones(n, n).nonzero().t()
    cand = u * n + v
    cand = cand[(u != v) & ~torch.isin(cand, forbidden)]
    return cand[torch.randperm(cand.numel(), generator=generator)[:num_samples]]


def _rejected_non_edges(n: int, forbidden: Tensor, num_samples: int, undirected: bool,
                        generator: Optional[torch.Generator]) -> Tensor:
    """Keys of ``num_samples`` distinct non-edges, by rounds of uniform draws with rejection."""
    chosen = torch.empty(0, dtype=torch.long)
    while chosen.numel() < num_samples:
        k = int(ROUND_OVERDRAW * (num_samples - chosen.numel())) + ROUND_EXTRA
        u = torch.randint(0, n, (k,), generator=generator)
        v = torch.randint(0, n, (k,), generator=generator)
        if undirected:
            u, v = torch.minimum(u, v), torch.maximum(u, v)
        cand = u * n + v
        cand = cand[(u != v) & ~torch.isin(cand, forbidden) & ~torch.isin(cand, chosen)]
        # keep the first occurrence of each candidate, in the order drawn
        uniq, inverse = torch.unique(cand, return_inverse=True)
        first = torch.full((uniq.numel(),), cand.numel(), dtype=torch.long).scatter_reduce_(
            0, inverse, torch.arange(cand.numel()), reduce="amin")
        chosen = torch.cat([chosen, cand[first.sort().values]])
    return chosen[:num_samples]


@dataclass
class LinkSplit:
    r"""Edges split for link prediction; held-out edges are absent from ``train_edge_index``.

    Attributes:
        train_edge_index: the graph the encoder passes messages on, ``[2, E_train]``
            (both directions of each training edge for an undirected graph).
        train_pos: the training edges as positives, ``[2, P]`` (``u < v`` if undirected).
        val_pos, val_neg: held-out validation edges and as many non-edges of the full graph.
        test_pos, test_neg: held-out test edges and as many non-edges of the full graph.
        num_nodes: ``N``.
        undirected: whether pairs are unordered.
    """

    train_edge_index: Tensor
    train_pos: Tensor
    val_pos: Tensor
    val_neg: Tensor
    test_pos: Tensor
    test_neg: Tensor
    num_nodes: int
    undirected: bool

    def __repr__(self) -> str:
        return (
            f"LinkSplit(num_nodes={self.num_nodes}, undirected={self.undirected}, train={self.train_pos.size(1)}, "
            f"val={self.val_pos.size(1)}+{self.val_neg.size(1)}, test={self.test_pos.size(1)}+{self.test_neg.size(1)})"
        )


def split_edges(
    edge_index: Tensor,
    num_nodes: int,
    val_ratio: float = 0.05,
    test_ratio: float = 0.1,
    *,
    undirected: Optional[bool] = None,
    generator: Optional[torch.Generator] = None,
) -> LinkSplit:
    r"""Hold out a random ``val_ratio`` and ``test_ratio`` of the edges for link prediction.

    For an undirected graph an edge is the unordered pair :math:`\{u, v\}`: both directions
    go to the same side of the split, so a held-out edge never reaches the encoder through
    its reverse. Self-loops and duplicate edges are dropped. Validation and test negatives
    are distinct non-edges of the *full* graph (a held-out edge is never a negative); the
    training negatives are sampled afresh each epoch by :func:`link_prediction_step`.
    Nodes may become isolated in the training graph; they keep their features.

    Args:
        edge_index: the full graph, ``[2, E]``.
        num_nodes: ``N``.
        val_ratio, test_ratio: fractions of the (unordered) edges to hold out.
        undirected: treat edges as unordered; default: ``True`` when every edge has its
            reverse in ``edge_index``.
        generator: a seeded ``torch.Generator``.
    """
    check_edge_index(edge_index, num_nodes)
    if not (0 <= val_ratio and 0 <= test_ratio and val_ratio + test_ratio < 1):
        raise ValueError(f"val_ratio and test_ratio must be >= 0 with a sum below 1, got {val_ratio} and {test_ratio}")
    if undirected is None:
        undirected = is_undirected(edge_index, num_nodes)
    ei = edge_index[:, edge_index[0] != edge_index[1]].long()
    if undirected:
        ei = torch.stack([torch.minimum(ei[0], ei[1]), torch.maximum(ei[0], ei[1])])
    keys = torch.unique(_keys(ei, num_nodes))
    pairs = torch.stack([keys // num_nodes, keys % num_nodes])
    m = pairs.size(1)
    n_val, n_test = int(round(val_ratio * m)), int(round(test_ratio * m))
    if m - n_val - n_test < 1:
        raise ValueError(f"the graph has {m} edges: too few to hold out {n_val} + {n_test} and keep any for training")
    perm = torch.randperm(m, generator=generator)
    test_pos = pairs[:, perm[:n_test]]
    val_pos = pairs[:, perm[n_test:n_test + n_val]]
    train_pos = pairs[:, perm[n_test + n_val:]]
    neg = negative_sampling(pairs, num_nodes, n_val + n_test, undirected=undirected, generator=generator)
    train_edge_index = torch.cat([train_pos, train_pos.flip(0)], dim=1) if undirected else train_pos
    return LinkSplit(
        train_edge_index=train_edge_index, train_pos=train_pos,
        val_pos=val_pos, val_neg=neg[:, n_test:], test_pos=test_pos, test_neg=neg[:, :n_test],
        num_nodes=num_nodes, undirected=undirected,
    )


def dot_product_decoder(z: Tensor, pairs: Tensor) -> Tensor:
    r"""Score node pairs by the inner product of their embeddings.

    .. math:: \mathrm{DEC}(\mathbf{z}_u, \mathbf{z}_v) = \mathbf{z}_u^\top \mathbf{z}_v

    Args:
        z: node embeddings, ``[N, d]``.
        pairs: ``[2, P]`` node pairs ``(u, v)``.

    Returns:
        ``[P]`` scores (logits: :math:`\sigma` of a score is the edge probability).
    """
    check_edge_index(pairs, z.size(0), name="pairs")
    return (z[pairs[0]] * z[pairs[1]]).sum(dim=-1)


def link_reconstruction_loss(z: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
    r"""Binary cross-entropy of the dot-product decoder on edges and non-edges.

    .. math::
        \mathcal{L} = -\frac{1}{|P| + |Q|}\Big[\sum_{(u,v) \in P} \log \sigma(\mathbf{z}_u^\top \mathbf{z}_v)
        + \sum_{(u,v) \in Q} \log\big(1 - \sigma(\mathbf{z}_u^\top \mathbf{z}_v)\big)\Big]

    with :math:`P` the edges (``pos``, ``[2, |P|]``) and :math:`Q` the non-edges (``neg``).
    It is the sum of cross-entropies divided by the number of pairs, computed stably from
    logits.
    """
    scores = torch.cat([dot_product_decoder(z, pos), dot_product_decoder(z, neg)])
    labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))]).to(scores)
    return F.binary_cross_entropy_with_logits(scores, labels)


def link_auc(z: Tensor, pos: Tensor, neg: Tensor) -> float:
    r"""ROC-AUC of the dot-product decoder separating edges ``pos`` from non-edges ``neg``.

    The probability that a random edge scores higher than a random non-edge (ties count
    half), computed with ``sklearn.metrics.roc_auc_score``.
    """
    if pos.size(1) == 0 or neg.size(1) == 0:
        raise ValueError("link_auc needs at least one edge and one non-edge")
    with torch.no_grad():
        scores = torch.cat([dot_product_decoder(z, pos), dot_product_decoder(z, neg)])
    if not bool(torch.isfinite(scores).all()):
        raise ValueError("the link scores contain NaN or inf, so there is no ranking to score: the "
                         "embeddings z diverged (try a smaller learning rate) or the features hold NaN")
    labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))])
    return float(roc_auc_score(labels.numpy(), scores.double().numpy()))


def walk_cooccurrence_loss(z: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
    r"""The random-walk (skip-gram) loss with negative sampling, on embeddings from any encoder.

    .. math::
        \ell(u, v) = -\log \sigma(\mathbf{z}_u^\top \mathbf{z}_v)
                     - \sum_{i=1}^{k} \log \sigma(-\mathbf{z}_u^\top \mathbf{z}_{n_i}),
        \qquad \mathcal{L} = \frac{1}{|P|} \sum_{(u, v) \in P} \ell(u, v)

    for pairs :math:`(u, v)` that co-occur on short random walks (e.g. from
    :func:`gnncourse.embeddings.walk_pairs`) and :math:`k` negative nodes per pair. With
    ``z`` a lookup table this is :meth:`gnncourse.embeddings.SkipGram.loss`; with ``z`` the
    output of a GNN the same loss trains the GNN's weights instead of one row per node.

    Args:
        z: node embeddings, ``[N, d]``.
        pos: ``[2, P]`` co-occurring pairs.
        neg: ``[P, k]`` negative nodes for each pair's first node.
    """
    check_edge_index(pos, z.size(0), name="pos")
    if neg.dim() != 2 or neg.size(0) != pos.size(1):
        raise ValueError(f"neg must have shape [P, k] with P = {pos.size(1)} (one row per positive pair), got {list(neg.shape)}")
    z_u, z_v = z[pos[0]], z[pos[1]]  # [P, d]
    pos_score = (z_u * z_v).sum(-1)  # [P]
    neg_score = (z[neg] * z_u.unsqueeze(1)).sum(-1)  # [P, k]
    return -(F.logsigmoid(pos_score) + F.logsigmoid(-neg_score).sum(-1)).mean()


def link_prediction_step(
    x: Tensor, split: LinkSplit, *, num_neg: Optional[int] = None, generator: Optional[torch.Generator] = None
):
    r"""A :func:`fit` step: encode on the training graph, score edges and fresh non-edges.

    Each call samples ``num_neg`` (default: as many as training edges) new non-edges of the
    *training* graph, so held-out edges are never used, not even as negatives on purpose.
    The returned function ignores its ``batch`` argument (full-graph training).
    """
    num_neg = split.train_pos.size(1) if num_neg is None else num_neg

    def step(model: torch.nn.Module, batch: Any = None) -> Tensor:
        z = model(x, split.train_edge_index)
        neg = negative_sampling(split.train_edge_index, split.num_nodes, num_neg,
                                undirected=split.undirected, generator=generator)
        return link_reconstruction_loss(z, split.train_pos, neg)

    return step


def evaluate_link_predictor(model: torch.nn.Module, x: Tensor, split: LinkSplit) -> Dict[str, float]:
    """Validation loss and ROC-AUC of ``model``'s embeddings on the held-out validation edges."""
    z = model(x, split.train_edge_index)
    return {
        "val_loss": link_reconstruction_loss(z, split.val_pos, split.val_neg).item(),
        "val_auc": link_auc(z, split.val_pos, split.val_neg),
    }


def train_link_predictor(
    model: torch.nn.Module,
    x: Tensor,
    split: LinkSplit,
    *,
    epochs: int = 200,
    lr: float = 0.01,
    weight_decay: float = 0.0,
    patience: Optional[int] = None,
    monitor: str = "val_auc",
    seed: int = 0,
    desc: str = "link predictor",
) -> History:
    r"""Unsupervised training by link reconstruction with negative sampling (Adam, full graph).

    The model keeps the weights of the epoch with the best ``monitor`` (default: validation
    ROC-AUC); report :func:`link_auc` on ``split.test_pos`` / ``split.test_neg`` after it.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return fit(
        model, optimizer, link_prediction_step(x, split, generator=generator), [None], epochs=epochs,
        evaluate=lambda m: evaluate_link_predictor(m, x, split), monitor=monitor,
        patience=patience, seed=seed, desc=desc,
    )
