r"""XGNN: model-level explanations of a graph classifier by graph generation.

Yuan, Tang, Hu and Ji, "XGNN: Towards Model-Level Explanations of Graph Neural Networks",
KDD 2020. Instead of explaining one prediction, XGNN asks *which graphs does the model take
for class* :math:`c` *most confidently?* and answers by training a graph generator with
reinforcement learning to produce such graphs.

The generator builds a graph one edge per step. At step :math:`t` the current graph
:math:`G_t` together with a *candidate set* of :math:`K` new nodes (one per node type; for
molecules one per atom type) is embedded by a GCN. An MLP scores the nodes of :math:`G_t`
for the **start** node; a second MLP, given the start node's embedding, scores every node but
the start for the **end** node. Picking a candidate adds that node. The reward of the step is

.. math::
    R_t = R_{t,f}(G_{t+1}) + \frac{\lambda_1}{m} \sum_{i=1}^{m} R_{t,f}(\hat G_{t+1}^{(i)})
          + \lambda_2 R_{t,r}, \qquad R_{t,f}(G) = p\big(f(G) = c\big) - \frac{1}{\ell},

where :math:`\hat G^{(i)}` are :math:`m` rollouts (the current policy finishes the graph),
:math:`\ell` the number of classes, and :math:`R_{t,r} = -1` if the step breaks a graph rule
(a duplicate edge, a self-loop, a node beyond the maximum size, an exceeded valency), else 0.
An invalid step earns only the penalty and is rolled back. The generator is trained by
policy gradient: minimise :math:`-R_t \,(\log \pi(a_{\text{start}}) + \log \pi(a_{\text{end}}))`.

The graphs here are tiny, so the generator works on dense, batched adjacency matrices
``[B, M, M]`` (``M`` = the maximum number of nodes): many episodes and rollouts run at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from .graph_classification import degree_features
from .train import History
from .utils import check_edge_index, progress

__all__ = [
    "GraphState",
    "dense_gcn_norm",
    "DenseGCNLayer",
    "GraphGenerator",
    "valid_actions",
    "apply_actions",
    "state_to_batch",
    "one_hot_featurizer",
    "degree_featurizer",
    "rule_violations",
    "XGNN",
]

Featurizer = Callable[[Tensor, Tensor], Tensor]


# ------------------------------------------------------------------------- graph rules


def rule_violations(
    edge_index: Tensor,
    num_nodes: int,
    node_type: Optional[Tensor] = None,
    valency: Optional[Sequence[int]] = None,
    type_names: Optional[Sequence[str]] = None,
) -> List[str]:
    r"""Every graph rule a graph breaks, as readable strings (an empty list: a valid graph).

    Rules: no self-loop; no duplicate edge; undirected (``u -> v`` present iff ``v -> u``);
    connected; and, when ``valency`` is given, :math:`\deg(v) \le \text{valency}[\text{type}(v)]`.

    Args:
        edge_index: ``[2, E]``, both directions of every undirected edge.
        num_nodes: ``N``.
        node_type: ``[N]`` type index of each node (needed for the valency rule).
        valency: maximum degree per type.
        type_names: names of the types, for the messages (e.g. atom symbols).
    """
    check_edge_index(edge_index, num_nodes)
    problems: List[str] = []
    src, dst = edge_index.tolist()
    pairs = list(zip(src, dst))
    loops = sorted({u for u, v in pairs if u == v})
    if loops:
        problems.append(f"self-loop at node(s) {loops}")
    if len(set(pairs)) != len(pairs):
        problems.append("duplicate edge(s)")
    if set(pairs) != {(v, u) for u, v in pairs}:
        problems.append("not undirected: some edge u->v has no v->u")
    # connectivity: a traversal from node 0 must reach every node
    nbrs: List[List[int]] = [[] for _ in range(num_nodes)]
    for u, v in pairs:
        nbrs[u].append(v)
        nbrs[v].append(u)
    seen, stack = {0}, [0]
    while stack and num_nodes:
        for w in nbrs[stack.pop()]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    if num_nodes and len(seen) != num_nodes:
        problems.append(f"not connected: {num_nodes - len(seen)} node(s) unreachable from node 0")
    if valency is not None:
        if node_type is None or node_type.numel() != num_nodes:
            raise ValueError("rule_violations: the valency rule needs node_type with one entry per node")
        deg = torch.zeros(num_nodes, dtype=torch.long)
        for u, v in set(pairs):
            if u != v:
                deg[u] += 1
        for v in range(num_nodes):
            t = int(node_type[v])
            if deg[v] > valency[t]:
                name = type_names[t] if type_names is not None else f"type {t}"
                problems.append(f"valency: node {v} ({name}) has {int(deg[v])} bonds > {valency[t]}")
    return problems


# ------------------------------------------------------------------------- dense GCN policy


def dense_gcn_norm(adj: Tensor) -> Tensor:
    r"""The GCN propagation matrix of a batch of dense adjacencies.

    .. math:: \hat A = \tilde D^{-1/2} (A + I) \tilde D^{-1/2}, \qquad \tilde D_{vv} = 1 + \sum_u A_{vu}

    Args:
        adj: ``[B, N, N]`` (or ``[N, N]``) 0/1 adjacency without self-loops.
    """
    a = adj.float() + torch.eye(adj.size(-1), device=adj.device)
    dinv = a.sum(-1).pow(-0.5)  # [B, N]
    return dinv[..., :, None] * a * dinv[..., None, :]


class DenseGCNLayer(nn.Module):
    r"""A GCN layer on dense batched graphs: :math:`H' = \hat A (H W) + b` (no activation).

    Same parameters and result as PyG's ``GCNConv`` (``lin.weight``, ``bias``).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.xavier_uniform_(self.lin.weight)

    def forward(self, x: Tensor, a_norm: Tensor) -> Tensor:
        return a_norm @ self.lin(x) + self.bias  # [B, N, out]


