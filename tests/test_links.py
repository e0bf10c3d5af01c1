import math

import pytest
import torch
import torch.nn.functional as F

from gnncourse.links import (
    dot_product_decoder,
    is_undirected,
    link_auc,
    link_prediction_step,
    link_reconstruction_loss,
    negative_sampling,
    split_edges,
    train_link_predictor,
    walk_cooccurrence_loss,
)


def random_undirected_graph(n: int, m: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u, v = torch.randint(0, n, (2, m), generator=g)
    keep = u != v
    u, v = u[keep], v[keep]
    return torch.stack([torch.cat([u, v]), torch.cat([v, u])])


def pair_set(edge_index, undirected=False):
    pairs = {tuple(p) for p in edge_index.t().tolist()}
    return {tuple(sorted(p)) for p in pairs} if undirected else pairs


@pytest.mark.parametrize("n, m, k", [(200, 600, 500), (12, 20, 30), (1000, 3000, 4000)])
@pytest.mark.parametrize("undirected", [False, True])
def test_negative_samples_are_distinct_non_edges(n, m, k, undirected):
    edge_index = random_undirected_graph(n, m)
    if not undirected:  # keep one direction of some edges so the graph is directed
        edge_index = edge_index[:, : edge_index.size(1) // 2 + 5]
    neg = negative_sampling(edge_index, n, k, undirected=undirected, generator=torch.Generator().manual_seed(1))
    assert neg.shape == (2, k) and neg.dtype == torch.long
    assert bool((neg[0] != neg[1]).all())
    assert len(pair_set(neg)) == k  # distinct
    edges = pair_set(edge_index)
    if undirected:
        assert bool((neg[0] < neg[1]).all())
        edges |= {(v, u) for u, v in edges}
    assert not (pair_set(neg) & edges)


def test_negative_sampling_is_seeded_and_covers_the_non_edges():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0 - 1 - 2, plus node 3
    a = negative_sampling(edge_index, 4, 4, undirected=True, generator=torch.Generator().manual_seed(0))
    b = negative_sampling(edge_index, 4, 4, undirected=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert pair_set(a) == {(0, 2), (0, 3), (1, 3), (2, 3)}  # every unordered non-edge, once
    with pytest.raises(ValueError, match="only 4 unordered node pairs"):
        negative_sampling(edge_index, 4, 5, undirected=True)
    # directed: 4 * 3 ordered pairs minus 4 edges
    assert negative_sampling(edge_index, 4, 8).shape == (2, 8)
    with pytest.raises(ValueError, match="only 8"):
        negative_sampling(edge_index, 4, 9)


def test_negative_sampling_rejects_bad_input():
    with pytest.raises(ValueError, match="shape \\[2, E\\]"):
        negative_sampling(torch.zeros(3, 2, dtype=torch.long), 4, 1)
    with pytest.raises(ValueError, match="only 3 nodes"):
        negative_sampling(torch.tensor([[0], [3]]), 3, 1)


def test_split_never_leaks_held_out_edges_into_the_training_graph():
    n = 300
    edge_index = random_undirected_graph(n, 1200, seed=3)
    split = split_edges(edge_index, n, 0.1, 0.2, generator=torch.Generator().manual_seed(0))
    assert split.undirected
    train_graph = pair_set(split.train_edge_index, undirected=True)
    held_out = pair_set(split.val_pos, undirected=True) | pair_set(split.test_pos, undirected=True)
    assert held_out and not (train_graph & held_out)  # neither direction reaches the encoder
    assert is_undirected(split.train_edge_index, n)  # training graph keeps both directions
    # the split partitions the unordered edges exactly
    all_edges = pair_set(edge_index, undirected=True)
    assert train_graph | held_out == all_edges
    assert len(train_graph) + len(held_out) == len(all_edges)
    assert pair_set(split.train_pos, undirected=True) == train_graph
    assert split.val_pos.size(1) == round(0.1 * len(all_edges))
    assert split.test_pos.size(1) == round(0.2 * len(all_edges))
    # negatives: as many as positives, non-edges of the full graph, val and test disjoint
    assert split.val_neg.shape == split.val_pos.shape and split.test_neg.shape == split.test_pos.shape
    neg_val, neg_test = pair_set(split.val_neg, True), pair_set(split.test_neg, True)
    assert not (neg_val & all_edges) and not (neg_test & all_edges) and not (neg_val & neg_test)


def test_split_directed_graph_and_reproducibility():
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 2], [1, 2, 3, 4, 5, 0, 3, 5]])
    assert not is_undirected(edge_index)
    s1 = split_edges(edge_index, 6, 0.25, 0.25, generator=torch.Generator().manual_seed(5))
    s2 = split_edges(edge_index, 6, 0.25, 0.25, generator=torch.Generator().manual_seed(5))
    assert not s1.undirected and torch.equal(s1.test_pos, s2.test_pos) and torch.equal(s1.val_neg, s2.val_neg)
    assert torch.equal(s1.train_edge_index, s1.train_pos)  # no reverse edges added
    assert not (pair_set(s1.train_edge_index) & (pair_set(s1.val_pos) | pair_set(s1.test_pos)))
    with pytest.raises(ValueError, match="sum below 1"):
        split_edges(edge_index, 6, 0.5, 0.5)


