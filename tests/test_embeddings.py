"""Tests for gnncourse.embeddings: walk windows, the skip-gram loss, DeepWalk and node2vec."""
import math

import pytest
import torch

from gnncourse.embeddings import SkipGram, deepwalk, fit_skipgram, node2vec, train_skipgram, walk_pairs
from gnncourse.embeddings import negative_distribution
from gnncourse.walks import random_walks, to_csr


def two_cliques(k=8, copies=2):
    """``copies`` disjoint k-cliques: nodes 0..k-1, k..2k-1, ..."""
    a = torch.combinations(torch.arange(k)).t()
    e = torch.cat([a + i * k for i in range(copies)], dim=1)
    return torch.cat([e, e.flip(0)], dim=1), copies * k


def test_walk_pairs_hand_computed():
    walks = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    pairs = walk_pairs(walks, 2)
    got = sorted(map(tuple, pairs.t().tolist()))
    want = sorted([(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7)])
    assert got == want
    assert walk_pairs(walks, 10).size(1) == 2 * (3 + 2 + 1)  # the window is cut at the walk's end
    assert walk_pairs(torch.tensor([[3]]), 2).shape == (2, 0)


def test_skipgram_loss_matches_formula():
    g = torch.Generator().manual_seed(0)
    model = SkipGram(10, 4, generator=g)
    pos = torch.tensor([[0, 3, 5], [1, 4, 9]])
    neg = torch.tensor([[2, 7], [8, 8], [0, 6]])
    Z = model().detach()
    total = 0.0
    for i in range(3):
        u, v = int(pos[0, i]), int(pos[1, i])
        term = -math.log(1 / (1 + math.exp(-float(Z[u] @ Z[v]))))
        for n in neg[i].tolist():
            term -= math.log(1 / (1 + math.exp(float(Z[u] @ Z[n]))))
        total += term
    assert math.isclose(model.loss(pos, neg).item(), total / 3, rel_tol=1e-5)
    assert torch.allclose(model.score(pos[0], pos[1]), (Z[pos[0]] * Z[pos[1]]).sum(-1))
    assert model(torch.tensor([2, 5])).shape == (2, 4)
    assert repr(model) == "SkipGram(\n  num_nodes=10, embedding_dim=4\n  (embedding): Embedding(10, 4)\n)"


def testnegative_distribution():
    walks = torch.tensor([[0, 0, 0, 1], [0, 1, 1, 2]])  # counts 4, 3, 1, 0
    uni = negative_distribution(walks, 4, 0.0)
    assert torch.allclose(uni, torch.full((4,), 0.25, dtype=torch.float64))
    lin = negative_distribution(walks, 4, 1.0)
    assert torch.allclose(lin, torch.tensor([4, 3, 1, 0], dtype=torch.float64) / 8)
    pw = negative_distribution(walks, 4, 0.75)
    assert pw[3] == 0 and torch.isclose(pw[0] / pw[2], torch.tensor(4.0, dtype=torch.float64) ** 0.75)


def test_loss_decreases():
    edge_index, n = two_cliques(6, copies=4)
    rowptr, col = to_csr(edge_index, n)
    g = torch.Generator().manual_seed(0)
    walks = random_walks(rowptr, col, torch.arange(n).repeat(20), 10, generator=g)
    model = SkipGram(n, 8, generator=g)
    pos = walk_pairs(walks, 3)
    neg = torch.randint(0, n, (pos.size(1), 2), generator=g)
    with torch.no_grad():
        before = model.loss(pos, neg).item()
    history = fit_skipgram(model, walks, window_size=3, num_negatives=2, epochs=4, lr=0.05, batch_size=32,
                           negative_power=0.0, generator=g)
    with torch.no_grad():
        after = model.loss(pos, neg).item()
    loss = history["loss"]
    assert len(loss) == 4
    assert after < 0.9 * before and loss[-1] < loss[0], (before, after, loss)


@pytest.mark.parametrize("sparse", [False, True])
def test_two_disconnected_cliques_separate(sparse):
    edge_index, n = two_cliques()
    rowptr, col = to_csr(edge_index, n)
    g = torch.Generator().manual_seed(1)
    walks = random_walks(rowptr, col, torch.arange(n).repeat(20), 10, generator=g)
    model = SkipGram(n, 16, sparse=sparse, generator=g)
    fit_skipgram(model, walks, window_size=3, epochs=5, lr=0.1, batch_size=64, generator=g)
    Z = torch.nn.functional.normalize(model().detach(), dim=1)
    sim = Z @ Z.t()
    same = torch.zeros(n, n, dtype=torch.bool)
    same[:8, :8] = same[8:, 8:] = True
    off_diag = ~torch.eye(n, dtype=torch.bool)
    within, between = sim[same & off_diag].mean(), sim[~same].mean()
    assert within > 0.5 and between < 0.0, (within, between)
    # every node's most similar other node lies in its own clique
    nearest = sim.masked_fill(~off_diag, -2).argmax(1)
    assert ((nearest < 8) == (torch.arange(n) < 8)).all()


