"""Tests for gnncourse.walks: CSR conversion, uniform and node2vec walks."""
import pytest
import torch
from scipy.stats import chi2

from gnncourse import walks as walks_module
from gnncourse.walks import random_walks, to_csr

# A small undirected graph with a triangle (0, 1, 2), a tail 2-3-4, a chord 1-3,
# a self-loop on 4 and an isolated node 5.
UNDIRECTED = [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (1, 3)]
N_SMALL = 6


@pytest.fixture(params=["tables", "rejection"])
def second_order_method(request, monkeypatch):
    """Run a node2vec test with per-edge tables, then with rejection sampling."""
    monkeypatch.setattr(walks_module, "TABLE_ENTRIES_PER_STEP", 1e12 if request.param == "tables" else 0)
    return request.param


def small_graph():
    e = torch.tensor(UNDIRECTED).t()
    edge_index = torch.cat([e, e.flip(0), torch.tensor([[4], [4]])], dim=1)
    return edge_index, N_SMALL


def neighbours(edge_index, n):
    nb = {v: set() for v in range(n)}
    for u, v in edge_index.t().tolist():
        nb[u].add(v)
    return nb


def test_to_csr_hand_computed():
    edge_index = torch.tensor([[2, 0, 0, 2, 1, 0], [0, 2, 1, 1, 0, 1]])  # 0->1 twice
    rowptr, col = to_csr(edge_index, 4)
    assert rowptr.tolist() == [0, 2, 3, 5, 5]
    assert col.tolist() == [1, 2, 0, 0, 1]
    rowptr, col = to_csr(edge_index, 4, coalesce=False)
    assert rowptr.tolist() == [0, 3, 4, 6, 6]
    assert col.tolist() == [1, 1, 2, 0, 0, 1]


def test_to_csr_matches_dense_adjacency():
    g = torch.Generator().manual_seed(1)
    edge_index = torch.randint(0, 30, (2, 200), generator=g)
    rowptr, col = to_csr(edge_index, 30)
    dense = torch.zeros(30, 30, dtype=torch.bool)
    dense[edge_index[0], edge_index[1]] = True
    for v in range(30):
        row = col[rowptr[v]:rowptr[v + 1]]
        assert row.tolist() == dense[v].nonzero().flatten().tolist()  # sorted, no duplicates


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.5, 2.0), (4.0, 0.25), (2.0, 1.0)])
def test_every_step_follows_an_edge(p, q, second_order_method):
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    nb = neighbours(edge_index, n)
    start = torch.arange(n).repeat(50)
    walks = random_walks(rowptr, col, start, 12, p=p, q=q, generator=torch.Generator().manual_seed(0))
    assert walks.shape == (start.numel(), 13) and walks.dtype == torch.long
    assert torch.equal(walks[:, 0], start)
    for walk in walks.tolist():
        for a, b in zip(walk[:-1], walk[1:]):
            assert b in nb[a] or (not nb[a] and a == b), (walk, a, b)


def test_cora_sized_random_graph_steps_are_edges():
    g = torch.Generator().manual_seed(2)
    n = 500
    edge_index = torch.randint(0, n, (2, 3000), generator=g)
    rowptr, col = to_csr(edge_index, n)
    key = set(map(tuple, edge_index.t().tolist()))
    walks = random_walks(rowptr, col, torch.arange(n), 10, p=0.5, q=2.0, generator=g)
    src, dst = walks[:, :-1].reshape(-1).tolist(), walks[:, 1:].reshape(-1).tolist()
    deg = (rowptr[1:] - rowptr[:-1]).tolist()
    assert all((a, b) in key or (deg[a] == 0 and a == b) for a, b in zip(src, dst))


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0)])
def test_isolated_nodes_and_sinks_stay_put(p, q, second_order_method):
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    walks = random_walks(rowptr, col, torch.tensor([5, 5]), 7, p=p, q=q)
    assert (walks == 5).all()
    # a directed graph whose walk runs into a sink (node 2 has no out-edge)
    rowptr, col = to_csr(torch.tensor([[0, 1], [1, 2]]), 3)
    walks = random_walks(rowptr, col, torch.tensor([0, 2]), 5, p=p, q=q)
    assert walks.tolist() == [[0, 1, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2]]
    # a graph with no edges at all
    rowptr, col = to_csr(torch.empty(2, 0, dtype=torch.long), 3)
    assert random_walks(rowptr, col, torch.arange(3), 4, p=p, q=q).tolist() == [[v] * 5 for v in range(3)]


