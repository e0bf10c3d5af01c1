r"""Shallow node embeddings: a skip-gram model trained with negative sampling on random walks.

The *shallow encoder* is a lookup table: node :math:`v` is encoded as row :math:`v` of a
matrix :math:`Z \in \mathbb{R}^{|V| \times d}`, and the decoder scores a pair by the dot
product :math:`z_u^\top z_v`. Training makes the score high for nodes that co-occur on short
random walks (DeepWalk :cite:`perozzi2014deepwalk`, node2vec :cite:`grover2016node2vec`)
and low for random pairs, with word2vec's negative sampling :cite:`mikolov2013distributed`.

A reader builds the loss inline first; :func:`deepwalk` and :func:`node2vec` package the whole
pipeline (walks, then skip-gram) for reuse, e.g. as the "shallow embeddings" baseline.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from torch import Tensor, nn

from .train import History, fit
from .utils import NonFiniteLossError, check_edge_index
from .walks import random_walks, to_csr

__all__ = ["SkipGram", "walk_pairs", "negative_distribution", "fit_skipgram", "train_skipgram", "deepwalk", "node2vec", "linear_probe"]


class SkipGram(nn.Module):
    r"""The shallow encoder :math:`\mathrm{ENC}(v) = z_v` and the dot-product decoder.

    One embedding table :math:`Z` (``[num_nodes, embedding_dim]``) serves both as the
    centre and the context vectors, so the score of a pair is symmetric,
    :math:`\mathrm{DEC}(z_u, z_v) = z_u^\top z_v`. The negative-sampling loss of a positive
    pair :math:`(u, v)` with negatives :math:`n_1, \dots, n_k` is

    .. math::

        \ell(u, v) = -\log \sigma(z_u^\top z_v) - \sum_{i=1}^{k} \log \sigma(-z_u^\top z_{n_i}).

    Args:
        num_nodes: :math:`|V|`, one row of :math:`Z` per node.
        embedding_dim: :math:`d`.
        sparse: sparse gradients (only the rows used in a batch are touched), trained with
            ``torch.optim.SparseAdam``; worth it for very large graphs. The default dense
            gradients with ``Adam`` are faster on graphs of a few thousand nodes.
        generator: seeds the initialisation :math:`Z_{vj} \sim \mathcal{N}(0, 1/d)`.
    """

    def __init__(self, num_nodes: int, embedding_dim: int = 128, sparse: bool = False,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        for name, val in (("num_nodes", num_nodes), ("embedding_dim", embedding_dim)):
            if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                raise ValueError(f"{name} must be a positive int, got {val!r}")
        self.num_nodes, self.embedding_dim = num_nodes, embedding_dim
        self.embedding = nn.Embedding(num_nodes, embedding_dim, sparse=sparse)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        with torch.no_grad():
            self.embedding.weight.normal_(0.0, self.embedding_dim ** -0.5, generator=generator)

    def forward(self, nodes: Optional[Tensor] = None) -> Tensor:
        """The embeddings of ``nodes`` (``[B]`` ids, shape ``[B, d]``), or all of ``Z``."""
        return self.embedding.weight if nodes is None else self.embedding(nodes)

    def score(self, u: Tensor, v: Tensor) -> Tensor:
        r"""Decoder :math:`z_u^\top z_v` for aligned ids (broadcasting, e.g. ``[B, 1]`` and ``[B, k]``)."""
        return (self.embedding(u) * self.embedding(v)).sum(-1)

    def loss(self, pos: Tensor, neg: Tensor) -> Tensor:
        r"""Mean negative-sampling loss :math:`\ell(u, v)` over positive pairs.

        Args:
            pos: ``[2, P]`` positive pairs ``(u, v)``.
            neg: ``[P, k]`` negative nodes drawn for each pair's centre ``u``.
        """
        P, k = neg.shape
        z = self.embedding(torch.cat([pos[0], pos[1], neg.reshape(-1)]))  # one lookup: [2P + Pk, d]
        z_u, z_v, z_n = z.split([P, P, P * k])  # split, not slicing: a cheaper backward
        pos_score = (z_u * z_v).sum(-1)  # [P]
        neg_score = (z_n.view(P, k, -1) * z_u.unsqueeze(1)).sum(-1)  # [P, k]
        # log sigma(s) = -softplus(-s); F.logsigmoid is far slower on small CPU tensors
        return (F.softplus(-pos_score) + F.softplus(neg_score).sum(-1)).mean()

    def extra_repr(self) -> str:
        return f"num_nodes={self.num_nodes}, embedding_dim={self.embedding_dim}"


def walk_pairs(walks: Tensor, window_size: int) -> Tensor:
    r"""Positive (centre, context) pairs: nodes at most ``window_size`` steps apart on a walk.

    .. math:: N_R(u) \ni v \iff u = c_i,\ v = c_j \text{ on one walk},\ 1 \le |i - j| \le w

    Each unordered co-occurrence is listed once (as ``(c_i, c_j)`` with ``i < j``); with
    a symmetric decoder the reversed pair would add the same loss term again.

    Args:
        walks: ``[W, L + 1]`` walks from :func:`gnncourse.walks.random_walks`.
        window_size: :math:`w \ge 1`.

    Returns:
        ``[2, P]`` pairs, grouped by offset.
    """
    if not isinstance(window_size, int) or isinstance(window_size, bool) or window_size < 1:
        raise ValueError(f"window_size must be a positive int, got {window_size!r}")
    if not isinstance(walks, Tensor) or walks.dim() != 2 or walks.dtype not in (torch.int64, torch.int32):
        raise ValueError("walks must be a [W, L + 1] integer tensor, e.g. from gnncourse.walks.random_walks")
    cols = walks.size(1)
    pairs = [torch.stack([walks[:, : cols - o].reshape(-1), walks[:, o:].reshape(-1)])
             for o in range(1, min(window_size, cols - 1) + 1)]
    return torch.cat(pairs, dim=1).long() if pairs else torch.empty(2, 0, dtype=torch.long)


def negative_distribution(walks: Tensor, num_nodes: int, power: float) -> Tensor:
    """word2vec's noise distribution: node frequency on the walks to the power ``power``."""
    counts = torch.bincount(walks.reshape(-1), minlength=num_nodes).double()
    probs = counts.pow(power) if power != 0 else torch.ones(num_nodes, dtype=torch.float64)
    probs = torch.where(counts > 0, probs, torch.zeros_like(probs)) if power != 0 else probs
    return probs / probs.sum()


