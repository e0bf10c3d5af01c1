"""SubgraphX-style search: it finds a planted motif, its Shapley estimate is exact where it
enumerates, unbiased within its sampling error where it samples, and it keeps the Shapley axioms."""
from itertools import product
from math import factorial, sqrt

import pytest
import scipy.sparse as sp
import torch
from torch import nn
from torch_geometric.data import Data

from gnncourse import explain as E
from gnncourse import subgraphx as X
from gnncourse.metrics import roc_auc
from gnncourse.models import GNNExplainerPaperNet


def _closed_5_walks(x, edge_index, edge_weight):
    """``[N]`` weighted closed walks of length 5 through each node, over present nodes
    (``x[:, 0]`` is 1 for a present node, 0 for a zero-filled one)."""
    n = x.size(0)
    w = torch.ones(edge_index.size(1)) if edge_weight is None else edge_weight
    src, dst = edge_index
    val = (w * x[src, 0] * x[dst, 0]).double().numpy()
    A = sp.csr_matrix((val, (src.numpy(), dst.numpy())), shape=(n, n))
    A2 = A @ A
    A3 = A2 @ A
    return torch.tensor(A2.multiply(A3.T).sum(1)).flatten().float()


class OddCycleNode(nn.Module):
    """Class 1 iff the node lies on a present odd cycle of length 5: in a graph whose only odd
    cycle is a planted 5-cycle, closed 5-walks through v exist only on that cycle (2 per node,
    one per direction), so the prediction depends on the five cycle nodes and nothing else."""

    def forward(self, x, edge_index, edge_weight=None):
        c = _closed_5_walks(x, edge_index, edge_weight)
        return torch.stack([torch.zeros_like(c), 4 * c - 2], 1)


class OddCycleGraph(nn.Module):
    """The same test for a whole graph: class 1 iff it holds a present 5-cycle."""

    def forward(self, x, edge_index, batch, edge_weight=None):
        c = _closed_5_walks(x, edge_index, edge_weight)
        s = torch.zeros(int(batch.max()) + 1).index_add_(0, batch, c)
        return torch.stack([torch.zeros_like(s), s - 2], 1)


def _cycle_and_trees(num_tree: int = 20, seed: int = 0):
    """A 5-cycle 0..4 with a random forest of ``num_tree`` nodes hanging from it: the cycle is
    the graph's only odd cycle (the rest is a tree)."""
    g = torch.Generator().manual_seed(seed)
    und = [(i, (i + 1) % 5) for i in range(5)]
    for k in range(5, 5 + num_tree):
        und.append((int(torch.randint(0, k, (1,), generator=g)), k))
    ei = torch.tensor(und + [(v, u) for u, v in und]).t()
    return torch.ones(5 + num_tree, 1), ei


