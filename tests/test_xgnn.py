"""Tests for gnncourse.xgnn: graph rules, the dense GCN, the environment and the RL loop."""
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv

from gnncourse.graph_classification import GraphClassifier, degree_features
from gnncourse.data import MUTAG_VALENCY
from gnncourse.xgnn import (
    XGNN,
    DenseGCNLayer,
    GraphGenerator,
    GraphState,
    apply_actions,
    degree_featurizer,
    dense_gcn_norm,
    one_hot_featurizer,
    rule_violations,
    state_to_batch,
    valid_actions,
)

ATOMS = ["C", "N", "O", "F", "I", "Cl", "Br"]


from test_graph_classification import _one_thread  # noqa: F401  (autouse: one torch thread)


def _und(pairs):
    e = torch.tensor(pairs, dtype=torch.long).t()
    return torch.cat([e, e.flip(0)], 1)


# ---------------------------------------------------------------- graph rules


def test_rules_accept_a_valid_molecule():
    # nitro group on a carbon: C-N, N-O, N-O
    ei = _und([(0, 1), (1, 2), (1, 3)])
    types = torch.tensor([0, 1, 2, 2])
    assert rule_violations(ei, 4, types, MUTAG_VALENCY, ATOMS) == []


def test_rules_catch_each_violation():
    assert any("self-loop" in p for p in rule_violations(torch.tensor([[0, 0, 1], [0, 1, 0]]), 2))
    dup = torch.cat([_und([(0, 1)]), _und([(0, 1)])], 1)
    assert "duplicate edge(s)" in rule_violations(dup, 2)
    assert any("not undirected" in p for p in rule_violations(torch.tensor([[0], [1]]), 2))
    assert any("not connected" in p for p in rule_violations(_und([(0, 1), (2, 3)]), 4))
    # five bonds on a carbon, two on a chlorine
    ei = _und([(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (5, 6)])
    types = torch.tensor([0, 0, 0, 0, 0, 5, 0])
    problems = rule_violations(ei, 7, types, MUTAG_VALENCY, ATOMS)
    assert problems == ["valency: node 0 (C) has 5 bonds > 4", "valency: node 5 (Cl) has 2 bonds > 1"]
    with pytest.raises(ValueError, match="node_type"):
        rule_violations(ei, 7, None, MUTAG_VALENCY)


# ---------------------------------------------------------------- dense GCN policy


def test_dense_gcn_layer_matches_pyg_gcnconv():
    torch.manual_seed(0)
    ei = _und([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)])
    x = torch.randn(4, 3)
    ref = GCNConv(3, 5)
    torch.nn.init.normal_(ref.bias)
    mine = DenseGCNLayer(3, 5)
    mine.lin.weight.data.copy_(ref.lin.weight.data)
    mine.bias.data.copy_(ref.bias.data)
    adj = torch.zeros(1, 4, 4)
    adj[0, ei[0], ei[1]] = 1
    assert torch.allclose(mine(x[None], dense_gcn_norm(adj))[0], ref(x, ei), atol=1e-5)


def test_dense_gcn_norm_by_hand():
    adj = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # one edge: degrees with self-loops are 2
    assert torch.allclose(dense_gcn_norm(adj), torch.full((2, 2), 0.5))


def test_padding_slots_do_not_change_the_policy():
    torch.manual_seed(0)
    pol = GraphGenerator(3)
    small = GraphState.start(1, 3, 0)
    small = apply_actions(small, torch.tensor([0]), torch.tensor([3 + 1]), torch.tensor([True]))
    big = GraphState.start(1, 6, 0)
    big = apply_actions(big, torch.tensor([0]), torch.tensor([6 + 1]), torch.tensor([True]))
    hs, hb = pol.embed(small), pol.embed(big)
    assert torch.allclose(hs[0, :2], hb[0, :2], atol=1e-6)  # the two real nodes
    assert torch.allclose(hs[0, 3:], hb[0, 6:], atol=1e-6)  # the candidates
    es = pol.end_logits(hs, torch.tensor([0]), small)
    eb = pol.end_logits(hb, torch.tensor([0]), big)
    assert torch.allclose(es[0, :2], eb[0, :2], atol=1e-6) and torch.allclose(es[0, 3:], eb[0, 6:], atol=1e-6)


# ---------------------------------------------------------------- environment


def test_actions_add_nodes_and_edges_and_roll_back_invalid_ones():
    M = 4  # 7 node types: candidates M..M+6
    s = GraphState.start(2, M, start_type=0)  # two graphs, one carbon each
    s = apply_actions(s, torch.tensor([0, 0]), torch.tensor([M + 1, M + 2]), torch.tensor([True, False]))
    assert s.num_nodes.tolist() == [2, 1]  # graph 1's step was invalid: rolled back
    assert s.types[0, 1] == 1 and s.adj[0, 0, 1] and s.adj[0, 1, 0] and not s.adj[1].any()
    g = s.graph(0)
    assert g.num_nodes == 2 and g.edge_index.tolist() == [[0, 1], [1, 0]] and g.node_type.tolist() == [0, 1]