def test_walk_length_zero_and_no_walkers():
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    assert random_walks(rowptr, col, torch.tensor([3, 1]), 0).tolist() == [[3], [1]]
    assert random_walks(rowptr, col, torch.empty(0, dtype=torch.long), 5).shape == (0, 6)


def test_seeded_walks_are_reproducible():
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    start = torch.arange(n).repeat(20)
    a = random_walks(rowptr, col, start, 10, p=0.5, q=2.0, generator=torch.Generator().manual_seed(7))
    b = random_walks(rowptr, col, start, 10, p=0.5, q=2.0, generator=torch.Generator().manual_seed(7))
    c = random_walks(rowptr, col, start, 10, p=0.5, q=2.0, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def node2vec_probabilities(nb, t, v, p, q):
    """The node2vec formula, written independently: P(x | t, v) for x in N(v)."""
    weight = {}
    for x in sorted(nb[v]):
        weight[x] = 1 / p if x == t else (1.0 if x in nb[t] else 1 / q)
    total = sum(weight.values())
    return {x: w / total for x, w in weight.items()}


def chi_square_against(walks, nb, p, q):
    """Pooled chi-square statistic of the observed 2nd steps against the formula with (p, q)."""
    stat, dof = 0.0, 0
    contexts = {}
    for t, v, x in walks[:, :3].tolist():
        contexts.setdefault((t, v), []).append(x)
    for (t, v), xs in contexts.items():
        probs = node2vec_probabilities(nb, t, v, p, q)
        if len(probs) < 2:
            continue
        counts = torch.bincount(torch.tensor(xs), minlength=N_SMALL).double()
        for x, pr in probs.items():
            expected = pr * len(xs)
            stat += float((counts[x] - expected) ** 2 / expected)
        assert set(xs) <= set(probs), "a step left the neighbourhood"
        dof += len(probs) - 1
    return stat, dof


@pytest.mark.parametrize("p,q", [(0.25, 4.0), (4.0, 0.25), (0.5, 1.0), (1.0, 1.0)])
def test_second_order_transitions_match_node2vec_formula(p, q, second_order_method):
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    nb = neighbours(edge_index, n)
    start = torch.arange(5).repeat(8000)  # every node except the isolated one
    walks = random_walks(rowptr, col, start, 2, p=p, q=q, generator=torch.Generator().manual_seed(0))
    stat, dof = chi_square_against(walks, nb, p, q)
    assert dof >= 15
    assert chi2.sf(stat, dof) > 1e-3, (stat, dof)  # generous: the right formula passes
    # The same test would fail if the walk used other parameters: it has power.
    wrong = (q, p) if p != q else (2.0, 0.5)
    stat_wrong, dof_wrong = chi_square_against(walks, nb, *wrong)
    assert chi2.sf(stat_wrong, dof_wrong) < 1e-6, (stat_wrong, dof_wrong)


def test_uniform_first_step_frequencies():
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    walks = random_walks(rowptr, col, torch.full((60000,), 3), 1, generator=torch.Generator().manual_seed(3))
    freq = torch.bincount(walks[:, 1], minlength=n).double() / 60000
    expected = torch.zeros(n, dtype=torch.float64)
    expected[[1, 2, 4]] = 1 / 3
    assert torch.allclose(freq, expected, atol=0.01)


def test_bfs_and_dfs_like_walks_differ_on_a_path():
    # On a long path, small q walks outward (far from the start), large q stays near it.
    n = 200
    e = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    rowptr, col = to_csr(torch.cat([e, e.flip(0)], dim=1), n)
    start = torch.full((2000,), n // 2)
    far = random_walks(rowptr, col, start, 20, p=4.0, q=0.25, generator=torch.Generator().manual_seed(0))
    near = random_walks(rowptr, col, start, 20, p=0.25, q=4.0, generator=torch.Generator().manual_seed(0))
    dist_far = (far[:, -1] - n // 2).abs().double().mean()
    dist_near = (near[:, -1] - n // 2).abs().double().mean()
    assert dist_far > 2 * dist_near


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda rp, c: random_walks(rp, c, torch.tensor([0, 9]), 3), "outside"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([[0]]), 3), "1-D"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([0.0]), 3), "integer"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([0]), -1), "walk_length"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([0]), 2.5), "walk_length"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([0]), 3, p=0), "p must be"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([0]), 3, q=-1.0), "q must be"),
        (lambda rp, c: random_walks(rp, c, torch.tensor([0]), 3, q=float("inf")), "q must be"),
        (lambda rp, c: random_walks(rp.flip(0), c, torch.tensor([0]), 3), "rowptr"),
        (lambda rp, c: random_walks(rp, c.float(), torch.tensor([0]), 3), "col must hold integers"),
        (lambda rp, c: random_walks(rp, c + 10, torch.tensor([0]), 3), "col refers"),
        (lambda rp, c: random_walks(rp, c[:-1], torch.tensor([0]), 3), "end at len"),
    ],
)
def test_random_walks_input_validation(call, match):
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    with pytest.raises(ValueError, match=match):
        call(rowptr, col)


