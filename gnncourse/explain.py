r"""Instance-level explanations of node predictions: every algorithm returns masks.

An explanation of node :math:`v`'s prediction lives on :math:`v`'s **computation subgraph**:
the edges :math:`u \to w` that carry a message into :math:`v` within the model's :math:`L`
layers, i.e. whose target :math:`w` is at most :math:`L-1` hops upstream of :math:`v`.
Nothing outside it can change the prediction, so every method here runs on it.

Many nodes are explained at once: their computation subgraphs are copied into one disjoint
union (:class:`ComputationSubgraphs`), so a single forward pass serves all of them and the
explanations stay independent (no edge is shared between two copies). Every method returns
one score per edge of that union; ``sg.edge_id`` maps them back to the original edges.

The four families of the lecture, one function (or more) each:

* gradients: :func:`saliency`, :func:`integrated_gradients`;
* perturbation: :func:`gnn_explainer` (from scratch; :func:`pyg_gnn_explainer` runs PyG's);
* perturbation, learned once for many predictions: :class:`PGExplainer` (an MLP over edge
  embeddings, trained over many instances, then one forward pass per explanation);
* surrogate: :func:`linear_surrogate` (sample sub-graphs, fit a linear model);
* decomposition: :func:`walk_decomposition` (exact: the terms add up to the output);

plus :func:`attention_scores`, the attention weights of a GAT-style model (the "Att" row).

The models are called as ``model(x, edge_index, edge_weight)`` and return logits ``[N, C]``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import sqrt
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.explain import Explainer as PyGExplainer
from torch_geometric.explain import GNNExplainer as PyGGNNExplainer
from torch_geometric.explain.algorithm import PGExplainer as PyGPGExplainer
from torch_geometric.nn import MessagePassing

from .train import History, fit
from .utils import check_edge_index, check_features

__all__ = [
    "ComputationSubgraphs",
    "computation_subgraphs",
    "GraphUnion",
    "EXPLAINERS",
    "register_explainer",
    "get_explainer",
    "GNNExplainerConfig",
    "pruned_edges",
    "target_log_prob",
    "target_log_odds",
    "log_odds",
    "saliency",
    "integrated_gradients",
    "gnn_explainer",
    "GNNExplainerResult",
    "pyg_gnn_explainer",
    "PGExplainerConfig",
    "PGExplainer",
    "node_embeddings",
    "pyg_pg_explainer",
    "linear_surrogate",
    "walk_decomposition",
    "attention_scores",
    "masked_probabilities",
    "occlusion",
    "scatter_sum",
]


def scatter_sum(src: Tensor, index: Tensor, size: int) -> Tensor:
    """Sum the rows of ``src`` that share an ``index``: ``out[i] = sum_{j: index[j]=i} src[j]``."""
    out = torch.zeros((size,) + tuple(src.shape[1:]), dtype=src.dtype, device=src.device)
    return out.index_add_(0, index, src)


def _reverse_edges(edge_index: Tensor, num_nodes: int) -> Tensor:
    """``[E]`` position of each edge's reverse ``w -> u`` in ``edge_index``, -1 where there is none."""
    if edge_index.size(1) == 0:
        return torch.empty(0, dtype=torch.long)
    key = edge_index[0] * num_nodes + edge_index[1]
    rkey = edge_index[1] * num_nodes + edge_index[0]
    order = torch.argsort(key)
    pos = torch.searchsorted(key[order], rkey).clamp(max=key.numel() - 1)
    return torch.where(key[order][pos] == rkey, order[pos], torch.full_like(pos, -1))