def test_valid_actions_enforce_duplicates_size_and_valency():
    M = 3
    val = torch.tensor(MUTAG_VALENCY)
    s = GraphState.start(1, M, 0)
    s = apply_actions(s, torch.tensor([0]), torch.tensor([M + 5]), torch.tensor([True]))  # C-Cl
    v = valid_actions(s, M, val)[0]  # [M, M + K]
    assert not v[0, 1] and not v[1, 0]  # duplicate edge
    assert not v[1].any()  # Cl is full (valency 1)
    assert v[0, M:].all()  # the carbon can take a new atom of any type
    s = apply_actions(s, torch.tensor([0]), torch.tensor([M + 0]), torch.tensor([True]))  # C-Cl, C-C
    v = valid_actions(s, M, val)[0]
    assert not v[:, M:].any()  # the graph is at its maximum size
    assert not v.any()  # C0-C2 exists already, Cl is full: no valid action left


def test_state_to_batch_matches_the_graphs():
    M = 4
    s = GraphState.start(2, M, 0)
    s = apply_actions(s, torch.tensor([0, 0]), torch.tensor([M, M + 2]), torch.tensor([True, True]))
    s = apply_actions(s, torch.tensor([1, 0]), torch.tensor([M + 1, M + 2]), torch.tensor([True, True]))
    x, ei, batch = state_to_batch(s, one_hot_featurizer(7))
    assert batch.tolist() == [0, 0, 0, 1, 1, 1]
    assert x.argmax(1).tolist() == [0, 0, 1, 0, 2, 2]
    assert sorted(map(tuple, ei.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (3, 5), (4, 3), (5, 3)]
    xd, _, _ = state_to_batch(s, degree_featurizer(4))
    assert torch.equal(xd, degree_features(ei, 6, 4))


# ---------------------------------------------------------------- RL


class _CountClassifier(torch.nn.Module):
    """A transparent 'classifier': the logit of class 1 grows with the number of type-1 nodes."""

    def forward(self, x, edge_index, batch):
        n1 = torch.zeros(int(batch.max()) + 1).index_add_(0, batch, x[:, 1])
        return torch.stack([torch.zeros_like(n1), 2.0 * n1 - 3.0], 1)


def test_training_raises_the_target_probability_and_keeps_the_rules():
    torch.manual_seed(0)
    x = XGNN(_CountClassifier(), target_class=1, num_node_types=3, featurize=one_hot_featurizer(3),
             max_nodes=5, valency=[4, 2, 1], rollouts=2, lr=0.05, seed=0)
    before = sum(g.prob for g in x.generate(num_graphs=16, greedy=False)) / 16
    h = x.train(iterations=25, batch_size=8, desc=None)
    after = sum(g.prob for g in x.generate(num_graphs=16, greedy=False)) / 16
    assert len(h["target_prob"]) == 25
    assert after > before + 0.2
    assert sum(h["invalid"][-5:]) < sum(h["invalid"][:5])
    best = x.generate()[0]
    assert int((best.node_type == 1).sum()) >= 2
    for g in x.generate(num_graphs=8, greedy=False) + x.generate(max_nodes=3):
        assert rule_violations(g.edge_index, g.num_nodes, g.node_type, [4, 2, 1]) == []


def test_xgnn_is_reproducible_with_a_seed_and_checks_its_arguments():
    clf = GraphClassifier(11, 8, 2)
    runs = []
    for _ in range(2):
        x = XGNN(clf, 0, 1, degree_featurizer(10), max_nodes=4, rollouts=1, seed=3)
        h = x.train(iterations=3, batch_size=4, desc=None)
        runs.append((h["reward"], [g.edge_index.tolist() for g in x.generate(num_graphs=3, greedy=False)]))
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="valency"):
        XGNN(clf, 0, 2, degree_featurizer(10), max_nodes=4, valency=[1])
    with pytest.raises(ValueError, match="max_nodes"):
        XGNN(clf, 0, 1, degree_featurizer(10), max_nodes=1)
    with pytest.raises(ValueError, match="start_type"):
        XGNN(clf, 0, 1, degree_featurizer(10), max_nodes=4, start_type=1)


def test_classifier_reward_is_target_probability_minus_chance():
    x = XGNN(_CountClassifier(), target_class=1, num_node_types=3, featurize=one_hot_featurizer(3), max_nodes=4)
    s = GraphState.start(2, 4, 0)
    s = apply_actions(s, torch.tensor([0, 0]), torch.tensor([4 + 1, 4 + 2]), torch.tensor([True, True]))
    # graph 0 holds one type-1 node: logits (0, -1); graph 1 none: logits (0, -3)
    expected = torch.stack([F.softmax(torch.tensor([0.0, -1.0]), 0)[1], F.softmax(torch.tensor([0.0, -3.0]), 0)[1]]) - 0.5
    assert torch.allclose(x.classifier_reward(s), expected)