def fit_skipgram(
    model: SkipGram,
    walks: Tensor,
    window_size: int = 10,
    num_negatives: int = 1,
    epochs: int = 1,
    lr: float = 0.005,
    batch_size: int = 64,
    negative_power: float = 0.75,
    generator: Optional[torch.Generator] = None,
    desc: Optional[str] = "skip-gram",
) -> History:
    r"""Train ``model`` on walk windows with negative sampling, through :func:`gnncourse.train.fit`;
    return its :class:`~gnncourse.train.History` (``"loss"``: the mean loss per epoch over the
    epoch's positive pairs).

    Each epoch shuffles the walks, cuts them into batches of ``batch_size`` walks, turns a
    batch into its positive pairs (:func:`walk_pairs`), draws ``num_negatives`` negatives per
    pair from :math:`P_n(v) \propto f(v)^{\text{negative\_power}}` (:math:`f(v)` = how often
    :math:`v` appears on the walks; ``0`` gives uniform negatives) and takes one
    ``SparseAdam`` (sparse model) or ``Adam`` step on the mean loss.
    """
    if not isinstance(model, SkipGram):
        raise ValueError(f"model must be a SkipGram, got {type(model).__name__}")
    if walks.numel() and int(walks.max()) >= model.num_nodes:
        raise ValueError(f"walks visit node {int(walks.max())} but the model has only {model.num_nodes} rows")
    for name, val in (("num_negatives", num_negatives), ("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(val, int) or isinstance(val, bool) or val < (0 if name == "num_negatives" else 1):
            raise ValueError(f"{name} must be a {'non-negative' if name == 'num_negatives' else 'positive'} int, got {val!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    walk_pairs(walks[:1], window_size)  # validates walks and window_size
    probs = negative_distribution(walks, model.num_nodes, negative_power)
    sparse = model.embedding.sparse
    opt = (torch.optim.SparseAdam if sparse else torch.optim.Adam)(model.parameters(), lr=lr)

    def epoch_batches(epoch: int):  # a fresh shuffle of the walks every epoch
        order = torch.randperm(walks.size(0), generator=generator)
        for b in range(0, walks.size(0), batch_size):
            yield walks.index_select(0, order[b:b + batch_size])

    def step(m: SkipGram, batch: Tensor):
        pos = walk_pairs(batch, window_size)
        neg = torch.multinomial(probs, pos.size(1) * num_negatives, replacement=True, generator=generator)
        return m.loss(pos, neg.view(pos.size(1), num_negatives)), {"weight": pos.size(1)}

    history = fit(model, opt, step, epoch_batches, epochs=epochs, desc=desc)
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise NonFiniteLossError(f"the embeddings are not finite after training: they diverged. Try a "
                                 f"smaller learning rate (now {lr})")
    return history


def train_skipgram(
    walks: Tensor,
    num_nodes: int,
    embedding_dim: int = 128,
    generator: Optional[torch.Generator] = None,
    **fit_kwargs,
) -> Tensor:
    r"""Learn :math:`Z` from walks with a fresh :class:`SkipGram`; return ``[num_nodes, d]``.

    ``generator`` drives the initialisation, the shuffling and the negatives (``None``: torch's
    global random stream). ``fit_kwargs`` go to :func:`fit_skipgram` (``window_size``,
    ``num_negatives``, ``epochs``, ``lr``, ``batch_size``, ``negative_power``, ``desc``).
    """
    model = SkipGram(num_nodes, embedding_dim, generator=generator)
    fit_skipgram(model, walks, generator=generator, **fit_kwargs)
    return model.embedding.weight.detach().clone()


def node2vec(
    edge_index: Tensor,
    num_nodes: int,
    p: float = 1.0,
    q: float = 1.0,
    walk_length: int = 40,
    walks_per_node: int = 5,
    seed: int = 0,
    **train_kwargs,
) -> Tensor:
    r"""node2vec embeddings :cite:`grover2016node2vec`: biased (p, q) walks, then skip-gram.

    ``walks_per_node`` walks of ``walk_length`` steps start at every node; :math:`Z` is
    trained on them by :func:`train_skipgram`, which receives ``train_kwargs``
    (``embedding_dim=128``, ``window_size=10``, ``num_negatives=1``, ``epochs=1``,
    ``lr=0.005``, ``batch_size=64``, ``negative_power=0.75`` by default). Everything is
    seeded by ``seed``.

    Returns:
        ``[num_nodes, embedding_dim]`` embedding matrix :math:`Z`.
    """
    check_edge_index(edge_index, num_nodes)
    if not isinstance(walks_per_node, int) or isinstance(walks_per_node, bool) or walks_per_node < 1:
        raise ValueError(f"walks_per_node must be a positive int, got {walks_per_node!r}")
    if not isinstance(walk_length, int) or isinstance(walk_length, bool) or walk_length < 1:
        raise ValueError(f"walk_length must be a positive int (a walk of 0 steps has no co-occurring "
                         f"pairs to train on), got {walk_length!r}")
    if "generator" in train_kwargs:
        raise ValueError("node2vec seeds its own generator: pass seed=... instead of generator")
    gen = torch.Generator().manual_seed(seed)
    rowptr, col = to_csr(edge_index, num_nodes)
    start = torch.arange(num_nodes).repeat(walks_per_node)
    walks = random_walks(rowptr, col, start, walk_length, p=p, q=q, generator=gen)
    return train_skipgram(walks, num_nodes, generator=gen, **train_kwargs)


def deepwalk(edge_index: Tensor, num_nodes: int, **kwargs) -> Tensor:
    r"""DeepWalk embeddings :cite:`perozzi2014deepwalk`: :func:`node2vec` with uniform walks (``p = q = 1``).

    Takes the same keyword arguments as :func:`node2vec` except ``p`` and ``q``.
    """
    if "p" in kwargs or "q" in kwargs:
        raise ValueError("deepwalk walks uniformly (p = q = 1); call node2vec(edge_index, num_nodes, p=..., q=...) instead")
    return node2vec(edge_index, num_nodes, p=1.0, q=1.0, **kwargs)


#: The regularisation strengths :func:`linear_probe` chooses from, on the validation nodes.
PROBE_CS = (0.1, 1.0, 10.0)


def linear_probe(z: Tensor, data, Cs: Sequence[float] = PROBE_CS, standardize: bool = False,
                 max_iter: int = 500) -> Tuple[object, float]:
    r"""How much of the node labels an embedding makes linearly readable: the test accuracy of a
    logistic regression on the frozen embeddings :math:`Z`.

    The inverse regularisation ``C`` is chosen among ``Cs`` on ``data.val_mask``; the chosen
    classifier is scored once on ``data.test_mask``. With ``standardize=True`` each dimension
    is first scaled to mean 0 and standard deviation 1 over all nodes (only the embedding is
    used, no label). Returns ``(classifier, test_accuracy)``.

    Example:
        >>> from torch_geometric.data import Data
        >>> y = torch.tensor([0, 1] * 10)
        >>> m = torch.arange(20)
        >>> d = Data(y=y, train_mask=m < 10, val_mask=(m >= 10) & (m < 14), test_mask=m >= 14)
        >>> linear_probe(torch.stack([y.float(), torch.rand(20)], 1), d)[1]  # dimension 0 is the label
        1.0
    """
    if not isinstance(z, Tensor) or z.dim() != 2 or z.size(0) != data.y.numel():
        raise ValueError(f"z must be an [N, d] tensor with one row per node ({data.y.numel()}), "
                         f"got {list(z.shape) if isinstance(z, Tensor) else type(z).__name__}")
    for name in ("train_mask", "val_mask", "test_mask"):
        if getattr(data, name, None) is None or not bool(getattr(data, name).any()):
            raise ValueError(f"data.{name} is missing or empty: the probe trains, chooses C and tests on "
                             "three disjoint node sets")
    if standardize:
        z = (z - z.mean(0)) / z.std(0).clamp(min=1e-8)
    X, y = z.detach().numpy(), data.y.numpy()
    tr, va, te = (getattr(data, f"{s}_mask").numpy() for s in ("train", "val", "test"))
    fits = [LogisticRegression(C=C, max_iter=max_iter).fit(X[tr], y[tr]) for C in Cs]
    best = max(fits, key=lambda clf: clf.score(X[va], y[va]))  # the first of the best, on ties
    return best, float(best.score(X[te], y[te]))