def test_to_csr_input_validation():
    with pytest.raises(ValueError, match="shape"):
        to_csr(torch.tensor([[0, 1, 2]]), 3)
    with pytest.raises(ValueError, match="only 3 nodes"):
        to_csr(torch.tensor([[0, 1], [1, 3]]), 3)
    with pytest.raises(ValueError, match="num_nodes"):
        to_csr(torch.tensor([[0], [1]]), -2)
    with pytest.raises(ValueError, match="long"):
        to_csr(torch.tensor([[0.0], [1.0]]), 2)


def test_node2vec_refuses_unsorted_rows_uniform_walks_do_not_need_them():
    """An unsorted CSR row made node2vec's binary search return wrong neighbours silently
    (P(return) 0.98 instead of 0.50); now it is refused with a message that says what to do."""
    ei = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])   # a star around node 0
    rowptr, col = to_csr(ei, 4)
    reversed_col = col.clone()
    reversed_col[rowptr[0]:rowptr[1]] = col[rowptr[0]:rowptr[1]].flip(0)
    start = torch.tensor([1, 2, 3])
    with pytest.raises(ValueError, match="must be sorted"):
        random_walks(rowptr, reversed_col, start, 3, p=2.0, q=1.0)
    random_walks(rowptr, reversed_col, start, 3)                   # uniform: order does not matter
    random_walks(rowptr, col, start, 3, p=2.0, q=1.0)              # to_csr's rows are sorted
    empty_rows = torch.tensor([0, 0, 2, 2, 3]), torch.tensor([0, 3, 1])   # rows 0 and 2 empty
    random_walks(*empty_rows, torch.tensor([1, 3]), 2, p=0.5, q=2.0)
    # an unsorted last row followed by empty rows is still caught
    with pytest.raises(ValueError, match="must be sorted"):
        random_walks(torch.tensor([0, 1, 3, 3]), torch.tensor([1, 2, 0]), torch.tensor([0]), 2, p=2.0)


# --- Exact category probabilities at the extreme settings (issue 19) -----------------------
# From t = 0 on the small graph, the walker reaches v = 1 or v = 2 (probability 1/2 each).
# For either v, its three neighbours fall into one category each: the return x = 0 (weight
# 1/p), the common neighbour of t and v (weight 1), and the far node 3 (weight 1/q). At
# (p, q) = (0.25, 4) the weights are 4, 1, 1/4; at (4, 0.25) they are 1/4, 1, 4: both sum to
# 21/4. Each count is compared with its binomial expectation by a z-test with |z| < 6, whose
# false-failure probability is 2e-9 per comparison; the seeds are fixed, so the outcome is
# deterministic. A step drawn with the wrong weights (e.g. without the return's own mass)
# misses by hundreds of standard deviations at this sample size.
HAND_COMPUTED = {
    (0.25, 4.0): {"return": 16 / 21, "common": 4 / 21, "far": 1 / 21},
    (4.0, 0.25): {"return": 1 / 21, "common": 4 / 21, "far": 16 / 21},
}


def assert_binomial(count, n, prob, what):
    z = (count - n * prob) / (n * prob * (1 - prob)) ** 0.5
    assert abs(z) < 6, f"{what}: {count} of {n}, expected {n * prob:.1f} (z = {z:.1f})"