def test_decoder_loss_and_auc_by_hand():
    z = torch.tensor([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0]])
    pos = torch.tensor([[0], [1]])  # z0.z1 = 2
    neg = torch.tensor([[0, 1], [2, 2]])  # z0.z2 = 0, z1.z2 = -1
    assert torch.allclose(dot_product_decoder(z, torch.cat([pos, neg], 1)), torch.tensor([2.0, 0.0, -1.0]))
    sig = torch.sigmoid
    expected = -(torch.log(sig(torch.tensor(2.0))) + torch.log(1 - sig(torch.tensor(0.0)))
                 + torch.log(1 - sig(torch.tensor(-1.0)))) / 3
    assert link_reconstruction_loss(z, pos, neg).item() == pytest.approx(expected.item(), rel=1e-6)
    assert link_auc(z, pos, neg) == 1.0
    assert link_auc(z, neg[:, :1], torch.cat([pos, neg[:, 1:]], 1)) == pytest.approx(0.5)  # 0 vs {2, -1}


def test_link_auc_matches_sklearn_on_random_scores():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(50, 8, generator=g)
    pos, neg = torch.randint(0, 50, (2, 40), generator=g), torch.randint(0, 50, (2, 60), generator=g)
    s_pos = (z[pos[0]] * z[pos[1]]).sum(1)
    s_neg = (z[neg[0]] * z[neg[1]]).sum(1)
    # AUC = P(score of an edge > score of a non-edge), ties counting half
    greater = (s_pos[:, None] > s_neg[None, :]).double().mean() + 0.5 * (s_pos[:, None] == s_neg[None, :]).double().mean()
    assert link_auc(z, pos, neg) == pytest.approx(greater.item())


def test_training_on_a_community_graph_predicts_held_out_links():
    torch.manual_seed(0)
    n, k = 60, 6
    g = torch.Generator().manual_seed(0)
    block = torch.arange(n) % k
    u, v = torch.randint(0, n, (2, 1500), generator=g)
    keep = (block[u] == block[v]) & (u != v)
    edge_index = torch.stack([torch.cat([u[keep], v[keep]]), torch.cat([v[keep], u[keep]])])
    x = 0.5 * torch.randn(n, k, generator=g) + F.one_hot(block, k).float()
    split = split_edges(edge_index, n, 0.1, 0.2, generator=g)

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2 * k, 8)

        def forward(self, x, ei):
            deg = torch.bincount(ei[1], minlength=x.size(0)).clamp(min=1)[:, None]
            m = torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]]) / deg
            return self.lin(torch.cat([x, m], 1))

    enc = Encoder()
    step = link_prediction_step(x, split, generator=torch.Generator().manual_seed(0))
    assert step(enc).dim() == 0
    z = enc(x, split.train_edge_index)
    before = link_auc(z, split.test_pos, split.test_neg)
    history = train_link_predictor(enc, x, split, epochs=30, lr=0.05)
    assert history.monitor == "val_auc" and history["loss"][-1] < history["loss"][0]
    z = enc(x, split.train_edge_index)
    after = link_auc(z, split.test_pos, split.test_neg)
    assert after > 0.85 and after > before + 0.1


def test_walk_cooccurrence_loss_matches_skipgram_and_hand_formula():
    from gnncourse.embeddings import SkipGram

    g = torch.Generator().manual_seed(0)
    sg = SkipGram(20, 8, generator=g)
    pos = torch.randint(0, 20, (2, 30), generator=g)
    neg = torch.randint(0, 20, (30, 4), generator=g)
    z = sg()
    assert walk_cooccurrence_loss(z, pos, neg).item() == pytest.approx(sg.loss(pos, neg).item(), rel=1e-6)
    # one pair, one negative, by hand
    z = torch.tensor([[1.0, 0.0], [0.5, 0.5], [-1.0, 2.0]])
    expected = -math.log(1 / (1 + math.exp(-0.5))) - math.log(1 / (1 + math.exp(-1.0)))
    got = walk_cooccurrence_loss(z, torch.tensor([[0], [1]]), torch.tensor([[2]]))
    assert got.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match=r"\[P, k\]"):
        walk_cooccurrence_loss(z, torch.tensor([[0], [1]]), torch.tensor([2]))


def test_link_auc_names_diverged_embeddings_instead_of_failing_in_sklearn(ring):
    from gnncourse.links import link_auc
    z = torch.randn(8, 4)
    z[3] = float("nan")
    pos, neg = torch.tensor([[0, 3], [1, 4]]), torch.tensor([[0, 5], [6, 7]])
    with pytest.raises(ValueError, match="NaN or inf"):
        link_auc(z, pos, neg)