def test_deepwalk_and_node2vec_are_deterministic_with_a_seed():
    edge_index, n = two_cliques(5)
    kw = dict(embedding_dim=8, walk_length=6, walks_per_node=4, window_size=2, epochs=2)
    a = deepwalk(edge_index, n, seed=3, **kw)
    b = deepwalk(edge_index, n, seed=3, **kw)
    c = deepwalk(edge_index, n, seed=4, **kw)
    assert a.shape == (n, 8) and not a.requires_grad
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(node2vec(edge_index, n, p=1.0, q=1.0, seed=3, **kw), a)  # DeepWalk = node2vec(1, 1)
    d = node2vec(edge_index, n, p=0.5, q=2.0, seed=3, **kw)
    assert torch.equal(d, node2vec(edge_index, n, p=0.5, q=2.0, seed=3, **kw)) and not torch.equal(d, a)


def test_train_skipgram_shape_and_generator():
    walks = torch.tensor([[0, 1, 2, 1], [2, 1, 0, 1]])
    Z1 = train_skipgram(walks, 4, embedding_dim=3, window_size=2, generator=torch.Generator().manual_seed(0))
    Z2 = train_skipgram(walks, 4, embedding_dim=3, window_size=2, generator=torch.Generator().manual_seed(0))
    assert Z1.shape == (4, 3) and torch.equal(Z1, Z2)


def test_embeddings_input_validation():
    edge_index, n = two_cliques(4)
    walks = torch.tensor([[0, 1, 2]])
    with pytest.raises(ValueError, match="window_size"):
        walk_pairs(walks, 0)
    with pytest.raises(ValueError, match="walks must be"):
        walk_pairs(walks[0], 2)
    with pytest.raises(ValueError, match="num_nodes"):
        SkipGram(0, 4)
    with pytest.raises(ValueError, match="embedding_dim"):
        SkipGram(4, 2.5)
    with pytest.raises(ValueError, match="only 2 rows"):
        fit_skipgram(SkipGram(2, 4), walks)
    with pytest.raises(ValueError, match="epochs"):
        fit_skipgram(SkipGram(4, 4), walks, epochs=0)
    with pytest.raises(ValueError, match="lr"):
        fit_skipgram(SkipGram(4, 4), walks, lr=-1.0)
    with pytest.raises(ValueError, match="model must be"):
        fit_skipgram(torch.nn.Embedding(4, 4), walks)
    with pytest.raises(ValueError, match="walks_per_node"):
        deepwalk(edge_index, n, walks_per_node=0)
    with pytest.raises(ValueError, match="node2vec"):
        deepwalk(edge_index, n, p=2.0)
    with pytest.raises(ValueError, match="only 3 nodes"):
        deepwalk(edge_index, 3)
    with pytest.raises(ValueError, match="p must be"):
        node2vec(edge_index, n, p=0.0)
    with pytest.raises(ValueError, match="seed="):
        node2vec(edge_index, n, generator=torch.Generator())


def test_diverging_skipgram_stops_with_a_clear_error(ring):
    g = ring(30)
    from gnncourse import train, utils
    with pytest.raises(train.NonFiniteLossError, match="smaller learning rate"):
        deepwalk(g.edge_index, g.num_nodes, embedding_dim=8, walk_length=5, walks_per_node=10, lr=1e30, seed=0)
    assert train.NonFiniteLossError is utils.NonFiniteLossError   # one class, importable from both


def test_linear_probe_chooses_C_on_validation_and_names_missing_masks():
    from torch_geometric.data import Data

    from gnncourse.embeddings import linear_probe
    g = torch.Generator().manual_seed(0)
    y = torch.arange(60) % 3
    z = torch.nn.functional.one_hot(y, 3).float() + 0.3 * torch.randn(60, 3, generator=g)
    m = torch.arange(60)
    d = Data(y=y, train_mask=m < 30, val_mask=(m >= 30) & (m < 45), test_mask=m >= 45)
    clf, acc = linear_probe(z, d, Cs=(0.01, 1.0))
    assert acc > 0.9 and clf.C in (0.01, 1.0)
    assert linear_probe(z * 1000, d, standardize=True)[1] == linear_probe(z, d, standardize=True)[1]
    with pytest.raises(ValueError, match="val_mask"):
        linear_probe(z, Data(y=y, train_mask=m < 30, test_mask=m >= 45))
    with pytest.raises(ValueError, match="one row per node"):
        linear_probe(z[:10], d)