def category_counts(walks, offset=0):
    """First steps to v in {1, 2}, and the second steps from (0, v) by category."""
    t, v, x = (walks[:, :3] - offset).t()
    common = torch.where(v == 1, 2, 1)  # N(0) = {1, 2}: the other one of them
    return {
        "first to 1": int((v == 1).sum()), "n": walks.size(0),
        "return": int((x == t).sum()), "common": int((x == common).sum()), "far": int((x == 3).sum()),
    }


@pytest.mark.parametrize("p,q", list(HAND_COMPUTED))
@pytest.mark.parametrize("padding", [0, 5000], ids=["dense-edge-set", "hashed-edge-set"])
def test_extreme_settings_match_hand_computed_probabilities(p, q, padding, second_order_method):
    # padding > 0 renumbers the small graph after 5000 isolated nodes, so that the edge-set
    # test uses the hash table (more than 4096 nodes) instead of the dense matrix
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index + padding, n + padding)
    w = 120_000  # several chunks of walkers: also the threaded path
    walks = random_walks(rowptr, col, torch.full((w,), padding), 2, p=p, q=q,
                         generator=torch.Generator().manual_seed(19))
    c = category_counts(walks, padding)
    assert_binomial(c["first to 1"], w, 0.5, "first step to node 1")
    assert c["return"] + c["common"] + c["far"] == w  # every second step is one of the three
    for category, prob in HAND_COMPUTED[(p, q)].items():
        assert_binomial(c[category], w, prob, category)


def test_directed_graph_without_return_edge_matches_formula(second_order_method):
    # 0 -> 1 -> {2, 3}, 0 -> 2, and 2, 3 -> 0: from (t, v) = (0, 1) there is no way back
    # (1 -> 0 is not an edge), 2 is a neighbour of 0 (weight 1), 3 is not (weight 1/q = 1/4)
    edge_index = torch.tensor([[0, 1, 1, 0, 2, 3], [1, 2, 3, 2, 0, 0]])
    rowptr, col = to_csr(edge_index, 4)
    w = 100_000
    walks = random_walks(rowptr, col, torch.zeros(w, dtype=torch.long), 2, p=0.25, q=4.0,
                         generator=torch.Generator().manual_seed(5))
    via_1 = walks[walks[:, 1] == 1]
    assert_binomial(via_1.size(0), w, 0.5, "first step to node 1")
    assert_binomial(int((via_1[:, 2] == 2).sum()), via_1.size(0), 0.8, "common neighbour 2")
    assert set(via_1[:, 2].tolist()) == {2, 3}


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0)])
def test_walks_do_not_depend_on_the_number_of_threads(p, q, second_order_method):
    g = torch.Generator().manual_seed(3)
    edge_index = torch.randint(0, 300, (2, 2000), generator=g)
    rowptr, col = to_csr(torch.cat([edge_index, edge_index.flip(0)], 1), 300)
    start = torch.arange(300).repeat(120)  # 36,000 walkers: several chunks
    threads = torch.get_num_threads()
    try:
        runs = []
        for t in (1, 2):
            torch.set_num_threads(t)
            runs.append(random_walks(rowptr, col, start, 8, p=p, q=q, generator=torch.Generator().manual_seed(4)))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(runs[0], runs[1])


def test_uniform_offsets_without_the_packed_base_agree():
    # graphs of 2**31 edges or more take the unpacked branch (ptr + (bits * deg >> 31)):
    # both branches give the same position for every walker
    g = torch.Generator().manual_seed(5)
    edge_index = torch.randint(0, 200, (2, 3000), generator=g)
    graph = walks_module.GraphSetUp(*to_csr(edge_index, 200), second_order=False)
    cur = torch.randint(0, 200, (5000,), generator=g)
    bits = torch.randint(0, 2**31, (5000,), generator=g)
    packed = graph.uniform_pos(cur, bits)
    graph.base = None
    unpacked = graph.uniform_pos(cur, bits)
    assert torch.equal(packed, unpacked)
    assert bool(((packed >= graph.ptr[cur]) & (packed < graph.ptr[cur] + graph.deg[cur])).all())