class GraphGenerator(nn.Module):
    r"""XGNN's policy: GCN embeddings, a start-node MLP and an end-node MLP.

    The input is the current graph (``M`` slots, the first ``n`` in use) followed by the
    ``K`` candidate nodes, one per node type, with one-hot type features:
    ``[B, M + K, K]``. Candidates have no edges.

    Args:
        num_node_types: ``K``.
        hidden_channels: widths of the GCN layers.
        mlp_hidden: hidden width of the two MLPs.
    """

    def __init__(self, num_node_types: int, hidden_channels: Sequence[int] = (16, 24, 32), mlp_hidden: int = 32) -> None:
        super().__init__()
        self.num_node_types = num_node_types
        dims = [num_node_types] + list(hidden_channels)
        self.convs = nn.ModuleList(DenseGCNLayer(a, b) for a, b in zip(dims[:-1], dims[1:]))
        d = dims[-1]
        self.mlp_start = nn.Sequential(nn.Linear(d, mlp_hidden), nn.ReLU(), nn.Linear(mlp_hidden, 1))
        self.mlp_end = nn.Sequential(nn.Linear(2 * d + 1, mlp_hidden), nn.ReLU(), nn.Linear(mlp_hidden, 1))

    def embed(self, state: "GraphState") -> Tensor:
        """Embeddings of the ``M`` graph slots and the ``K`` candidates: ``[B, M + K, D]``."""
        B, M = state.types.shape
        K = self.num_node_types
        exists = state.exists()  # [B, M]
        x_graph = F.one_hot(state.types, K).float() * exists[..., None]  # [B, M, K]
        x_cand = torch.eye(K).expand(B, K, K)  # [B, K, K]
        x = torch.cat([x_graph, x_cand], dim=1)  # [B, M+K, K]
        adj = torch.zeros(B, M + K, M + K)
        adj[:, :M, :M] = state.adj.float()
        a_norm = dense_gcn_norm(adj)
        h = x
        for conv in self.convs:
            h = F.relu(conv(h, a_norm))
        return h

    def start_logits(self, h: Tensor) -> Tensor:
        """Unmasked start scores ``[B, M + K]``."""
        return self.mlp_start(h).squeeze(-1)

    def end_logits(self, h: Tensor, start: Tensor, state: "GraphState") -> Tensor:
        """Unmasked end scores ``[B, M + K]`` given the start node of each graph ``[B]``.

        The end MLP sees ``[h_v, h_start, a_{start, v}]``: the flag ``a_{start, v}`` (1 if
        ``v`` is already joined to the start) lets it learn the no-duplicate rule, which
        embeddings alone cannot always tell.
        """
        B, M = state.types.shape
        hs = h[torch.arange(B), start]  # [B, D]
        joined = torch.zeros(B, h.size(1), 1)
        joined[:, :M, 0] = state.adj[torch.arange(B), start].float()
        return self.mlp_end(torch.cat([h, hs[:, None, :].expand_as(h), joined], dim=-1)).squeeze(-1)