def test_the_search_finds_the_planted_cycle_for_a_node():
    x, ei = _cycle_and_trees(num_tree=14)
    model = OddCycleNode()
    nodes = torch.tensor([0, 2])
    sg = E.computation_subgraphs(ei, nodes, 3, x.size(0))
    assert int(sg.edge_counts().min()) > 10  # more than the cycle to choose from
    assert torch.allclose(sg.logits(model, x[sg.nodes], None), model(x, ei)[nodes])
    res = X.subgraphx(model, x, sg, torch.tensor([1, 1]), min_nodes=5, rollouts=6, samples=50,
                      generator=torch.Generator().manual_seed(0))
    for b in range(2):
        assert sorted(res.nodes[b].tolist()) == [0, 1, 2, 3, 4]
        on_cycle = (sg.edge_id[sg.edge_batch == b] < 5) | (
            (sg.edge_id[sg.edge_batch == b] >= ei.size(1) // 2) & (sg.edge_id[sg.edge_batch == b] < ei.size(1) // 2 + 5))
        assert roc_auc(sg.select(res.edge_scores, b), on_cycle) == 1.0
    # the subgraph is worth almost the whole probability gap: p(cycle) - p(no cycle)
    gap = torch.sigmoid(torch.tensor(6.0)) - torch.sigmoid(torch.tensor(-2.0))
    assert torch.allclose(res.shapley, gap.expand(2), atol=1e-4)


def test_the_search_finds_the_planted_cycle_in_a_graph():
    x, ei = _cycle_and_trees(num_tree=12, seed=1)
    gu = E.GraphUnion.from_graphs([Data(x=x, edge_index=ei)])
    res = X.subgraphx(OddCycleGraph(), gu.x, gu, [1], min_nodes=5, rollouts=6, samples=50, radius=5,
                      generator=torch.Generator().manual_seed(0))
    assert sorted(res.nodes[0].tolist()) == [0, 1, 2, 3, 4]


def _brute_force(value, players, S):
    """Exact Shapley value of the coalition ``S`` (one player) among ``players`` and the
    standard deviation of one sampled marginal contribution (a random order's)."""
    m = len(players)
    terms = []
    for bits in product([False, True], repeat=m):
        C = [p for p, b in zip(players, bits) if b]
        k = len(C)
        weight = factorial(k) * factorial(m - k) / factorial(m + 1)
        terms.append((weight, value(C + list(S)) - value(C)))
    phi = sum(w * d for w, d in terms)
    sd = sqrt(sum(w * (d - phi) ** 2 for w, d in terms))
    return phi, sd


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = GNNExplainerPaperNet(3, 3).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _ring_with_tail():
    # a 6-cycle 0..5 with a tail 5-6-7: the computation subgraph of node 0 within 3 hops
    und = [(i, (i + 1) % 6) for i in range(6)] + [(5, 6), (6, 7)]
    ei = torch.tensor(und + [(v, u) for u, v in und]).t()
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    return x, ei


def test_shapley_of_a_node_subgraph_is_exact_when_enumerated(net):
    x, ei = _ring_with_tail()
    sg = E.computation_subgraphs(ei, [0], 3, 8)
    target = int(net(x, ei)[0].argmax())
    S = [0, 1]
    keep = torch.isin(sg.nodes, torch.tensor(S))
    region = sg.nodes.tolist()  # radius 3 covers the whole computation subgraph
    players = [v for v in region if v not in S]

    def value(C):  # the model on the original graph, nodes of the region outside C zero-filled
        xm = x.clone()
        for v in region:
            if v not in C and v != 0:  # the explained node is always present
                xm[v] = 0
        return float(net(xm, ei)[0].softmax(-1)[target])

    phi, _ = _brute_force(value, players, S)
    got = X.subgraph_shapley(net, x, sg, [target], keep, samples=2 ** len(players))
    assert got.shape == (1,)
    assert abs(float(got[0]) - phi) < 1e-5


def test_sampled_shapley_is_within_its_sampling_error():
    # an 11-node graph: one node against 10 others, 1024 coalitions; 1000 sampled orders
    und = [(i, i + 1) for i in range(10)] + [(0, 6), (3, 9), (2, 8)]
    ei = torch.tensor(und + [(v, u) for u, v in und]).t()
    n = 11
    x = torch.randn(n, 3, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(3)
    model = SumPool(GNNExplainerPaperNet(3, 2).eval())
    gu = E.GraphUnion.from_graphs([Data(x=x, edge_index=ei)])
    with torch.no_grad():
        target = int(model(x, ei, torch.zeros(n, dtype=torch.long)).argmax())
        # every coalition's value in one pass over 2^11 masked copies of the graph
        masks = torch.tensor(list(product([0.0, 1.0], repeat=n)))  # [2^n, n], row = bits of nodes 0..n-1
        K = masks.size(0)
        big_x = (x.unsqueeze(0) * masks.unsqueeze(-1)).reshape(K * n, 3)
        big_ei = (ei.unsqueeze(1) + (torch.arange(K) * n).view(1, K, 1)).reshape(2, -1)
        p = model(big_x, big_ei, torch.arange(K).repeat_interleave(n)).softmax(-1)[:, target]
    index = {tuple(int(b) for b in row.tolist()): i for i, row in enumerate(masks)}

    def value(C):
        return float(p[index[tuple(int(v in C) for v in range(n))]])

    phi, sd = _brute_force(value, list(range(1, n)), [0])
    T = 1000
    est = X.subgraph_shapley(model, gu.x, gu, [target], torch.arange(n) == 0, radius=n, samples=T,
                             generator=torch.Generator().manual_seed(0))
    assert sd > 0  # the estimate really is random
    assert abs(float(est[0]) - phi) <= 4 * sd / sqrt(T), (float(est[0]), phi, sd)
    # with samples >= 2^10 the same call enumerates and is exact
    exact = X.subgraph_shapley(model, gu.x, gu, [target], torch.arange(n) == 0, radius=n, samples=1024)
    assert abs(float(exact[0]) - phi) < 1e-5


class SumPool(nn.Module):
    """A graph classifier on a GNN's node logits (sum readout)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x, edge_index, batch, edge_weight=None):
        out = self.inner(x, edge_index, edge_weight)
        return torch.zeros(int(batch.max()) + 1, out.size(1)).index_add_(0, batch, out)


@pytest.mark.parametrize("removal", X.REMOVALS)
def test_efficiency_symmetry_and_null_player(net, removal):
    model = SumPool(net)
    # a 5-cycle with constant features: every node looks the same (symmetry)
    und = [(i, (i + 1) % 5) for i in range(5)]
    ei = torch.tensor(und + [(v, u) for u, v in und]).t()
    x = torch.ones(5, 3)
    gu = E.GraphUnion.from_graphs([Data(x=x, edge_index=ei)])
    phis = torch.cat([X.subgraph_shapley(model, gu.x, gu, [1], torch.arange(5) == i, radius=5, removal=removal)
                      for i in range(5)])
    assert torch.allclose(phis, phis[0].expand(5), atol=1e-6)  # symmetry
    with torch.no_grad():
        full = model(x, ei, torch.zeros(5, dtype=torch.long)).softmax(-1)[0, 1]
        if removal == "zero_features":
            empty = model(torch.zeros_like(x), ei, torch.zeros(5, dtype=torch.long)).softmax(-1)[0, 1]
        else:
            empty = model(x, ei[:, :0], torch.zeros(5, dtype=torch.long)).softmax(-1)[0, 1]
    assert abs(float(phis.sum()) - float(full - empty)) < 1e-5  # efficiency
    # a null player: a node that changes nothing when removed (zero features / no edges)
    und2 = und + [(0, 5)] if removal == "zero_features" else und
    ei2 = torch.tensor(und2 + [(v, u) for u, v in und2]).t()
    x2 = torch.cat([x, torch.zeros(1, 3) if removal == "zero_features" else torch.ones(1, 3)])
    gu2 = E.GraphUnion.from_graphs([Data(x=x2, edge_index=ei2, num_nodes=6)])
    null = X.subgraph_shapley(model, gu2.x, gu2, [1], torch.arange(6) == 5, radius=5, removal=removal)
    assert abs(float(null[0])) < 1e-6


def test_registered_and_reproducible(net):
    x, ei = _ring_with_tail()
    sg = E.computation_subgraphs(ei, [0, 7], 3, 8)
    target = net(x, ei).argmax(-1)[[0, 7]]
    fn = E.get_explainer("subgraphx")
    a = fn(net, x, sg, target, generator=torch.Generator().manual_seed(0), min_nodes=3, rollouts=4, samples=20)
    b = fn(net, x, sg, target, generator=torch.Generator().manual_seed(0), min_nodes=3, rollouts=4, samples=20)
    assert a.shape == (sg.edge_index.size(1),) and torch.equal(a, b)
    res = X.subgraphx(net, x, sg, target, min_nodes=3, max_nodes=4, rollouts=4, samples=20,
                      generator=torch.Generator().manual_seed(0))
    for b_ in range(2):  # the chosen subgraph: small, connected to the explained node, top-scored
        chosen = res.nodes[b_]
        assert 1 <= chosen.numel() <= 4 and int(sg.node_idx[b_]) in chosen.tolist()
        s = sg.select(res.edge_scores, b_)
        e = sg.edge_index[:, sg.edge_batch == b_]
        inside = torch.isin(sg.nodes[e[0]], chosen) & torch.isin(sg.nodes[e[1]], chosen)
        if inside.any():
            assert torch.allclose(s[inside], res.shapley[b_].expand(int(inside.sum())))
            assert float(s.max()) == pytest.approx(float(res.shapley[b_]))
    assert (res.explored > 0).all() and res.passes > 0


def test_bad_input_gets_clear_errors(net):
    x, ei = _ring_with_tail()
    sg = E.computation_subgraphs(ei, [0], 3, 8)
    t = [0]
    with pytest.raises(ValueError, match="ComputationSubgraphs"):
        X.subgraphx(net, x, ei, t)
    with pytest.raises(ValueError, match="one class per explanation"):
        X.subgraphx(net, x, sg, [0, 1])
    with pytest.raises(ValueError, match="predicts 3 classes"):
        X.subgraphx(net, x, sg, [5])
    for bad in (dict(rollouts=0), dict(min_nodes=0), dict(samples=0), dict(expand=0), dict(radius=-1),
                dict(rollouts=2.5)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            X.subgraphx(net, x, sg, t, **bad)
    with pytest.raises(ValueError, match="max_nodes must be an int >= 5"):
        X.subgraphx(net, x, sg, t, min_nodes=5, max_nodes=3)
    with pytest.raises(ValueError, match="removal must be one of"):
        X.subgraphx(net, x, sg, t, removal="mean")
    with pytest.raises(ValueError, match="c_puct"):
        X.subgraphx(net, x, sg, t, c_puct=-1)
    with pytest.raises(ValueError, match="one entry per node"):
        X.subgraph_shapley(net, x, sg, t, torch.ones(3, dtype=torch.bool))