def test_random_bits_are_the_two_halves_of_each_draw():
    draws = torch.empty(3, 7, dtype=torch.long).random_(generator=torch.Generator().manual_seed(6))
    bits = walks_module.random_bits(5, 7, torch.Generator().manual_seed(6))
    assert bits.shape == (5, 7)
    for i in range(5):
        half = draws[i // 2] & (2**31 - 1) if i % 2 == 0 else draws[i // 2] >> 32
        assert torch.equal(bits[i], half)
    assert int(bits.min()) >= 0 and int(bits.max()) < 2**31


def test_walks_are_a_contiguous_array_of_rows():
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    for p, q in [(1.0, 1.0), (0.5, 2.0)]:
        walks = random_walks(rowptr, col, torch.arange(n).repeat(3), 4, p=p, q=q)
        assert walks.is_contiguous() and walks.shape == (3 * n, 5)


def test_the_last_graph_set_up_is_reused_only_for_the_same_unchanged_tensors(second_order_method):
    g = torch.Generator().manual_seed(9)
    edge_index = torch.randint(0, 100, (2, 600), generator=g)
    rowptr, col = to_csr(torch.cat([edge_index, edge_index.flip(0)], 1), 100)
    steps = 100 * 5
    first = walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps)
    assert walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps) is first
    assert walks_module.graph_set_up(rowptr.clone(), col, 0.5, 2.0, steps) is not first   # other tensors
    first = walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps)
    assert walks_module.graph_set_up(rowptr, col, 0.5, 3.0, steps) is not first            # other q
    assert walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps) is first                # still kept
    walks_module.graph_set_up(rowptr, col, 0.5, 3.0, steps)
    walks_module.graph_set_up(rowptr, col, 0.5, 4.0, steps)  # two more set-ups: the first is dropped
    assert walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps) is not first
    assert len(walks_module.kept_set_ups) == walks_module.KEPT_SET_UPS
    first = walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps)
    col[0] = col[0].item()                                                         # changed in place
    assert walks_module.graph_set_up(rowptr, col, 0.5, 2.0, steps) is not first
    # a reused set-up walks exactly as a fresh one
    start = torch.arange(100).repeat(3)
    walks_module.kept_set_ups.clear()
    fresh = random_walks(rowptr, col, start, 6, p=0.5, q=2.0, generator=torch.Generator().manual_seed(1))
    again = random_walks(rowptr, col, start, 6, p=0.5, q=2.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(fresh, again)


def test_a_reused_set_up_builds_tables_when_a_larger_call_wants_them(monkeypatch):
    g = torch.Generator().manual_seed(10)
    edge_index = torch.randint(0, 50, (2, 300), generator=g)
    rowptr, col = to_csr(torch.cat([edge_index, edge_index.flip(0)], 1), 50)
    small = walks_module.graph_set_up(rowptr, col, 0.25, 4.0, steps=1)
    entries = small.entries
    assert not small.tables
    large = walks_module.graph_set_up(rowptr, col, 0.25, 4.0, steps=int(entries / walks_module.TABLE_ENTRIES_PER_STEP) + 1)
    assert large.tables and large is not small
    assert not walks_module.graph_set_up(rowptr, col, 0.25, 4.0, steps=1).tables  # the choice a fresh set-up makes


@pytest.mark.parametrize("tables", [True, False])
@pytest.mark.parametrize("p,q", [(0.25, 4.0), (4.0, 0.25)])
def test_tables_argument_chooses_the_method_and_both_are_exact(tables, p, q, monkeypatch):
    # the automatic rule would choose the other method: the argument must win
    monkeypatch.setattr(walks_module, "TABLE_ENTRIES_PER_STEP", 0 if tables else 1e12)
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    nb = neighbours(edge_index, n)
    start = torch.tensor([0, 1, 2, 3]).repeat(5000)
    walks = random_walks(rowptr, col, start, 2, p=p, q=q, generator=torch.Generator().manual_seed(11), tables=tables)
    assert walks_module.kept_set_ups[-1][3].tables is tables
    stat, dof = chi_square_against(walks, nb, p, q)
    assert stat < chi2.ppf(0.999, dof), (stat, dof)


def test_tables_argument_is_checked_and_ignored_for_uniform_walks():
    edge_index, n = small_graph()
    rowptr, col = to_csr(edge_index, n)
    with pytest.raises(ValueError, match="tables must be"):
        random_walks(rowptr, col, torch.arange(n), 3, p=0.5, tables="yes")
    a = random_walks(rowptr, col, torch.arange(n), 3, generator=torch.Generator().manual_seed(1), tables=True)
    b = random_walks(rowptr, col, torch.arange(n), 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
