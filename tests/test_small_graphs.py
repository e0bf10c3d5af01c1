"""Exhaustive enumeration of small typed graphs: counts against known sequences and an
independent brute force, validity, uniqueness, batching and scoring."""
from itertools import combinations, permutations, product

import networkx as nx
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data

from gnncourse.small_graphs import (
    MAX_ATLAS_NODES, SkeletonFamily, connected_skeletons, count_typed_graphs, family_batch, score_families,
    typed_graphs)
from gnncourse.xgnn import rule_violations


def brute_force_count(n, valency):
    """Every labelled graph on n nodes times every typing, deduplicated by trying all n!
    relabellings: independent of the atlas, the automorphisms and the canonical codes."""
    pairs = list(combinations(range(n), 2))
    seen = set()
    for mask in range(1 << len(pairs)):
        edges = [pairs[i] for i in range(len(pairs)) if mask >> i & 1]
        g = nx.Graph(edges)
        g.add_nodes_from(range(n))
        if not nx.is_connected(g):
            continue
        for types in product(range(len(valency)), repeat=n):
            if any(g.degree(v) > valency[types[v]] for v in range(n)):
                continue
            forms = []
            for p in permutations(range(n)):  # node v becomes p[v]
                t = [0] * n
                for v in range(n):
                    t[p[v]] = types[v]
                e = sorted(tuple(sorted((p[u], p[v]))) for u, v in edges)
                forms.append((tuple(t), tuple(e)))
            seen.add(min(forms))
    return len(seen)


@pytest.mark.parametrize("n,valency", [(1, [4, 3, 1]), (2, [4, 3, 1]), (3, [4, 3, 1]), (4, [3, 2, 1]),
                                       (4, [4, 2, 1]), (4, [1, 1]), (3, [0, 2])])
def test_counts_equal_an_independent_brute_force(n, valency):
    assert count_typed_graphs(n, valency) == brute_force_count(n, valency)


def test_known_counts():
    # connected graphs (OEIS A001349) and carbon-skeleton trees, the alkanes (OEIS A000602)
    assert [len(connected_skeletons(n)) for n in range(1, 8)] == [1, 1, 2, 6, 21, 112, 853]
    trees = [sum(len(f) for f in typed_graphs(n, [4]) if f.edge_index.size(1) == 2 * (n - 1))
             for n in range(1, 8)]
    assert trees == [1, 1, 1, 2, 3, 5, 9]


def test_seven_atom_types_by_hand():
    valency = [4, 3, 2, 1, 1, 1, 1]
    # n=2: unordered pairs of 7 types; n=3: a path (middle C, N or O; ends an unordered
    # pair) plus a triangle (3 nodes of degree 2: multisets of size 3 from {C, N, O})
    assert count_typed_graphs(1, valency) == 7
    assert count_typed_graphs(2, valency) == 28
    assert count_typed_graphs(3, valency) == 3 * 28 + 10


def test_every_graph_is_valid_and_unique():
    valency = [4, 3, 2, 1]
    for n in (4, 5):
        graphs = []
        for fam in typed_graphs(n, valency):
            for types in fam.types:
                assert rule_violations(fam.edge_index, n, types, valency) == []
                g = nx.Graph(fam.edge_index.t().tolist())
                nx.set_node_attributes(g, dict(enumerate(types.tolist())), "t")
                graphs.append(g)
        match = lambda a, b: a["t"] == b["t"]  # noqa: E731
        hashes = [nx.weisfeiler_lehman_graph_hash(g, node_attr="t") for g in graphs]
        for i, j in combinations(range(len(graphs)), 2):
            if hashes[i] == hashes[j]:
                assert not nx.is_isomorphic(graphs[i], graphs[j], node_match=match)


def test_family_batch_equals_pyg_batching():
    fam = typed_graphs(4, [4, 3, 2, 1])[2]
    feat = lambda t, ei: F.one_hot(t, 4).float()  # noqa: E731
    x, edge_index, batch = family_batch(fam, feat, slice(1, 4))
    ref = Batch.from_data_list([Data(x=feat(t, fam.edge_index), edge_index=fam.edge_index) for t in fam.types[1:4]])
    assert torch.equal(x, ref.x) and torch.equal(edge_index, ref.edge_index) and torch.equal(batch, ref.batch)


def test_scores_match_one_graph_at_a_time():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    model = lambda x, ei, b: torch.zeros(int(b.max()) + 1, 2).index_add_(0, b, lin(x))  # noqa: E731
    feat = lambda t, ei: torch.cat([F.one_hot(t, 2).float(),  # noqa: E731
                                    torch.bincount(ei[0], minlength=t.numel()).float()[:, None]], 1)
    fams = typed_graphs(4, [3, 1])
    for fam, probs in zip(fams, score_families(model, fams, feat, chunk=2)):
        for t, p in zip(fam.types, probs):
            x = feat(t, fam.edge_index)
            assert torch.allclose(p, F.softmax(model(x, fam.edge_index, torch.zeros(4, dtype=torch.long)), -1)[0])


def test_family_properties():
    fam = SkeletonFamily(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), torch.tensor([[0, 0, 1]]))
    assert fam.num_nodes == 3 and len(fam) == 1 and fam.degree.tolist() == [1, 2, 1]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="num_nodes"):
        typed_graphs(MAX_ATLAS_NODES + 1, [4])
    with pytest.raises(ValueError, match="valency"):
        typed_graphs(3, [])
    with pytest.raises(ValueError, match="valency"):
        typed_graphs(3, [2.5])
    with pytest.raises(ValueError, match="chunk"):
        list(score_families(None, [], None, chunk=0))
