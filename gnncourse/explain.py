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
* surrogate: :func:`linear_surrogate` (sample sub-graphs, fit a linear model);
* decomposition: :func:`walk_decomposition` (exact: the terms add up to the output);

plus :func:`attention_scores`, the attention weights of a GAT-style model (the "Att" row).

The models are called as ``model(x, edge_index, edge_weight)`` and return logits ``[N, C]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import sqrt
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .utils import check_edge_index, check_features

__all__ = [
    "ComputationSubgraphs",
    "computation_subgraphs",
    "saliency",
    "integrated_gradients",
    "gnn_explainer",
    "GNNExplainerResult",
    "pyg_gnn_explainer",
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


@dataclass
class ComputationSubgraphs:
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
    """

    nodes: Tensor
    node_batch: Tensor
    edge_index: Tensor
    edge_id: Tensor
    edge_batch: Tensor
    rev: Tensor
    center: Tensor
    node_idx: Tensor
    hops: Tensor

    @property
    def num_explanations(self) -> int:
        return int(self.center.numel())

    @property
    def num_nodes(self) -> int:
        return int(self.nodes.numel())

    def edge_counts(self) -> Tensor:
        """``[B]`` number of edges in each explanation's subgraph."""
        return torch.bincount(self.edge_batch, minlength=self.num_explanations)

    def subset(self, bs: Tensor) -> "ComputationSubgraphs":
        """The union restricted to the explanations ``bs`` (renumbered ``0..len(bs)-1``)."""
        bs = torch.as_tensor(bs, dtype=torch.long)
        pos = torch.full((self.num_explanations,), -1, dtype=torch.long)
        pos[bs] = torch.arange(bs.numel())
        keep_n, keep_e = pos[self.node_batch] >= 0, pos[self.edge_batch] >= 0
        new_n = keep_n.long().cumsum(0) - 1
        new_e = keep_e.long().cumsum(0) - 1
        rev = self.rev[keep_e]
        ok = rev >= 0
        rev = torch.where(ok, new_e[rev.clamp(min=0)], rev)
        # the union keeps explanations in id order; reorder so that new id i is bs[i]
        sub = ComputationSubgraphs(
            nodes=self.nodes[keep_n], node_batch=pos[self.node_batch[keep_n]],
            edge_index=new_n[self.edge_index[:, keep_e]], edge_id=self.edge_id[keep_e],
            edge_batch=pos[self.edge_batch[keep_e]], rev=rev, center=new_n[self.center[bs]],
            node_idx=self.node_idx[bs], hops=self.hops[keep_n],
        )
        return sub

    def select(self, values: Tensor, b: int) -> Tensor:
        """The entries of an ``[Eb]`` edge score that belong to explanation ``b``."""
        return values[self.edge_batch == b]


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
    # reverse edges: match (b, w, u) against (b, u, w)
    nb = b_node.numel()
    key = ei[0] * nb + ei[1]
    rkey = ei[1] * nb + ei[0]
    order = torch.argsort(key)
    pos = torch.searchsorted(key[order], rkey).clamp(max=key.numel() - 1)
    rev = torch.where(key[order][pos] == rkey, order[pos], torch.full_like(pos, -1))
    return ComputationSubgraphs(
        nodes=v_node, node_batch=b_node, edge_index=ei, edge_id=e_id, edge_batch=b_edge, rev=rev,
        center=lookup[torch.arange(B), node_idx], node_idx=node_idx, hops=hops[b_node, v_node],
    )


def _check(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor) -> Tensor:
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


def _target_logprob(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
                    edge_weight: Tensor) -> Tensor:
    """``[B]`` log-probability of each explained node's target class on the masked union."""
    out = model(x[sg.nodes], sg.edge_index, edge_weight)
    _check_classes(out, target)
    return out[sg.center].log_softmax(-1).gather(1, target[:, None]).squeeze(1)


def _target_logodds(model: nn.Module, x: Tensor, sg: ComputationSubgraphs, target: Tensor,
                    edge_weight: Tensor) -> Tensor:
    r"""``[B]`` log-odds :math:`\log p(y) - \log(1 - p(y))` of each target class, computed from the
    logits (:func:`_log_odds`) so that it stays finite and ordered when :math:`p` rounds to 1."""
    out = model(x[sg.nodes], sg.edge_index, edge_weight)
    return _log_odds(out[sg.center], target)


def _log_odds(out: Tensor, target: Tensor) -> Tensor:
    r""":math:`z_y - \log\sum_{c \ne y} e^{z_c}` for logits ``out [B, C]``: the log-odds of ``y``."""
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
    (g,) = torch.autograd.grad(_target_logprob(model, x, sg, target, w).sum(), w)
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
        (g,) = torch.autograd.grad(_target_logprob(model, x, sg, target, w).sum(), w)
        total += g
    return total / steps


@dataclass
class GNNExplainerResult:
    """Masks learned by :func:`gnn_explainer`: ``edge_mask [Eb]`` and ``feat_mask [B, F]``
    (both in ``[0, 1]``), with the loss per epoch (summed over explanations)."""

    edge_mask: Tensor
    feat_mask: Optional[Tensor]
    losses: list


def _entropy(m: Tensor, eps: float = 1e-15) -> Tensor:
    return -m * torch.log(m + eps) - (1 - m) * torch.log(1 - m + eps)


def gnn_explainer(
    model: nn.Module,
    x: Tensor,
    sg: ComputationSubgraphs,
    target: Tensor,
    *,
    epochs: int = 100,
    lr: float = 0.01,
    edge_size: float = 0.005,
    edge_ent: float = 1.0,
    feat_size: float = 1.0,
    feat_ent: float = 0.1,
    laplacian: float = 0.0,
    feature_mask: bool = True,
    symmetric: bool = False,
    init_mean: float = 0.0,
    init_std: Optional[float] = None,
    init_edge: Optional[Tensor] = None,
    init_feat: Optional[Tensor] = None,
    hard: bool = False,
    restarts: int = 1,
    pyg_compat: bool = False,
    generator: Optional[torch.Generator] = None,
) -> GNNExplainerResult:
    r"""GNNExplainer (Ying et al., 2019), from scratch, for ``B`` nodes at once.

    Learn a soft edge mask :math:`M = \sigma(\Omega) \in [0,1]^{E}` and a feature mask
    :math:`F = \sigma(\Phi) \in [0,1]^{d}`, multiply them into the input (messages are scaled
    by :math:`M_e`, features by :math:`F`) and minimise, per explained node :math:`v` with
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
    disjoint, and Adam acts element-wise, so optimising their summed loss gives every node
    exactly the masks it would get alone.

    Defaults are PyG's (``lr=0.01``, masks initialised around 0 with
    :math:`\sigma_\Omega = \sqrt{2}\sqrt{2/(2n)}`); the original code used ``lr=0.1``,
    ``init_mean=1.0``, ``symmetric=True`` (:math:`M_{uv} = M_{vu}`) and ``laplacian=1.0``.

    Args:
        model: called as ``model(x, edge_index, edge_weight)``, returns logits.
        x: ``[N, F]`` features of the whole graph; sg: the batched computation subgraphs.
        target: ``[B]`` class to explain per node (the model's prediction or the true label).
        epochs, lr: Adam steps and learning rate.
        edge_size, edge_ent, feat_size, feat_ent, laplacian: the coefficients above; ``edge_ent``
            may also be a ``[B]`` tensor, one coefficient per explanation.
        feature_mask: learn :math:`F` too (one mask per explained node, shared by its nodes).
        symmetric: tie :math:`M_{u\to w}` and :math:`M_{w \to u}` (their mean is used).
        init_mean, init_std: initial logits :math:`\Omega \sim \mathcal{N}(\text{mean},
            \text{std}^2)`; ``init_std=None`` uses PyG's value from each subgraph's size.
        init_edge, init_feat: explicit initial logits (``[Eb]``, ``[B, F]``) instead.
        hard: the model sees a sampled binary mask (straight-through gradient).
        restarts: optimise the masks this many times from different random starts (drawn
            one after the other from ``generator``) and return their mean: for binary masks
            (``hard=True``) the mean is an estimate of how often an edge is kept.
        pyg_compat: leave the regularisers out of the first step, as PyG does (it finds the
            computation subgraph from that step's gradients); then both give the same masks.
        generator: random stream of the initialisation.

    Returns:
        :class:`GNNExplainerResult` with ``edge_mask [Eb]`` and ``feat_mask [B, F]``.
    """
    options = {k: v for k, v in locals().items() if k not in ("model", "x", "sg", "target")}  # for restarts
    target = _check(model, x, sg, target)
    if restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    if restarts > 1:
        if init_edge is not None or init_feat is not None:
            raise ValueError("restarts > 1 needs random starts: leave init_edge and init_feat unset")
        runs = [gnn_explainer(model, x, sg, target, **{**options, "restarts": 1}) for _ in range(restarts)]
        feat = None if runs[0].feat_mask is None else torch.stack([r.feat_mask for r in runs]).mean(0)
        return GNNExplainerResult(torch.stack([r.edge_mask for r in runs]).mean(0), feat,
                                  [sum(v) / restarts for v in zip(*(r.losses for r in runs))])
    B, Eb, Fdim = sg.num_explanations, sg.edge_index.size(1), x.size(1)
    counts = sg.edge_counts().clamp(min=1).float()
    if init_edge is None:
        if init_std is None:  # PyG: gain(relu) * sqrt(2 / (2 n)), n = nodes of the subgraph
            n_b = torch.bincount(sg.node_batch, minlength=B).float()
            std = (sqrt(2.0) * torch.sqrt(2.0 / (2 * n_b)))[sg.edge_batch]
        else:
            std = torch.full((Eb,), float(init_std))
        init_edge = init_mean + torch.randn(Eb, generator=generator) * std
    if init_feat is None:
        init_feat = torch.randn(B, Fdim, generator=generator) * 0.1
    omega = init_edge.clone().float().requires_grad_(True)
    params = [omega]
    phi = None
    if feature_mask:
        phi = init_feat.clone().float().reshape(B, Fdim).requires_grad_(True)
        params.append(phi)
    opt = torch.optim.Adam(params, lr=lr)
    xs = x[sg.nodes]
    has_rev = sg.rev >= 0
    if laplacian:
        with torch.no_grad():
            pred_label = model(xs, sg.edge_index, None).argmax(-1).float()
        diff2 = (pred_label[sg.edge_index[0]] - pred_label[sg.edge_index[1]]) ** 2
        n2 = torch.bincount(sg.node_batch, minlength=B).float() ** 2
    losses = []
    for epoch in range(epochs):
        opt.zero_grad()
        m = omega.sigmoid()
        if symmetric:
            m = torch.where(has_rev, (m + m[sg.rev.clamp(min=0)]) / 2, m)
        h = xs if phi is None else xs * phi.sigmoid()[sg.node_batch]
        w = m
        if hard:  # sample a binary mask, straight-through gradient to the probabilities
            z = (torch.rand(Eb, generator=generator) < m).float()
            if symmetric:
                z = torch.where(has_rev, torch.maximum(z, z[sg.rev.clamp(min=0)]), z)
            w = z + m - m.detach()
        out = model(h, sg.edge_index, w)[sg.center]
        loss_b = F.cross_entropy(out, target, reduction="none")  # [B]
        if pyg_compat and epoch == 0:
            loss = loss_b.sum()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            continue
        loss_b = loss_b + edge_size * scatter_sum(m, sg.edge_batch, B)
        loss_b = loss_b + edge_ent * scatter_sum(_entropy(m), sg.edge_batch, B) / counts
        if phi is not None:
            f = phi.sigmoid()
            loss_b = loss_b + feat_size * f.mean(1) + feat_ent * _entropy(f).mean(1)
        if laplacian:  # y^T L_M y = 1/2 sum_{u->w} M_uw (y_u - y_w)^2 over both directions
            loss_b = loss_b + laplacian * scatter_sum(m * diff2, sg.edge_batch, B) / 2 / n2
        loss = loss_b.sum()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    with torch.no_grad():
        m = omega.sigmoid()
        if symmetric:
            m = torch.where(has_rev, (m + m[sg.rev.clamp(min=0)]) / 2, m)
    return GNNExplainerResult(m.detach(), None if phi is None else phi.detach().sigmoid(), losses)


def pyg_gnn_explainer(model: nn.Module, x: Tensor, edge_index: Tensor, node_idx: int, target: int,
                      epochs: int = 100, lr: float = 0.01, mode: str = "model",
                      feature_mask: bool = True, **coeffs) -> Tuple[Tensor, Optional[Tensor]]:
    r"""PyG's ``GNNExplainer`` on one node, through ``torch_geometric.explain.Explainer``.

    ``mode="model"`` explains the model's prediction, ``"phenomenon"`` the given ``target``.
    Returns the edge mask ``[E]`` over ``edge_index`` (0 outside the computation subgraph) and
    the feature mask ``[1, F]`` (or ``None``).
    """
    from torch_geometric.explain import Explainer, GNNExplainer

    explainer = Explainer(
        model=model, algorithm=GNNExplainer(epochs=epochs, lr=lr, **coeffs),
        explanation_type=mode, edge_mask_type="object",
        node_mask_type="common_attributes" if feature_mask else None,
        model_config=dict(mode="multiclass_classification", task_level="node", return_type="raw"),
    )
    tgt = torch.full((x.size(0),), int(target), dtype=torch.long) if mode == "phenomenon" else None
    expl = explainer(x, edge_index, index=int(node_idx), target=tgt)
    fm = expl.get("node_mask")
    return expl.edge_mask.detach(), None if fm is None else fm.detach()


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
                ys[s] = _target_logprob(model, x, sg, target, z[s]).exp()
            else:
                ys[s] = _target_logodds(model, x, sg, target, z[s])
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


def _frozen_gate_forward(model: nn.Module, x: Tensor, edge_index: Tensor, edge_weight: Tensor,
                         gates: Optional[list] = None):
    """Forward pass of a ``convs`` + ``lin`` model (like ``GNNExplainerPaperNet``) whose ReLU
    gates can be frozen: ``relu(z) = z * [z > 0]`` with ``[z > 0]`` taken from ``gates``."""
    if not (hasattr(model, "convs") and hasattr(model, "lin")):
        raise ValueError("walk_decomposition needs a model with .convs (message-passing layers "
                         "followed by ReLU, the last without) and .lin (linear classifier on their "
                         "concatenation), like models.GNNExplainerPaperNet")
    hs, new_gates = [], []
    for i, conv in enumerate(model.convs):
        x = conv(x, edge_index, edge_weight)
        if i < len(model.convs) - 1:
            g = (x > 0).to(x.dtype) if gates is None else gates[i]
            new_gates.append(g)
            x = x * g
        hs.append(x)
    return model.lin(torch.cat(hs, dim=-1)), new_gates


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
    xs, Eb = x[sg.nodes], sg.edge_index.size(1)
    with torch.no_grad():
        _, gates = _frozen_gate_forward(model, xs, sg.edge_index, torch.ones(Eb))
    L = len(model.convs)
    nodes, weights = np.polynomial.legendre.leggauss(L)
    total = torch.zeros(Eb)
    for t, wq in zip(nodes, weights):
        alpha = (t + 1) / 2  # map [-1, 1] -> [0, 1]
        w = torch.full((Eb,), float(alpha), requires_grad=True)
        out, _ = _frozen_gate_forward(model, xs, sg.edge_index, w, gates)
        f = out[sg.center].gather(1, target[:, None]).sum()
        (g,) = torch.autograd.grad(f, w)
        total += float(wq) / 2 * g
    with torch.no_grad():
        out0, _ = _frozen_gate_forward(model, xs, sg.edge_index, torch.zeros(Eb), gates)
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
        return _target_logprob(model, x, sg, target, edge_weight.float()).exp()


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
    for chunk in torch.chunk(order, max(1, min(16, B))):
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
        base = _target_logodds(model, x, sg, target, torch.ones(Eb))
        for k in range(int(counts.max())):
            sel = local == k
            w = torch.ones(Eb)
            w[sel] = 0
            if undirected:
                w[sg.rev[sel & (sg.rev >= 0)]] = 0
            scores[sel] = (base - _target_logodds(model, x, sg, target, w))[sg.edge_batch[sel]]
    return scores