@dataclass
class _ExplanationUnion:
    """What every batch of explanations shares: ``B`` disjoint pieces of graph in one union,
    one score per edge of the union. The explainers only use these fields and
    :meth:`logits`, so they explain node predictions (:class:`ComputationSubgraphs`) and
    whole-graph predictions (:class:`GraphUnion`) alike."""

    nodes: Tensor
    node_batch: Tensor
    edge_index: Tensor
    edge_id: Tensor
    edge_batch: Tensor
    rev: Tensor

    @property
    def num_explanations(self) -> int:
        raise NotImplementedError

    @property
    def num_nodes(self) -> int:
        return int(self.nodes.numel())

    def edge_counts(self) -> Tensor:
        """``[B]`` number of edges in each explanation's subgraph."""
        return torch.bincount(self.edge_batch, minlength=self.num_explanations)

    def select(self, values: Tensor, b: int) -> Tensor:
        """The entries of an ``[Eb]`` edge score that belong to explanation ``b``."""
        return values[self.edge_batch == b]

    def logits(self, model: nn.Module, xs: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        """``[B, C]`` the model's logits for the ``B`` explained predictions, given the union's
        node features ``xs`` (``x[self.nodes]``) and one weight per union edge."""
        raise NotImplementedError

    def _subset_fields(self, bs: Tensor, pos: Tensor, keep_n: Tensor, new_n: Tensor) -> dict:
        raise NotImplementedError

    def subset(self, bs: Tensor):
        """The union restricted to the explanations ``bs`` (renumbered ``0..len(bs)-1``)."""
        bs = torch.as_tensor(bs, dtype=torch.long)
        pos = torch.full((self.num_explanations,), -1, dtype=torch.long)
        pos[bs] = torch.arange(bs.numel())
        keep_n, keep_e = pos[self.node_batch] >= 0, pos[self.edge_batch] >= 0
        new_n = keep_n.long().cumsum(0) - 1
        new_e = keep_e.long().cumsum(0) - 1
        rev = self.rev[keep_e]
        rev = torch.where(rev >= 0, new_e[rev.clamp(min=0)], rev)
        return type(self)(
            nodes=self.nodes[keep_n], node_batch=pos[self.node_batch[keep_n]],
            edge_index=new_n[self.edge_index[:, keep_e]], edge_id=self.edge_id[keep_e],
            edge_batch=pos[self.edge_batch[keep_e]], rev=rev,
            **self._subset_fields(bs, pos, keep_n, new_n))


@dataclass
class ComputationSubgraphs(_ExplanationUnion):
    r"""The computation subgraphs of ``B`` nodes, copied into one disjoint union.

    Attributes:
        nodes: ``[Nb]`` original id of every node of the union.
        node_batch: ``[Nb]`` which explanation (``0..B-1``) each node belongs to.
        edge_index: ``[2, Eb]`` edges of the union (ids into ``nodes``).
        edge_id: ``[Eb]`` the original edge (column of the input ``edge_index``) of each.
        edge_batch: ``[Eb]`` which explanation each edge belongs to.
        rev: ``[Eb]`` position of the reverse edge in the union, -1 if it is not there.
        center: ``[B]`` position in the union of each explained node.
        node_idx: ``[B]`` the explained nodes (original ids).
        hops: ``[Nb]`` distance from each node to its explained node (messages flow to it).
        graph_edge_index: the whole graph's ``edge_index`` the subgraphs were cut from (for
            explainers that need the full graph, such as attention).
        num_hops: the number of layers the subgraphs were cut for (``None``: unknown).
    """

    center: Tensor = None
    node_idx: Tensor = None
    hops: Tensor = None
    graph_edge_index: Optional[Tensor] = None
    num_hops: Optional[int] = None

    def message_edges(self) -> Optional[Tensor]:
        r"""``[Eb]`` bool: the edges :math:`u \to w` whose message can reach the explained node,
        :math:`\text{hops}(w) \le L - 1`; ``None`` when the number of layers is unknown. Only
        ``induced`` subgraphs (:func:`computation_subgraphs`) hold other edges."""
        if self.num_hops is None:
            return None
        return self.hops[self.edge_index[1]] < self.num_hops

    @property
    def num_explanations(self) -> int:
        return int(self.center.numel())

    def logits(self, model: nn.Module, xs: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return model(xs, self.edge_index, edge_weight)[self.center]

    def _subset_fields(self, bs, pos, keep_n, new_n) -> dict:
        # the union keeps explanations in id order; new id i is bs[i]
        return dict(center=new_n[self.center[bs]], node_idx=self.node_idx[bs], hops=self.hops[keep_n],
                    graph_edge_index=self.graph_edge_index, num_hops=self.num_hops)


@dataclass
class GraphUnion(_ExplanationUnion):
    r"""``B`` whole graphs in one disjoint union, to explain graph-level predictions: the
    counterpart of :class:`ComputationSubgraphs` for a graph classifier called as
    ``model(x, edge_index, batch, edge_weight=w)`` (e.g. ``graph_classification.GraphClassifier``).
    Build it with :meth:`from_graphs`; ``x`` passed to an explainer is then :attr:`x`.

    Example:
        >>> from torch_geometric.data import Data
        >>> g = Data(x=torch.ones(3, 1), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
        >>> gu = GraphUnion.from_graphs([g, g])
        >>> gu.num_explanations, gu.edge_counts().tolist(), gu.rev[:4].tolist()
        (2, [4, 4], [1, 0, 3, 2])
    """

    x: Tensor = None
    graph_idx: Tensor = None

    @classmethod
    def from_graphs(cls, graphs: Sequence) -> "GraphUnion":
        """The disjoint union of a list of PyG ``Data`` graphs (each with ``x`` and ``edge_index``)."""
        graphs = list(graphs)
        if not graphs:
            raise ValueError("graphs is empty: give at least one graph to explain")
        b = Batch.from_data_list(graphs)
        check_edge_index(b.edge_index, b.num_nodes)
        check_features(b.x, b.num_nodes)
        n = b.num_nodes
        return cls(nodes=torch.arange(n), node_batch=b.batch, edge_index=b.edge_index,
                   edge_id=torch.arange(b.edge_index.size(1)), edge_batch=b.batch[b.edge_index[0]],
                   rev=_reverse_edges(b.edge_index, n), x=b.x, graph_idx=torch.arange(len(graphs)))

    @property
    def num_explanations(self) -> int:
        return int(self.graph_idx.numel())

    def logits(self, model: nn.Module, xs: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return model(xs, self.edge_index, self.node_batch, edge_weight=edge_weight)

    def _subset_fields(self, bs, pos, keep_n, new_n) -> dict:
        return dict(x=self.x[keep_n], graph_idx=self.graph_idx[bs])


def computation_subgraphs(edge_index: Tensor, node_idx: Union[Tensor, Sequence[int], int],
                          num_hops: int, num_nodes: int, induced: bool = False) -> ComputationSubgraphs:
    r"""Cut out each node's ``num_hops``-layer computation subgraph and batch them.

    Node :math:`u` is :math:`k` hops upstream of :math:`v` if a directed path of :math:`k` edges
    leads from :math:`u` to :math:`v`. Edge :math:`u \to w` belongs to :math:`v`'s computation
    subgraph iff :math:`\text{hops}(w) \le L - 1`: its message reaches :math:`v` in :math:`L` layers.

    With ``induced=True`` every edge between two nodes within ``num_hops`` hops is kept, as in
    the GNNExplainer paper's code (it cuts the neighbourhood's adjacency matrix): the extra
    edges, e.g. between two nodes exactly ``num_hops`` away, carry no message to :math:`v`,
    so the prediction is the same, but an explanation has more edges to score.

    Vectorised over the ``B`` nodes with a ``[B, N]`` reachability matrix (no Python loop).
    """
    check_edge_index(edge_index, num_nodes)
    node_idx = torch.as_tensor(node_idx, dtype=torch.long).reshape(-1)
    if node_idx.numel() == 0:
        raise ValueError("node_idx is empty: give at least one node to explain")
    if int(node_idx.min()) < 0 or int(node_idx.max()) >= num_nodes:
        raise ValueError(f"node_idx must lie in 0..{num_nodes - 1}")
    if num_hops < 1:
        raise ValueError(f"num_hops must be >= 1 (the model's number of layers), got {num_hops}")
    B, N = node_idx.numel(), num_nodes
    src, dst = edge_index
    inf = num_hops + 1
    hops = torch.full((B, N), inf, dtype=torch.long)
    hops[torch.arange(B), node_idx] = 0
    reached = hops == 0
    for k in range(1, num_hops + 1):  # u is k hops upstream if u -> w with w at k - 1
        step = torch.zeros(B, N).index_add_(1, src, reached[:, dst].float()) > 0
        new = step & (hops == inf)
        hops[new] = k
        reached = reached | step
    in_sub = hops <= num_hops  # [B, N]
    if induced:  # every edge between two nodes within num_hops (the original code's subgraph)
        active = in_sub[:, src] & in_sub[:, dst]
    else:
        active = hops[:, dst] <= num_hops - 1  # [B, E]: edge u -> w carries a message to v
    b_node, v_node = in_sub.nonzero(as_tuple=True)  # sorted by explanation, then node id
    lookup = torch.full((B, N), -1, dtype=torch.long)
    lookup[b_node, v_node] = torch.arange(b_node.numel())
    b_edge, e_id = active.nonzero(as_tuple=True)
    ei = torch.stack([lookup[b_edge, src[e_id]], lookup[b_edge, dst[e_id]]])
    rev = _reverse_edges(ei, b_node.numel())  # the copies are disjoint: (w, u) only matches within one
    return ComputationSubgraphs(
        nodes=v_node, node_batch=b_node, edge_index=ei, edge_id=e_id, edge_batch=b_edge, rev=rev,
        center=lookup[torch.arange(B), node_idx], node_idx=node_idx, hops=hops[b_node, v_node],
        graph_edge_index=edge_index, num_hops=num_hops,
    )


Explanations = Union["ComputationSubgraphs", "GraphUnion"]


def _check(model: nn.Module, x: Tensor, sg: Explanations, target: Tensor) -> Tensor:
    if not isinstance(sg, _ExplanationUnion):
        raise ValueError(f"sg must be the ComputationSubgraphs of the explained nodes (computation_subgraphs(...)) "
                         f"or a GraphUnion of the explained graphs, got {type(sg).__name__}")
    check_features(x)
    target = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if target.numel() != sg.num_explanations:
        raise ValueError(f"target needs one class per explained node: got {target.numel()} for "
                         f"{sg.num_explanations} nodes")
    return target


def _check_classes(out: Tensor, target: Tensor) -> None:
    bad = target[(target < 0) | (target >= out.size(-1))]
    if bad.numel():
        raise ValueError(f"target holds class {int(bad[0])}, but the model predicts {out.size(-1)} "
                         f"classes (0..{out.size(-1) - 1})")


def target_log_prob(model: nn.Module, x: Tensor, sg: Explanations, target: Tensor,
                    edge_weight: Tensor) -> Tensor:
    r"""``[B]`` log-probability :math:`\log p(y \mid G \odot w)` of each explained
    prediction's target class, with the union's edges weighted by ``edge_weight [Eb]``."""
    out = sg.logits(model, x[sg.nodes], edge_weight)
    _check_classes(out, target)
    return out.log_softmax(-1).gather(1, target[:, None]).squeeze(1)


def target_log_odds(model: nn.Module, x: Tensor, sg: Explanations, target: Tensor,
                    edge_weight: Tensor) -> Tensor:
    r"""``[B]`` log-odds :math:`\log p(y) - \log(1 - p(y))` of each target class, computed from the
    logits (:func:`log_odds`) so that it stays finite and ordered when :math:`p` rounds to 1."""
    return log_odds(sg.logits(model, x[sg.nodes], edge_weight), target)


def log_odds(out: Tensor, target: Tensor) -> Tensor:
    r""":math:`z_y - \log\sum_{c \ne y} e^{z_c}` for logits ``out [B, C]``: the log-odds of ``y``.

    Example:
        >>> log_odds(torch.tensor([[0.0, 0.0]]), torch.tensor([0]))  # p = 1/2: log-odds 0
        tensor([0.])
    """
    _check_classes(out, target)
    z_y = out.gather(1, target[:, None]).squeeze(1)
    return z_y - out.scatter(1, target[:, None], float("-inf")).logsumexp(1)


def saliency(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor) -> Tensor:
    r"""Gradient saliency: :math:`s_e = |\partial \log p(y \mid G) / \partial w_e|` at
    :math:`w = \mathbf{1}`, one backward pass for all explanations (they are disjoint).

    Returns ``[Eb]`` scores.
    """
    target = _check(model, x, sg, target)
    w = torch.ones(sg.edge_index.size(1), requires_grad=True)
    (g,) = torch.autograd.grad(target_log_prob(model, x, sg, target, w).sum(), w)
    return g.abs()


def integrated_gradients(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
                         steps: int = 50) -> Tensor:
    r"""Integrated gradients on the edge weights, from the empty graph :math:`w=\mathbf{0}` to
    the input :math:`w=\mathbf{1}`:

    .. math:: \text{IG}_e = \int_0^1 \frac{\partial \log p(y \mid \alpha \mathbf{1})}
              {\partial w_e}\, d\alpha \approx \frac{1}{S}\sum_{s=1}^{S}
              \frac{\partial \log p(y \mid \tfrac{s - 1/2}{S} \mathbf{1})}{\partial w_e}

    (midpoint rule). Completeness: :math:`\sum_e \text{IG}_e \approx \log p(y\mid\mathbf{1})
    - \log p(y \mid \mathbf{0})`. Returns ``[Eb]`` signed attributions.
    """
    target = _check(model, x, sg, target)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    total = torch.zeros(sg.edge_index.size(1))
    for s in range(steps):
        w = torch.full((sg.edge_index.size(1),), (s + 0.5) / steps, requires_grad=True)
        (g,) = torch.autograd.grad(target_log_prob(model, x, sg, target, w).sum(), w)
        total += g
    return total / steps


@dataclass
class GNNExplainerResult:
    """Masks learned by :func:`gnn_explainer`: ``edge_mask [Eb]`` and ``feat_mask [B, F]``
    (both in ``[0, 1]``), with the loss per epoch (summed over explanations)."""

    edge_mask: Tensor
    feat_mask: Optional[Tensor]
    losses: list


@dataclass(frozen=True)
class GNNExplainerConfig:
    r"""The settings of :func:`gnn_explainer`. The defaults are PyG's.

    Attributes:
        epochs, lr: Adam steps and learning rate.
        edge_size, edge_ent, feat_size, feat_ent, laplacian: the loss coefficients of
            :func:`gnn_explainer`; ``edge_ent`` may also be a ``[B]`` tensor, one per explanation.
        feature_mask: learn a feature mask too (one per explanation, shared by its nodes).
        symmetric: tie :math:`M_{u\to w}` and :math:`M_{w \to u}` (their mean is used).
        init_mean, init_std: initial logits :math:`\Omega \sim \mathcal{N}(\text{mean},
            \text{std}^2)`; ``init_std=None`` uses PyG's value from each subgraph's size.
        hard: the model sees a sampled binary mask (straight-through gradient).
        restarts: optimise from this many random starts and return the mean mask: for binary
            masks (``hard=True``) an estimate of how often an edge is kept.
        pyg_compat: leave the regularisers out of the first step, as PyG does (it finds the
            computation subgraph from that step's gradients); then both give the same masks.
        prune: run the model only on the edges that carry a message to the explained node
            (:func:`pruned_edges`), when that provably gives the same logits; the other edges'
            masks still get the regularisers' gradients. ``False``: always every edge.

    Example:
        >>> GNNExplainerConfig(lr=0.1, symmetric=True).epochs
        100
    """

    epochs: int = 100
    lr: float = 0.01
    edge_size: float = 0.005
    edge_ent: Union[float, Tensor] = 1.0
    feat_size: float = 1.0
    feat_ent: float = 0.1
    laplacian: float = 0.0
    feature_mask: bool = True
    symmetric: bool = False
    init_mean: float = 0.0
    init_std: Optional[float] = None
    hard: bool = False
    restarts: int = 1
    pyg_compat: bool = False
    prune: bool = True

    def __post_init__(self):
        for name in ("epochs", "restarts"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")


def _entropy(m: Tensor, eps: float = 1e-15) -> Tensor:
    return -m * torch.log(m + eps) - (1 - m) * torch.log(1 - m + eps)


def _symmetrise(m: Tensor, sg: Explanations) -> Tensor:
    """Each edge's mask and its reverse's, averaged (edges without a reverse keep theirs)."""
    return torch.where(sg.rev >= 0, (m + m[sg.rev.clamp(min=0)]) / 2, m)


def _initial_edge_logits(sg: Explanations, cfg: GNNExplainerConfig, generator) -> Tensor:
    Eb = sg.edge_index.size(1)
    if cfg.init_std is None:  # PyG: gain(relu) * sqrt(2 / (2 n)), n = nodes of the subgraph
        n_b = torch.bincount(sg.node_batch, minlength=sg.num_explanations).float()
        std = (sqrt(2.0) * torch.sqrt(2.0 / (2 * n_b)))[sg.edge_batch]
    else:
        std = torch.full((Eb,), float(cfg.init_std))
    return cfg.init_mean + torch.randn(Eb, generator=generator) * std


def pruned_edges(model: nn.Module, x: Tensor, sg: Explanations) -> Optional[Tensor]:
    r"""The edges the model needs for the explained predictions, or ``None`` for all of them.

    In an :math:`L`-layer model whose layer updates node :math:`w` from the messages into
    :math:`w` only, an edge :math:`u \to w` with :math:`\text{hops}(w) = L` cannot change the
    explained node's output (its message would need :math:`L + 1` layers), so a forward pass
    may skip it: the induced subgraphs of the GNNExplainer protocol hold about four times as
    many edges as carry messages. A layer that normalises by the *source's* degree (GCN)
    changes when those edges go, so the pruning is used only if the logits are the same with
    and without them, at all-ones and at random edge weights; else ``None``.

    Returns:
        ``[Eb]`` bool mask of the edges to keep (:meth:`ComputationSubgraphs.message_edges`),
        or ``None``: graph explanations, unknown depth, nothing to prune, or a model that
        needs every edge.
    """
    keep = sg.message_edges() if isinstance(sg, ComputationSubgraphs) else None
    if keep is None or bool(keep.all()):
        return None
    xs = x[sg.nodes]
    ones = torch.ones(sg.edge_index.size(1))
    soft = torch.rand(sg.edge_index.size(1), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for w in (ones, soft):
            full = sg.logits(model, xs, w)
            part = model(xs, sg.edge_index[:, keep], w[keep])[sg.center]
            if not torch.allclose(full, part, rtol=1e-4, atol=1e-5):
                return None
    return keep


def gnn_explainer(
    model: nn.Module,
    x: Tensor,
    sg: Explanations,
    target: Tensor,
    config: Optional[GNNExplainerConfig] = None,
    *,
    init_edge: Optional[Tensor] = None,
    init_feat: Optional[Tensor] = None,
    generator: Optional[torch.Generator] = None,
    **options,
) -> GNNExplainerResult:
    r"""GNNExplainer (Ying et al., 2019), from scratch, for ``B`` predictions at once.

    Learn a soft edge mask :math:`M = \sigma(\Omega) \in [0,1]^{E}` and a feature mask
    :math:`F = \sigma(\Phi) \in [0,1]^{d}`, multiply them into the input (messages are scaled
    by :math:`M_e`, features by :math:`F`) and minimise, per explained prediction with
    target class :math:`y`,

    .. math::
        \mathcal{L} = -\log p_\theta(y \mid G \odot M, X \odot F)
        + \lambda_{s} \sum_e M_e + \lambda_{e}\, \overline{H(M_e)}
        + \mu_{s}\, \overline{F_j} + \mu_{e}\, \overline{H(F_j)}
        + \lambda_{L}\, \frac{\hat{\mathbf{y}}^\top L_M \hat{\mathbf{y}}}{n^2}

    where :math:`H(m) = -m\log m-(1-m)\log(1-m)`, bars are means over the explanation's
    edges or features, and the last (optional) term is the original code's Laplacian
    smoothness of the predicted labels :math:`\hat{\mathbf{y}}` over the masked graph
    (:math:`L_M = D_M - A_M`). The first term is the mutual-information objective
    :math:`\max_{G_S} MI(Y, G_S)` with the prediction held fixed. The explanations are
    disjoint, and Adam acts element-wise, so optimising their summed loss gives every
    prediction exactly the masks it would get alone.

    Defaults are PyG's (``lr=0.01``, masks initialised around 0 with
    :math:`\sigma_\Omega = \sqrt{2}\sqrt{2/(2n)}`); the original code used ``lr=0.1``,
    ``init_mean=1.0``, ``symmetric=True`` (:math:`M_{uv} = M_{vu}`) and ``laplacian=1.0``.

    Args:
        model: the explained model (see :class:`ComputationSubgraphs` / :class:`GraphUnion`).
        x: ``[N, F]`` features of the whole graph; sg: the batched explanations.
        target: ``[B]`` class to explain per prediction (the model's, or the true label).
        config: a :class:`GNNExplainerConfig`; ``options`` override its fields by name
            (``gnn_explainer(..., lr=0.1)``).
        init_edge, init_feat: explicit initial logits (``[Eb]``, ``[B, F]``) instead of random.
        generator: random stream of the initialisation (and of the binary masks).

    Returns:
        :class:`GNNExplainerResult` with ``edge_mask [Eb]`` and ``feat_mask [B, F]``.
    """
    cfg = replace(config or GNNExplainerConfig(), **options)
    target = _check(model, x, sg, target)
    if cfg.laplacian and not isinstance(sg, ComputationSubgraphs):
        raise ValueError("laplacian smooths predicted node labels: it needs node explanations "
                         "(ComputationSubgraphs); set laplacian=0 for graph explanations")
    if cfg.restarts > 1:
        if init_edge is not None or init_feat is not None:
            raise ValueError("restarts > 1 needs random starts: leave init_edge and init_feat unset")
        runs = [gnn_explainer(model, x, sg, target, replace(cfg, restarts=1), generator=generator)
                for _ in range(cfg.restarts)]
        feat = None if runs[0].feat_mask is None else torch.stack([r.feat_mask for r in runs]).mean(0)
        return GNNExplainerResult(torch.stack([r.edge_mask for r in runs]).mean(0), feat,
                                  [sum(v) / cfg.restarts for v in zip(*(r.losses for r in runs))])
    B, Eb, Fdim = sg.num_explanations, sg.edge_index.size(1), x.size(1)
    if init_edge is None:
        init_edge = _initial_edge_logits(sg, cfg, generator)
    if init_feat is None:
        init_feat = torch.randn(B, Fdim, generator=generator) * 0.1
    omega = init_edge.clone().float().requires_grad_(True)
    phi = init_feat.clone().float().reshape(B, Fdim).requires_grad_(True) if cfg.feature_mask else None
    opt = torch.optim.Adam([omega] + ([phi] if phi is not None else []), lr=cfg.lr)
    xs = x[sg.nodes]
    counts = sg.edge_counts().clamp(min=1).float()
    if cfg.laplacian:
        with torch.no_grad():
            pred_label = model(xs, sg.edge_index, None).argmax(-1).float()
        diff2 = (pred_label[sg.edge_index[0]] - pred_label[sg.edge_index[1]]) ** 2
        n2 = torch.bincount(sg.node_batch, minlength=B).float() ** 2
    keep = pruned_edges(model, x, sg) if cfg.prune else None
    if keep is None:
        logits = lambda h, w: sg.logits(model, h, w)
    else:  # the same logits from the message-carrying edges alone
        kept_edges = sg.edge_index[:, keep]
        logits = lambda h, w: model(h, kept_edges, w[keep])[sg.center]
    losses = []
    for epoch in range(cfg.epochs):
        opt.zero_grad()
        m = omega.sigmoid()
        if cfg.symmetric:
            m = _symmetrise(m, sg)
        h = xs if phi is None else xs * phi.sigmoid()[sg.node_batch]
        w = m
        if cfg.hard:  # sample a binary mask, straight-through gradient to the probabilities
            z = (torch.rand(Eb, generator=generator) < m).float()
            if cfg.symmetric:
                z = torch.where(sg.rev >= 0, torch.maximum(z, z[sg.rev.clamp(min=0)]), z)
            w = z + m - m.detach()
        loss_b = F.cross_entropy(logits(h, w), target, reduction="none")  # [B]
        if not (cfg.pyg_compat and epoch == 0):
            loss_b = loss_b + cfg.edge_size * scatter_sum(m, sg.edge_batch, B)
            loss_b = loss_b + cfg.edge_ent * scatter_sum(_entropy(m), sg.edge_batch, B) / counts
            if phi is not None:
                f = phi.sigmoid()
                loss_b = loss_b + cfg.feat_size * f.mean(1) + cfg.feat_ent * _entropy(f).mean(1)
            if cfg.laplacian:  # y^T L_M y = 1/2 sum_{u->w} M_uw (y_u - y_w)^2 over both directions
                loss_b = loss_b + cfg.laplacian * scatter_sum(m * diff2, sg.edge_batch, B) / 2 / n2
        loss = loss_b.sum()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    with torch.no_grad():
        m = omega.sigmoid()
        if cfg.symmetric:
            m = _symmetrise(m, sg)
    return GNNExplainerResult(m.detach(), None if phi is None else phi.detach().sigmoid(), losses)


def pyg_gnn_explainer(model: nn.Module, x: Tensor, edge_index: Tensor, node_idx: int, target: int,
                      epochs: int = 100, lr: float = 0.01, mode: str = "model",
                      feature_mask: bool = True, init_edge: Optional[Tensor] = None,
                      init_feat: Optional[Tensor] = None, **coeffs) -> Tuple[Tensor, Optional[Tensor]]:
    r"""PyG's ``GNNExplainer`` on one node, through ``torch_geometric.explain.Explainer``.

    ``mode="model"`` explains the model's prediction, ``"phenomenon"`` the given ``target``.
    ``init_edge [E]`` and ``init_feat [1, F]`` replace PyG's random initial mask logits (to
    compare it with :func:`gnn_explainer` from the same start). Returns the edge mask ``[E]``
    over ``edge_index`` (0 outside the computation subgraph) and the feature mask ``[1, F]``
    (or ``None``).
    """
    algorithm = PyGGNNExplainer(epochs=epochs, lr=lr, **coeffs)
    if init_edge is not None or init_feat is not None:
        algorithm = _PyGExplainerFromStart(init_edge, init_feat, epochs=epochs, lr=lr, **coeffs)
    explainer = PyGExplainer(
        model=model, algorithm=algorithm,
        explanation_type=mode, edge_mask_type="object",
        node_mask_type="common_attributes" if feature_mask else None,
        model_config=dict(mode="multiclass_classification", task_level="node", return_type="raw"),
    )
    tgt = torch.full((x.size(0),), int(target), dtype=torch.long) if mode == "phenomenon" else None
    expl = explainer(x, edge_index, index=int(node_idx), target=tgt)
    fm = expl.get("node_mask")
    return expl.edge_mask.detach(), None if fm is None else fm.detach()


class _PyGExplainerFromStart(PyGGNNExplainer):
    """PyG's GNNExplainer with given initial mask logits. PyG draws them in a private method
    (``_initialize_homogeneous_masks``, PyG 2.3-2.8); this subclass is the one place that
    depends on it, and the test suite checks it still takes effect."""

    def __init__(self, init_edge: Optional[Tensor], init_feat: Optional[Tensor], **kwargs):
        super().__init__(**kwargs)
        self._init_edge, self._init_feat = init_edge, init_feat

    def _initialize_homogeneous_masks(self, *args, **kwargs):
        super()._initialize_homogeneous_masks(*args, **kwargs)
        with torch.no_grad():
            if self._init_edge is not None:
                self.edge_mask.copy_(self._init_edge)
            if self._init_feat is not None and self.node_mask is not None:
                self.node_mask.copy_(self._init_feat)


@dataclass(frozen=True)
class PGExplainerConfig:
    r"""The settings of :class:`PGExplainer`. The defaults are PyG's ``PGExplainer`` (which
    follow the replication study of Holdijk et al., 2021), except ``batch_size``.

    Attributes:
        epochs, lr: training epochs over the training instances, Adam's learning rate.
        hidden: width of the MLP's hidden layer.
        edge_size, edge_ent: coefficients of the size term (sum of the mask over the
            explanation's edges) and of the entropy term (its mean).
        temp: ``(T_0, T_1)``: the temperature falls from :math:`T_0` to :math:`T_1`,
            :math:`T_e = T_0 (T_1/T_0)^{e/\text{epochs}}` at epoch :math:`e = 0, 1, \dots`.
        noise_bias: the uniform noise of the concrete relaxation is drawn in
            ``[noise_bias, 1 - noise_bias]`` (0.5: no noise at all).
        embedding: ``"last"``: a node's embedding is the output of the model's last
            message-passing layer (PyG); ``"concat"``: ``model.embed`` (every layer's output
            concatenated, as in the paper's and the replication's code).
        batch_size: instances per Adam step (their losses summed); ``None``: all of them, one
            step per epoch (the replication's code); ``1``: one step per instance (PyG's loop).

    Example:
        >>> PGExplainerConfig(epochs=10).temp
        (5.0, 2.0)
    """

    epochs: int = 30
    lr: float = 0.003
    hidden: int = 64
    edge_size: float = 0.05
    edge_ent: float = 1.0
    temp: Tuple[float, float] = (5.0, 2.0)
    noise_bias: float = 0.01
    embedding: str = "last"
    batch_size: Optional[int] = None

    def __post_init__(self):
        for name in ("epochs", "hidden"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None (all instances), got {self.batch_size!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if len(self.temp) != 2 or min(self.temp) <= 0:
            raise ValueError(f"temp must be two positive temperatures (start, end), got {self.temp!r}")
        if not 0 <= self.noise_bias <= 0.5:
            raise ValueError(f"noise_bias must lie in [0, 0.5] (0.5: no noise), got {self.noise_bias!r}")
        if self.embedding not in ("last", "concat"):
            raise ValueError(f"embedding must be 'last' or 'concat', got {self.embedding!r}")


def node_embeddings(model: nn.Module, x: Tensor, sg: Explanations, embedding: str = "last") -> Tensor:
    r"""``[Nb, D]`` the trained model's embedding of every node of the union, on the unmasked graph.

    For node explanations the model runs on the whole graph (``sg.graph_edge_index``), so a
    node at the border of a computation subgraph keeps the embedding it has in the graph;
    for graph explanations it runs on the union. ``"last"`` is the output of the model's last
    ``MessagePassing`` module, ``"concat"`` is ``model.embed(x, edge_index)``.
    """
    whole = isinstance(sg, ComputationSubgraphs) and sg.graph_edge_index is not None
    xs = x if whole else x[sg.nodes]
    ei = sg.graph_edge_index if whole else sg.edge_index
    with torch.no_grad():
        if embedding == "concat":
            if not hasattr(model, "embed") or not isinstance(sg, ComputationSubgraphs):
                raise ValueError("embedding='concat' needs node explanations of a model with embed(x, edge_index), "
                                 "like models.GNNExplainerOriginalNet; use embedding='last'")
            out = model.embed(xs, ei)
        elif embedding == "last":
            convs = [m for m in model.modules() if isinstance(m, MessagePassing)]
            if not convs:
                raise ValueError("embedding='last' reads the output of the model's last MessagePassing layer, "
                                 f"but {type(model).__name__} has none; give it an embed method and use 'concat'")
            seen = []
            handle = convs[-1].register_forward_hook(lambda m, i, o: seen.append(o))
            try:
                if whole:
                    model(xs, ei)
                else:
                    sg.logits(model, xs, None)
            finally:
                handle.remove()
            out = seen[-1]
        else:
            raise ValueError(f"embedding must be 'last' or 'concat', got {embedding!r}")
    return out[sg.nodes] if whole else out


class PGExplainer(nn.Module):
    r"""PGExplainer (Luo et al., 2020), from scratch: a *parametric* explainer. One MLP
    :math:`g_\psi` scores every edge from embeddings of the trained GNN,

    .. math:: \omega_{uw} = g_\psi\big([\mathbf{z}_u \,\|\, \mathbf{z}_w \,\|\, \mathbf{z}_v]\big)

    (:math:`v` the explained node; graph explanations drop :math:`\mathbf{z}_v`), and is
    trained once over many predictions. Each step samples a soft edge mask with the concrete
    (Gumbel-sigmoid) relaxation of a Bernoulli draw, at a temperature :math:`T` that falls
    over the epochs,

    .. math:: m_e = \sigma\Big(\frac{\log \epsilon - \log(1-\epsilon) + \omega_e}{T}\Big),
              \qquad \epsilon \sim U(\beta, 1 - \beta),

    and minimises, summed over the predictions, the cross-entropy of the target under the
    masked graph plus a size and an entropy term over each explanation's edges:

    .. math:: \mathcal{L} = -\log p(y \mid G \odot m) + \lambda_s \sum_e m_e
              + \lambda_e\, \overline{H(0.99\, m_e + 0.005)}

    (the affine squeeze keeps the logarithms finite, as in PyG). Explaining a new node then
    costs one pass of the MLP: :math:`\sigma(\omega_e)`, no noise.

    Args:
        embedding_dim: ``D``, the width of a node embedding (see :func:`node_embeddings`).
        node_level: ``True`` for node explanations (input ``3D``), ``False`` for graphs (``2D``).
        config: a :class:`PGExplainerConfig`.
        generator: random stream of the MLP's initial weights (drawn as ``nn.Linear`` draws them).

    Example:
        >>> pg = PGExplainer(embedding_dim=20)
        >>> sum(p.numel() for p in pg.parameters())  # (3 * 20 + 1) * 64 + 65
        3969
    """

    def __init__(self, embedding_dim: int, node_level: bool = True, config: Optional[PGExplainerConfig] = None,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        if not isinstance(embedding_dim, int) or embedding_dim < 1:
            raise ValueError(f"embedding_dim must be a positive int (the width of a node embedding), got {embedding_dim!r}")
        self.config = config or PGExplainerConfig()
        self.node_level = node_level
        self.mlp = nn.Sequential(nn.Linear((3 if node_level else 2) * embedding_dim, self.config.hidden),
                                 nn.ReLU(), nn.Linear(self.config.hidden, 1))
        self.epochs_trained = 0
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        """Re-draw the MLP's weights, with ``nn.Linear``'s distributions, from ``generator``."""
        for lin in (self.mlp[0], self.mlp[2]):
            nn.init.kaiming_uniform_(lin.weight, a=sqrt(5), generator=generator)
            bound = 1 / sqrt(lin.in_features)
            nn.init.uniform_(lin.bias, -bound, bound, generator=generator)
        self.epochs_trained = 0

    def edge_logits(self, emb: Tensor, sg: Explanations) -> Tensor:
        r"""``[Eb]`` the MLP's logits :math:`\omega_e` from the union's node embeddings ``emb [Nb, D]``."""
        if self.node_level != isinstance(sg, ComputationSubgraphs):
            raise ValueError("this PGExplainer was built for " + ("node" if self.node_level else "graph")
                             + " explanations: build it with node_level=" + str(isinstance(sg, ComputationSubgraphs)))
        src, dst = sg.edge_index
        parts = [emb[src], emb[dst]]
        if self.node_level:
            parts.append(emb[sg.center][sg.edge_batch])
        return self.mlp(torch.cat(parts, dim=-1)).squeeze(-1)

    def temperature(self, epoch: int) -> float:
        """The temperature of (0-based) ``epoch``."""
        t0, t1 = self.config.temp
        return t0 * (t1 / t0) ** (epoch / self.config.epochs)

    def loss(self, model: nn.Module, x: Tensor, sg: Explanations, target: Tensor, emb: Tensor,
             temperature: float, generator: Optional[torch.Generator] = None) -> Tensor:
        """``[B]`` the training loss of every prediction of ``sg`` at ``temperature``."""
        cfg, B = self.config, sg.num_explanations
        omega = self.edge_logits(emb, sg)
        u = torch.rand(omega.shape, generator=generator)
        eps = (1 - 2 * cfg.noise_bias) * u + cfg.noise_bias
        eps = eps.clamp(1e-6, 1 - 1e-6)  # noise_bias = 0 may draw 0: keep the logit finite
        m = ((eps.log() - (1 - eps).log() + omega) / temperature).sigmoid()
        out = sg.logits(model, x[sg.nodes], m)
        _check_classes(out, target)
        loss = F.cross_entropy(out, target, reduction="none")
        counts = sg.edge_counts().clamp(min=1).float()
        loss = loss + cfg.edge_size * scatter_sum(m, sg.edge_batch, B)
        return loss + cfg.edge_ent * scatter_sum(_entropy(0.99 * m + 0.005), sg.edge_batch, B) / counts

    def fit(self, model: nn.Module, x: Tensor, sg: Explanations, target: Tensor, *,
            generator: Optional[torch.Generator] = None, desc: Optional[str] = None) -> History:
        r"""Train the MLP on the predictions of ``sg`` (their ``target`` classes) through
        :func:`gnncourse.train.fit`; the explained ``model`` stays frozen. An epoch visits every
        prediction once, in chunks of ``config.batch_size`` (one Adam step each). Returns the
        :class:`~gnncourse.train.History` (``"loss"``: mean summed loss per step)."""
        target = _check(model, x, sg, target)
        cfg = self.config
        emb = node_embeddings(model, x, sg, cfg.embedding)
        if emb.size(1) * (3 if self.node_level else 2) != self.mlp[0].in_features:
            raise ValueError(f"the model's embeddings have {emb.size(1)} dimensions, but this PGExplainer was built "
                             f"for {self.mlp[0].in_features // (3 if self.node_level else 2)}")
        B = sg.num_explanations
        chunks = [torch.arange(B)] if cfg.batch_size is None else list(torch.arange(B).split(cfg.batch_size))
        parts = [(sg if c.numel() == B else sg.subset(c), c) for c in chunks]
        node_of = [None if c.numel() == B else torch.isin(sg.node_batch, c) for c in chunks]
        requires = [p.requires_grad for p in model.parameters()]
        for p in model.parameters():
            p.requires_grad_(False)
        start = self.epochs_trained

        def batches(epoch: int):  # fit's epochs count from 1; the temperature's from 0
            t = self.temperature(start + epoch - 1)
            return [(sub, c, keep, t) for (sub, c), keep in zip(parts, node_of)]

        def step(pg: "PGExplainer", batch) -> Tensor:
            sub, c, keep, t = batch
            e = emb if keep is None else emb[keep]
            return pg.loss(model, x, sub, target[c], e, t, generator).sum()

        was_training = model.training
        model.eval()
        try:
            opt = torch.optim.Adam(self.mlp.parameters(), lr=cfg.lr)
            history = fit(self, opt, step, batches, epochs=cfg.epochs, desc=desc)
        finally:
            for p, r in zip(model.parameters(), requires):
                p.requires_grad_(r)
            model.train(was_training)
        self.epochs_trained += cfg.epochs
        self.eval()
        return history

    def explain(self, model: nn.Module, x: Tensor, sg: Explanations) -> Tensor:
        r"""``[Eb]`` the edge masks :math:`\sigma(\omega_e)` of the predictions of ``sg``: one
        pass of the GNN (embeddings) and one of the MLP, no optimisation."""
        if self.epochs_trained == 0:
            raise ValueError("this PGExplainer is untrained: call fit(model, x, sg, target) on some predictions first")
        check_features(x)
        with torch.no_grad():
            return self.edge_logits(node_embeddings(model, x, sg, self.config.embedding), sg).sigmoid()


def pyg_pg_explainer(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
                     config: Optional[PGExplainerConfig] = None) -> Tensor:
    r"""PyG's ``PGExplainer`` with the settings of ``config`` (epochs, lr, the coefficients,
    ``temp``, ``noise_bias``), trained the PyG way, one Adam step per explained node on the whole
    graph, then asked for each node's mask. Its noise comes from torch's global stream (seed
    it with ``torch.manual_seed``). Returns ``[Eb]`` scores on the union's edges, to compare with
    :class:`PGExplainer` (use ``batch_size=1`` and ``embedding="last"`` there)."""
    target = _check(model, x, sg, target)
    if not isinstance(sg, ComputationSubgraphs) or sg.graph_edge_index is None:
        raise ValueError("pyg_pg_explainer explains node predictions: give the ComputationSubgraphs made by "
                         "computation_subgraphs(...)")
    cfg = config or PGExplainerConfig(batch_size=1)  # PyG's defaults
    if cfg.embedding != "last" or cfg.batch_size != 1 or cfg.hidden != 64:
        raise ValueError("PyG's PGExplainer reads the last layer's embedding, takes one step per node and has "
                         "64 hidden units: use embedding='last', batch_size=1, hidden=64")
    algorithm = PyGPGExplainer(epochs=cfg.epochs, lr=cfg.lr, edge_size=cfg.edge_size, edge_ent=cfg.edge_ent,
                               temp=list(cfg.temp), bias=cfg.noise_bias)
    explainer = PyGExplainer(model=model, algorithm=algorithm, explanation_type="phenomenon", edge_mask_type="object",
                             model_config=dict(mode="multiclass_classification", task_level="node", return_type="raw"))
    ei = sg.graph_edge_index
    full = torch.zeros(x.size(0), dtype=torch.long)
    full[sg.node_idx] = target
    for epoch in range(cfg.epochs):
        for n in sg.node_idx.tolist():
            algorithm.train(epoch, model, x, ei, target=full, index=n)
    scores = torch.zeros(sg.edge_index.size(1))
    for b, n in enumerate(sg.node_idx.tolist()):
        sel = sg.edge_batch == b
        scores[sel] = explainer(x, ei, target=full, index=n).edge_mask.detach()[sg.edge_id[sel]]
    return scores


def linear_surrogate(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
                     num_samples: int = 200, keep_prob: float = 0.5, ridge: float = 1e-2,
                     response: str = "prob", generator: Optional[torch.Generator] = None) -> Tensor:
    r"""A LIME-style surrogate: sample sub-graphs of the computation subgraph, fit a linear
    model of the prediction on which edges were kept, read the coefficients.

    For :math:`s = 1..S`, keep every undirected edge independently with probability
    ``keep_prob`` (:math:`z_{s,e} \in \{0,1\}`, both directions together), record
    :math:`y_s = p(y \mid G \odot z_s)` and solve the ridge regression

    .. math:: \hat\beta = \arg\min_{\beta_0, \beta} \sum_s \big(y_s - \beta_0 - z_s^\top
              \beta\big)^2 + \rho \lVert\beta\rVert^2

    per explained node. The score of an edge is its coefficient :math:`\hat\beta_e`: how much
    keeping it raises the probability of the target class. With ``response="log_odds"``,
    :math:`y_s` is the log-odds :math:`\log p - \log(1-p)` instead (from the logits, so it does
    not saturate). Returns ``[Eb]`` scores.
    """
    if response not in ("prob", "log_odds"):
        raise ValueError(f"response must be 'prob' or 'log_odds', got {response!r}")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int (random subgraphs to fit on; 200 is the "
                         f"default), got {num_samples!r}")
    if not isinstance(keep_prob, (int, float)) or isinstance(keep_prob, bool) or not 0 < keep_prob < 1:
        raise ValueError(f"keep_prob must lie strictly between 0 and 1 (the share of edges each sample "
                         f"keeps; 0.5 is the usual choice), got {keep_prob!r}")
    target = _check(model, x, sg, target)
    Eb, B = sg.edge_index.size(1), sg.num_explanations
    # one variable per undirected edge: the smaller position of the pair
    pair = torch.where(sg.rev >= 0, torch.minimum(torch.arange(Eb), sg.rev.clamp(min=0)), torch.arange(Eb))
    z = (torch.rand(num_samples, Eb, generator=generator) < keep_prob).float()
    z = z[:, pair]  # both directions share the draw
    ys = torch.empty(num_samples, B)
    with torch.no_grad():
        for s in range(num_samples):
            if response == "prob":
                ys[s] = target_log_prob(model, x, sg, target, z[s]).exp()
            else:
                ys[s] = target_log_odds(model, x, sg, target, z[s])
    scores = torch.zeros(Eb)
    for b in range(B):  # one small ridge regression per explained node
        idx = (sg.edge_batch == b).nonzero().flatten()
        var = torch.unique(pair[idx])
        Z = z[:, var]
        Zc = Z - Z.mean(0)
        yc = ys[:, b] - ys[:, b].mean()
        beta = torch.linalg.solve(Zc.t() @ Zc + ridge * num_samples * torch.eye(var.numel()), Zc.t() @ yc)
        full = torch.zeros(Eb)
        full[var] = beta
        scores[idx] = full[pair[idx]]
    return scores


def walk_decomposition(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor
                       ) -> Tuple[Tensor, Tensor]:
    r"""Split the target logit exactly into one term per edge plus a term without edges.

    With the ReLU gates frozen at their values on the input, the logit
    :math:`f(w)` is a polynomial of degree :math:`\le L` in the edge weights: a sum over walks
    of products of weights. Integrated gradients of this polynomial from :math:`w = 0` to
    :math:`w = 1` gives each walk's term to its edges in equal shares, and by the fundamental
    theorem of calculus the shares add up exactly:

    .. math:: f(\mathbf{1}) = \underbrace{f(\mathbf{0})}_{\text{no edges}}
              + \sum_e R_e, \qquad R_e = \int_0^1
              \frac{\partial f(\alpha \mathbf{1})}{\partial w_e} d\alpha .

    The integrand is a polynomial of degree :math:`\le L-1` in :math:`\alpha`, so Gauss-Legendre
    quadrature with :math:`\lceil L/2 \rceil` points is exact (we use :math:`L`).

    Returns:
        ``(R [Eb], f0 [B])``: the edge terms and the no-edge term; ``R`` summed per explanation
        plus ``f0`` equals the model's target logit.
    """
    target = _check(model, x, sg, target)
    if not (hasattr(model, "forward_gated") and hasattr(model, "convs")) or not isinstance(sg, ComputationSubgraphs):
        raise ValueError("walk_decomposition needs node explanations (ComputationSubgraphs) of a model with "
                         ".convs and forward_gated(x, edge_index, edge_weight, gates) -> (logits, gates), "
                         "like models.GNNExplainerPaperNet")
    xs, Eb = x[sg.nodes], sg.edge_index.size(1)
    with torch.no_grad():
        _, gates = model.forward_gated(xs, sg.edge_index, torch.ones(Eb))
    L = len(model.convs)
    nodes, weights = np.polynomial.legendre.leggauss(L)
    total = torch.zeros(Eb)
    for t, wq in zip(nodes, weights):
        alpha = (t + 1) / 2  # map [-1, 1] -> [0, 1]
        w = torch.full((Eb,), float(alpha), requires_grad=True)
        out, _ = model.forward_gated(xs, sg.edge_index, w, gates)
        f = out[sg.center].gather(1, target[:, None]).sum()
        (g,) = torch.autograd.grad(f, w)
        total += float(wq) / 2 * g
    with torch.no_grad():
        out0, _ = model.forward_gated(xs, sg.edge_index, torch.zeros(Eb), gates)
    return total, out0[sg.center].gather(1, target[:, None]).squeeze(1)


def attention_scores(model: nn.Module, x: Tensor, edge_index: Tensor, sg: ComputationSubgraphs) -> Tensor:
    r"""Attention weights of a GAT-style model as edge scores (the paper's "Att" baseline).

    ``model.attention(x, edge_index)`` returns one ``[E]`` tensor of coefficients
    :math:`\alpha_{uw}` per layer (heads averaged); the score of an edge is their mean over
    layers. Attention of :math:`w` over its in-neighbours only depends on them, so it is read
    from one pass over the whole graph and gathered for the union's edges. Returns ``[Eb]``.
    """
    if not hasattr(model, "attention"):
        raise ValueError("attention_scores needs a model with an attention(x, edge_index) method "
                         "returning per-layer edge attention, e.g. models.GATNodeClassifier")
    with torch.no_grad():
        att = torch.stack(model.attention(x, edge_index)).mean(0)
    return att[sg.edge_id]


def masked_probabilities(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
                         edge_weight: Tensor) -> Tensor:
    """``[B]`` probability of each explained node's target class with edges weighted by
    ``edge_weight [Eb]`` (1 keeps an edge, 0 removes it): the input of the fidelity metrics."""
    target = _check(model, x, sg, target)
    with torch.no_grad():
        return target_log_prob(model, x, sg, target, edge_weight.float()).exp()


#: :func:`occlusion` splits the explanations into at most this many chunks of similar size.
OCCLUSION_CHUNKS = 16


def occlusion(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
              undirected: bool = True) -> Tensor:
    r"""Leave-one-out occlusion: the drop of the target log-odds when one edge is removed,

    .. math:: s_e = \ell(G) - \ell(G \setminus e), \qquad \ell = \log p(y) - \log(1 - p(y)),

    the log-odds instead of :math:`p` so that a saturated prediction (:math:`p \approx 1`)
    still ranks the edges. With ``undirected=True`` an edge and its reverse are removed
    together. The ``k``-th edge of every explanation is removed in the same forward pass
    (the copies are disjoint), so the cost is the largest subgraph's edge count in passes.
    Returns ``[Eb]`` scores.
    """
    target = _check(model, x, sg, target)
    Eb, B = sg.edge_index.size(1), sg.num_explanations
    counts = sg.edge_counts()

    scores = torch.zeros(Eb)
    # explanations in chunks of similar size: a chunk needs as many passes as its largest
    # subgraph has edges, over its own union only
    order = torch.argsort(counts)
    for chunk in torch.chunk(order, max(1, min(OCCLUSION_CHUNKS, B))):
        chunk = torch.sort(chunk).values
        sub = sg.subset(chunk)
        sel_e = torch.isin(sg.edge_batch, chunk).nonzero().flatten()  # same order as sub's edges
        scores[sel_e] = _occlusion_union(model, x, sub, target[chunk], undirected)
    return scores


def _occlusion_union(model, x, sg, target, undirected):
    Eb, B = sg.edge_index.size(1), sg.num_explanations
    counts = sg.edge_counts()
    start = torch.zeros(B, dtype=torch.long)
    start[1:] = counts.cumsum(0)[:-1]
    local = torch.arange(Eb) - start[sg.edge_batch]  # position of each edge in its explanation

    scores = torch.zeros(Eb)
    with torch.no_grad():
        base = target_log_odds(model, x, sg, target, torch.ones(Eb))
        for k in range(int(counts.max())):
            sel = local == k
            w = torch.ones(Eb)
            w[sel] = 0
            if undirected:
                w[sg.rev[sel & (sg.rev >= 0)]] = 0
            scores[sel] = (base - target_log_odds(model, x, sg, target, w))[sg.edge_batch[sel]]
    return scores


# --- the registry: every explainer under one interface -------------------------------------

#: ``explainer(model, x, sg, target, *, generator=None, **options) -> [Eb]`` edge scores: a
#: higher score means a more important edge. ``sg`` is a :class:`ComputationSubgraphs` (node
#: predictions) or a :class:`GraphUnion` (graph predictions; not every explainer supports it).
ExplainerFn = Callable[..., Tensor]

EXPLAINERS: Dict[str, ExplainerFn] = {}


def register_explainer(name: str) -> Callable[[ExplainerFn], ExplainerFn]:
    """Add an explainer to :data:`EXPLAINERS` under ``name`` (a decorator).

    Example:
        >>> @register_explainer("uniform")
        ... def uniform(model, x, sg, target, *, generator=None):
        ...     return torch.ones(sg.edge_index.size(1))
        >>> "uniform" in EXPLAINERS
        True
        >>> del EXPLAINERS["uniform"]
    """
    def add(fn: ExplainerFn) -> ExplainerFn:
        if name in EXPLAINERS:
            raise ValueError(f"an explainer named {name!r} is registered already; choose another name")
        EXPLAINERS[name] = fn
        return fn
    return add


def get_explainer(name: str) -> ExplainerFn:
    """The explainer registered as ``name``, with an error that lists the names if it is unknown."""
    if name not in EXPLAINERS:
        raise ValueError(f"no explainer named {name!r}; registered: {sorted(EXPLAINERS)}")
    return EXPLAINERS[name]


@register_explainer("saliency")
def _saliency(model, x, sg, target, *, generator=None) -> Tensor:
    return saliency(model, x, sg, target)


@register_explainer("integrated_gradients")
def _integrated_gradients(model, x, sg, target, *, generator=None, steps: int = 50) -> Tensor:
    return integrated_gradients(model, x, sg, target, steps=steps)


@register_explainer("occlusion")
def _occlusion(model, x, sg, target, *, generator=None, undirected: bool = True) -> Tensor:
    return occlusion(model, x, sg, target, undirected=undirected)


@register_explainer("linear_surrogate")
def _linear_surrogate(model, x, sg, target, *, generator=None, **options) -> Tensor:
    return linear_surrogate(model, x, sg, target, generator=generator, **options)


@register_explainer("walk_decomposition")
def _walk_decomposition(model, x, sg, target, *, generator=None) -> Tensor:
    return walk_decomposition(model, x, sg, target)[0]


@register_explainer("gnn_explainer")
def _gnn_explainer(model, x, sg, target, *, generator=None, config: Optional[GNNExplainerConfig] = None,
                   **options) -> Tensor:
    return gnn_explainer(model, x, sg, target, config, generator=generator, **options).edge_mask


@register_explainer("pg_explainer")
def _pg_explainer(model, x, sg, target, *, generator=None, config: Optional[PGExplainerConfig] = None,
                  fitted: Optional[PGExplainer] = None, train_sg: Optional[Explanations] = None,
                  train_target: Optional[Tensor] = None) -> Tensor:
    """PGExplainer: ``fitted`` explains at once; otherwise a new one is trained on ``train_sg``
    (with ``train_target``), or by default on the explained predictions themselves."""
    if fitted is None:
        if (train_sg is None) != (train_target is None):
            raise ValueError("give train_sg and train_target together (the predictions to train on and their classes)")
        cfg = config or PGExplainerConfig()
        dim = node_embeddings(model, x, sg, cfg.embedding).size(1)
        fitted = PGExplainer(dim, isinstance(sg, ComputationSubgraphs), cfg, generator=generator)
        fitted.fit(model, x, train_sg if train_sg is not None else sg,
                   train_target if train_target is not None else target, generator=generator)
    return fitted.explain(model, x, sg)


@register_explainer("pyg_pg_explainer")
def _pyg_pg_explainer(model, x, sg, target, *, generator=None, config: Optional[PGExplainerConfig] = None) -> Tensor:
    if generator is not None:  # PyG draws from the global stream: seed it from ours
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    return pyg_pg_explainer(model, x, sg, target, config)


@register_explainer("attention")
def _attention(model, x, sg, target, *, generator=None) -> Tensor:
    if not isinstance(sg, ComputationSubgraphs) or sg.graph_edge_index is None:
        raise ValueError("attention reads the model's attention over the whole graph: it needs the "
                         "ComputationSubgraphs made by computation_subgraphs(...) (they keep the graph)")
    return attention_scores(model, x, sg.graph_edge_index, sg)