# ------------------------------------------------------------------------- environment


@dataclass
class GraphState:
    r"""A batch of graphs under construction, dense.

    Attributes:
        adj: ``[B, M, M]`` boolean symmetric adjacency (no self-loops).
        types: ``[B, M]`` node type of each slot (meaningful for the first ``num_nodes``).
        num_nodes: ``[B]`` nodes in use.
    """

    adj: Tensor
    types: Tensor
    num_nodes: Tensor

    @staticmethod
    def start(batch_size: int, max_nodes: int, start_type: int = 0) -> "GraphState":
        """``batch_size`` graphs with a single node of type ``start_type``."""
        types = torch.zeros(batch_size, max_nodes, dtype=torch.long)
        types[:, 0] = start_type
        return GraphState(torch.zeros(batch_size, max_nodes, max_nodes, dtype=torch.bool), types,
                          torch.ones(batch_size, dtype=torch.long))

    def exists(self) -> Tensor:
        """``[B, M]``: which slots hold a node."""
        return torch.arange(self.types.size(1))[None, :] < self.num_nodes[:, None]

    def repeat(self, m: int) -> "GraphState":
        """Each graph ``m`` times in a row (for rollouts): batch ``B * m``."""
        return GraphState(self.adj.repeat_interleave(m, 0), self.types.repeat_interleave(m, 0),
                          self.num_nodes.repeat_interleave(m, 0))

    def graph(self, b: int):
        """Graph ``b`` as a PyG ``Data`` with ``edge_index`` (both directions) and ``node_type``."""
        n = int(self.num_nodes[b])
        edge_index = self.adj[b, :n, :n].nonzero().t().contiguous()
        return Data(edge_index=edge_index, node_type=self.types[b, :n].clone(), num_nodes=n)


def valid_actions(state: GraphState, max_nodes: int, valency: Optional[Tensor] = None) -> Tensor:
    r"""Which (start, end) pairs obey the graph rules: ``[B, M, M + K]`` boolean.

    ``start`` must be an existing node; ``end`` is another existing node not yet joined to it,
    or a candidate ``M + k`` (adds a node of type ``k``) while the graph has fewer than
    ``max_nodes`` nodes. With ``valency`` (``[K]``), both ends must have a free bond.
    """
    B, M = state.types.shape
    K = int(valency.numel()) if valency is not None else None
    exists = state.exists()  # [B, M]
    if K is None:
        raise ValueError("valid_actions needs valency (use a large value per type for 'no limit')")
    deg = state.adj.sum(-1)  # [B, M]
    free = exists & (deg < valency[state.types])  # [B, M]: can take one more edge
    eye = torch.eye(M, dtype=torch.bool)
    old = free[:, :, None] & free[:, None, :] & ~state.adj & ~eye  # [B, M, M]
    room = (state.num_nodes < max_nodes)[:, None, None]  # [B, 1, 1]
    new = free[:, :, None] & room & (valency > 0)[None, None, :]  # [B, M, K]
    return torch.cat([old, new], dim=-1)


