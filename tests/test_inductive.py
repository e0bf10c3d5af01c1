"""Tests for the inductive helpers: views without unseen nodes, the graph family, the
growing graph whose new nodes are embedded on arrival."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from gnncourse.inductive import GraphFamily, GrowingGraph, inductive_views
from gnncourse.models import MeanAggregationGNN


def small_graph():
    # 0-1-2-3-4-5 path plus edge 1-4; train {0, 1}, val {2}, test {4}; 3 and 5 unlabelled
    ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 1, 4], [1, 0, 2, 1, 3, 2, 4, 3, 5, 4, 4, 1]])
    mask = lambda ids: torch.zeros(6, dtype=torch.bool).index_fill_(0, torch.tensor(ids), True)
    return Data(x=torch.arange(6.0).view(6, 1), edge_index=ei, y=torch.arange(6),
                train_mask=mask([0, 1]), val_mask=mask([2]), test_mask=mask([4]))


def test_inductive_views_remove_unseen_nodes_and_their_edges():
    data = small_graph()
    train, val, test = inductive_views(data)
    assert train.n_id.tolist() == [0, 1, 3, 5]
    assert torch.equal(train.x.flatten(), torch.tensor([0.0, 1, 3, 5]))
    # only edge among {0, 1, 3, 5} is 0-1
    assert sorted(map(tuple, train.n_id[train.edge_index].t().tolist())) == [(0, 1), (1, 0)]
    assert train.train_mask.sum() == 2 and not train.val_mask.any() and not train.test_mask.any()
    assert val.n_id.tolist() == [0, 1, 2, 3, 5] and val.val_mask.sum() == 1
    assert sorted(map(tuple, val.n_id[val.edge_index].t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
    assert test.num_nodes == 6 and test.edge_index.size(1) == 12


def test_inductive_views_reject_overlapping_masks():
    data = small_graph()
    data.val_mask[0] = True
    with pytest.raises(ValueError, match="overlaps"):
        inductive_views(data)
    del data.test_mask
    with pytest.raises(ValueError, match="test_mask"):
        inductive_views(data)


def test_graph_family_is_seeded_and_has_the_promised_statistics():
    fam = GraphFamily(avg_degree=10, homophily=0.6)
    a, a2, b = fam.sample(4000, seed=1), fam.sample(4000, seed=1), fam.sample(4000, seed=2)
    assert torch.equal(a.edge_index, a2.edge_index) and torch.equal(a.x, a2.x)
    assert not torch.equal(a.y, b.y)
    ei = a.edge_index
    assert bool((ei[0] != ei[1]).all())  # no self-loops
    assert set(map(tuple, ei.t().tolist())) == set(map(tuple, ei.flip(0).t().tolist()))  # undirected
    assert torch.unique(ei[0] * 4000 + ei[1]).numel() == ei.size(1)  # no duplicates
    assert 9.0 < ei.size(1) / 4000 < 11.0  # mean degree about avg_degree
    same = (a.y[ei[0]] == a.y[ei[1]]).float().mean()
    assert 0.6 < same < 0.75  # h + (1 - h) / C = 0.7 of edge stubs land in the own class
    deg = torch.bincount(ei[0], minlength=4000).float()
    means = [deg[a.y == c].mean() for c in range(4)]
    assert means == sorted(means)  # degrees grow with the class index
    # features: class means shared by the family (same family_seed), independent of the draw
    mu_a = torch.stack([a.x[a.y == c].mean(0) for c in range(4)])
    mu_b = torch.stack([b.x[b.y == c].mean(0) for c in range(4)])
    torch.testing.assert_close(mu_a, fam.feature_signal * fam.class_means(), atol=0.12, rtol=0)
    torch.testing.assert_close(mu_a, mu_b, atol=0.15, rtol=0)
    assert not (a.train_mask & a.test_mask).any() and int(a.train_mask.sum()) == 2000


def test_graph_family_rejects_bad_parameters():
    with pytest.raises(ValueError, match="homophily"):
        GraphFamily(homophily=1.5)
    with pytest.raises(ValueError, match="split"):
        GraphFamily().sample(10, seed=0, split=(0.8, 0.3, 0.0))


def test_growing_graph_embeds_new_nodes_like_the_full_graph():
    torch.manual_seed(0)
    data = GraphFamily().sample(300, seed=3)
    model = MeanAggregationGNN(16, 8, 4).eval()
    full = model(data.x, data.edge_index)
    # nodes 0..199 exist; 200..299 arrive in order, each with its links to nodes present
    keep = (data.edge_index < 200).all(0)
    graph = GrowingGraph(data.x[:200], data.edge_index[:, keep])
    adj = [set() for _ in range(300)]
    for u, v in data.edge_index.t().tolist():
        adj[u].add(v)
    for v in range(200, 300):
        assert graph.add_node(data.x[v], [u for u in adj[v] if u < v]) == v
        nodes, ei = graph.computation_graph(v, num_hops=2)
        assert nodes[0] == v
        # the 2-hop computation graph equals PyG's k_hop_subgraph on the graph so far
        present = (data.edge_index <= v).all(0)
        subset, _, _, _ = k_hop_subgraph(v, 2, data.edge_index[:, present], num_nodes=300)
        assert set(nodes.tolist()) == set(subset.tolist())
    # once every node has arrived, on-arrival embeddings of the last node match the full graph
    assert graph.num_nodes == 300
    for v in (250, 299):
        nodes, ei = graph.computation_graph(v, num_hops=2)
        torch.testing.assert_close(model(graph.x[nodes], ei)[0], full[v], rtol=1e-5, atol=1e-5)


def test_growing_graph_rejects_unknown_neighbours():
    graph = GrowingGraph(torch.zeros(3, 2), torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="not nodes"):
        graph.add_node(torch.zeros(2), [5])
    with pytest.raises(ValueError, match="feature vector"):
        graph.add_node(torch.zeros(3), [0])


def test_growing_graph_with_self_loops_matches_graph_with_self_loops():
    from torch_geometric.utils import add_self_loops
    torch.manual_seed(0)
    data = GraphFamily().sample(120, seed=4)
    ei = add_self_loops(data.edge_index, num_nodes=120)[0]
    model = MeanAggregationGNN(16, 8, 4).eval()
    full = model(data.x, ei)
    keep = (data.edge_index < 100).all(0)
    graph = GrowingGraph(data.x[:100], data.edge_index[:, keep], self_loops=True)
    for v in range(100, 120):
        graph.add_node(data.x[v], [u for u in data.edge_index[0, data.edge_index[1] == v].tolist() if u < v])
    for v in (0, 110, 119):
        nodes, sub = graph.computation_graph(v, num_hops=2)
        torch.testing.assert_close(model(graph.x[nodes], sub)[0], full[v], rtol=1e-5, atol=1e-5)