def apply_actions(state: GraphState, start: Tensor, end: Tensor, valid: Tensor) -> GraphState:
    r"""Add edge ``start -- end`` to every graph where ``valid``; the others stay as they were
    (an invalid step is rolled back). ``end >= M`` adds a new node of type ``end - M``."""
    B, M = state.types.shape
    adj, types, n = state.adj.clone(), state.types.clone(), state.num_nodes.clone()
    b = valid.nonzero().view(-1)
    if b.numel():
        s, e = start[b], end[b]
        is_new = e >= M
        j = torch.where(is_new, n[b], e)  # the end node's slot
        if (j >= M).any():
            raise ValueError("apply_actions: a 'valid' action adds a node beyond the maximum size")
        types[b[is_new], j[is_new]] = e[is_new] - M
        n[b[is_new]] += 1
        adj[b, s, j] = True
        adj[b, j, s] = True
    return GraphState(adj, types, n)


def state_to_batch(state: GraphState, featurize: Featurizer) -> Tuple[Tensor, Tensor, Tensor]:
    r"""The graphs of a state as one PyG-style batch: ``(x [N, F], edge_index [2, E], batch [N])``."""
    B, M = state.types.shape
    exists = state.exists().view(-1)  # [B*M]
    gid = torch.cumsum(exists.long(), 0) - 1  # global id of each existing slot
    b, i, j = state.adj.nonzero(as_tuple=True)
    edge_index = torch.stack([gid[b * M + i], gid[b * M + j]])
    node_type = state.types.view(-1)[exists]
    batch = torch.arange(B).repeat_interleave(M)[exists]
    return featurize(node_type, edge_index), edge_index, batch


def one_hot_featurizer(num_types: int) -> Featurizer:
    """Node features = one-hot node type (e.g. a molecule's atom types)."""
    return lambda node_type, edge_index: F.one_hot(node_type, num_types).float()


def degree_featurizer(max_degree: int = 10) -> Featurizer:
    """Node features = one-hot degree capped at ``max_degree`` (as ``make_is_acyclic(features="degree")``)."""
    return lambda node_type, edge_index: degree_features(edge_index, node_type.numel(), max_degree)


def _sample(logits: Tensor, gen: torch.Generator, greedy: bool) -> Tensor:
    if greedy:
        return logits.argmax(-1)
    return torch.multinomial(F.softmax(logits, -1), 1, generator=gen).view(-1)


# ------------------------------------------------------------------------- XGNN


class XGNN:
    r"""Train a graph generator whose graphs maximise a classifier's probability for a class.

    Args:
        classifier: the trained model to explain, ``classifier(x, edge_index, batch)`` returns
            logits ``[B, C]``. It is only evaluated (``eval()`` mode, no gradients).
        target_class: the class ``c`` to explain.
        num_node_types: ``K``, the size of the candidate set (e.g. 1 for unlabelled graphs, the number of atom types for molecules).
        featurize: ``featurize(node_type [N], edge_index [2, E]) -> x [N, F]``, the
            classifier's node features of a generated graph.
        max_nodes: maximum graph size ``M``.
        max_steps: steps (edge additions) per episode (default ``max_nodes``; a tree on
            ``max_nodes`` nodes needs ``max_nodes - 1``). Adding a node beyond ``max_nodes``
            is an invalid step.
        valency: maximum degree per node type (``None``: no limit).
        start_type: type of the single node every graph starts from.
        rollouts: ``m``, rollouts per step (0 switches them off).
        lambda_1, lambda_2: weights of the rollout reward and of the rule penalty.
        hidden_channels, mlp_hidden: sizes of the policy.
        lr: Adam's learning rate.
        baseline: subtract the mean reward of the batch's live episodes at each step (a
            standard variance reduction of policy gradients; not in the paper, whose
            :math:`-1/\ell` already centres the classifier reward).
        seed: seeds the policy's initial weights and every sampled action (private streams).
    """

    def __init__(
        self,
        classifier: nn.Module,
        target_class: int,
        num_node_types: int,
        featurize: Featurizer,
        max_nodes: int,
        max_steps: Optional[int] = None,
        valency: Optional[Sequence[int]] = None,
        start_type: int = 0,
        rollouts: int = 4,
        lambda_1: float = 1.0,
        lambda_2: float = 2.0,
        hidden_channels: Sequence[int] = (16, 24, 32),
        mlp_hidden: int = 32,
        lr: float = 0.01,
        baseline: bool = True,
        seed: int = 0,
    ) -> None:
        if max_nodes < 2:
            raise ValueError(f"max_nodes must be >= 2, got {max_nodes}")
        if not 0 <= start_type < num_node_types:
            raise ValueError(f"start_type must be in 0..{num_node_types - 1}, got {start_type}")
        if valency is not None and len(valency) != num_node_types:
            raise ValueError(f"valency needs one entry per node type ({num_node_types}), got {len(valency)}")
        if rollouts < 0:
            raise ValueError(f"rollouts must be >= 0, got {rollouts}")
        self.classifier = classifier.eval()
        self.target_class, self.num_node_types, self.featurize = target_class, num_node_types, featurize
        self.max_nodes, self.max_steps = max_nodes, max_steps or max_nodes
        no_limit = [max_nodes] * num_node_types
        self.valency = torch.tensor(valency if valency is not None else no_limit, dtype=torch.long)
        self.start_type, self.rollouts = start_type, rollouts
        self.lambda_1, self.lambda_2 = lambda_1, lambda_2
        self.baseline = baseline
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.policy = GraphGenerator(num_node_types, hidden_channels, mlp_hidden)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=lr)
        self.gen = torch.Generator().manual_seed(seed)
        self.num_classes: Optional[int] = None
        self.history = History()

    # -- the classifier's view ------------------------------------------------------
    @torch.no_grad()
    def target_probability(self, state: GraphState) -> Tensor:
        r""":math:`p(f(G) = c)` for every graph of a state, ``[B]``."""
        x, edge_index, batch = state_to_batch(state, self.featurize)
        prob = F.softmax(self.classifier(x, edge_index, batch), dim=-1)  # [B, C]
        self.num_classes = prob.size(1)
        return prob[:, self.target_class]

    def classifier_reward(self, state: GraphState) -> Tensor:
        r""":math:`R_{t,f}(G) = p(f(G) = c) - 1/\ell` for every graph of a state, ``[B]``."""
        p = self.target_probability(state)
        return p - 1.0 / self.num_classes

    # -- acting -----------------------------------------------------------------------
    def _masked_step(self, state: GraphState, max_nodes: int, greedy: bool) -> GraphState:
        """One step restricted to valid actions (rollouts and generation)."""
        valid = valid_actions(state, max_nodes, self.valency)  # [B, M, M+K]
        M = state.types.size(1)
        can_start = valid.any(-1)  # [B, M]
        active = can_start.any(-1)  # graphs with at least one valid action left
        if not active.any():
            return state
        can_start = can_start | ~active[:, None] & (torch.arange(M) == 0)  # a dummy row, ignored
        h = self.policy.embed(state)
        s_logits = self.policy.start_logits(h)[:, :M].masked_fill(~can_start, float("-inf"))
        start = _sample(s_logits, self.gen, greedy)
        end_ok = valid[torch.arange(valid.size(0)), start]  # [B, M+K]
        end_ok = end_ok | ~active[:, None] & (torch.arange(end_ok.size(1)) == M)
        e_logits = self.policy.end_logits(h, start, state).masked_fill(~end_ok, float("-inf"))
        end = _sample(e_logits, self.gen, greedy)
        return apply_actions(state, start, end, active)

    @torch.no_grad()
    def _rollout_reward(self, state: GraphState, steps_left: int) -> Tensor:
        r"""Mean :math:`R_{t,f}` of ``m`` graphs finished by the current policy, ``[B]``."""
        B = state.types.size(0)
        sim = state.repeat(self.rollouts)
        for _ in range(steps_left):
            sim = self._masked_step(sim, self.max_nodes, greedy=False)
        return self.classifier_reward(sim).view(B, self.rollouts).mean(1)

    def train(self, iterations: int = 50, batch_size: int = 8, desc: Optional[str] = "XGNN") -> History:
        r"""Policy-gradient training: each iteration runs ``batch_size`` episodes of
        ``max_steps`` steps, sampling start and end nodes from the policy.

        Returns (and extends) ``history``, a :class:`~gnncourse.train.History`: per iteration the mean target probability of the
        final graphs (``"target_prob"``), the mean step reward (``"reward"``) and the share
        of invalid steps (``"invalid"``).
        """
        self.policy.train()
        K, M = self.num_node_types, self.max_nodes
        for _ in progress(range(iterations), desc=None if desc is None else f"{desc} class {self.target_class}"):
            state = GraphState.start(batch_size, M, self.start_type)
            loss, rewards, invalid = 0.0, [], []
            for t in range(self.max_steps):
                h = self.policy.embed(state)  # [B, M+K, D]
                exists = state.exists()
                s_logits = self.policy.start_logits(h)[:, :M].masked_fill(~exists, float("-inf"))
                start = _sample(s_logits.detach(), self.gen, greedy=False)
                not_start = torch.ones(batch_size, M + K, dtype=torch.bool)
                not_start[:, :M] = exists
                not_start[torch.arange(batch_size), start] = False
                e_logits = self.policy.end_logits(h, start, state).masked_fill(~not_start, float("-inf"))
                end = _sample(e_logits.detach(), self.gen, greedy=False)
                logp = (F.log_softmax(s_logits, -1).gather(1, start[:, None]).view(-1)
                        + F.log_softmax(e_logits, -1).gather(1, end[:, None]).view(-1))
                with torch.no_grad():
                    ok = valid_actions(state, M, self.valency)[torch.arange(batch_size), start, end]
                    nxt = apply_actions(state, start, end, ok)  # invalid rows: rolled back
                    r = self.classifier_reward(nxt)
                    steps_left = self.max_steps - t - 1
                    if self.rollouts and self.lambda_1 and steps_left > 0:
                        r = r + self.lambda_1 * self._rollout_reward(nxt, steps_left)
                    elif self.lambda_1:
                        r = r + self.lambda_1 * self.classifier_reward(nxt)  # last step: the graph is final
                    reward = torch.where(ok, r, torch.full_like(r, -self.lambda_2))
                    # variance reduction: compare with the other episodes of the batch
                    adv = reward - (reward.mean() if self.baseline else 0.0)
                loss = loss - (adv * logp).mean()
                rewards.append(float(reward.mean()))
                invalid.append(float((~ok).float().mean()))
                state = nxt
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.history.append({"target_prob": float(self.target_probability(state).mean()),
                                 "reward": sum(rewards) / len(rewards), "invalid": sum(invalid) / len(invalid)})
        self.policy.eval()
        return self.history

    @torch.no_grad()
    def generate(self, max_nodes: Optional[int] = None, max_steps: Optional[int] = None,
                 num_graphs: int = 1, greedy: bool = True) -> List:
        r"""Generate graphs with the trained policy, restricted to valid actions.

        Args:
            max_nodes: maximum size (default: the training one).
            max_steps: steps (default: ``max_nodes`` plus the training's ``max_steps -
                max_nodes``); generation stops early when no valid action is left.
            num_graphs: how many graphs.
            greedy: take the most probable action (deterministic) instead of sampling (the
                samples come from the explainer's seeded stream).

        Returns:
            A list of PyG ``Data`` with ``edge_index``, ``node_type``, ``x`` (the
            classifier's features) and ``prob``, the classifier's target probability.
        """
        self.policy.eval()
        max_nodes = max_nodes or self.max_nodes
        state = GraphState.start(num_graphs, max_nodes, self.start_type)
        if max_steps is None:  # as many steps as in training, relative to the size
            max_steps = max_nodes + self.max_steps - self.max_nodes
        for _ in range(max_steps):
            state = self._masked_step(state, max_nodes, greedy)
        probs = self.target_probability(state)
        graphs = []
        for b in range(num_graphs):
            g = state.graph(b)
            g.x = self.featurize(g.node_type, g.edge_index)
            g.prob = float(probs[b])
            graphs.append(g)
        return graphs
