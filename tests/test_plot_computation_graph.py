"""Tests of the computation-graph helpers appended to gnncourse.plot for chapter 2."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from gnncourse.plot import computation_tree, draw_computation_graph

# triangle 0-1-2 with a tail 2-3-4, both directions
EI = torch.tensor([[0, 1, 0, 2, 1, 2, 2, 3, 3, 4], [1, 0, 2, 0, 2, 1, 3, 2, 4, 3]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_computation_tree_by_hand():
    levels = computation_tree(EI, target=0, num_layers=2)
    assert levels[0] == [(0, -1)]
    assert levels[1] == [(1, 0), (2, 0)]  # N(0) = {1, 2}
    assert levels[2] == [(0, 0), (2, 0), (0, 1), (1, 1), (3, 1)]  # N(1) = {0, 2}, N(2) = {0, 1, 3}


def test_tree_size_matches_walk_count():
    """Level k has one entry per walk of length k ending at the target: (A^k)[:, target] summed."""
    a = torch.zeros(5, 5)
    a[EI[0], EI[1]] = 1
    for target in range(5):
        levels = computation_tree(EI, target, 3)
        for k, lvl in enumerate(levels):
            assert len(lvl) == int(torch.linalg.matrix_power(a, k)[:, target].sum())


def test_draw_computation_graph():
    ax = draw_computation_graph(EI, target=0, num_layers=2, title="node 0")
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("0") == 3 and "layer 2" in texts  # 0 appears at the root and twice as a leaf
    assert ax.get_title() == "node 0"
    with pytest.raises(ValueError, match="max_leaves"):
        draw_computation_graph(EI, target=2, num_layers=3, max_leaves=5)
    with pytest.raises(ValueError, match="not a node"):
        draw_computation_graph(EI, target=7)


def test_a_huge_tree_is_refused_before_it_is_built():
    """K6 unrolled 12 times has 5**12 (244 million) leaves: building it first took > 20 s."""
    from gnncourse.plot import computation_tree
    n = 6
    ei = torch.tensor([[u, v] for u in range(n) for v in range(n) if u != v]).t()
    with pytest.raises(ValueError, match="max_leaves=60"):
        draw_computation_graph(ei, target=0, num_layers=12)
    with pytest.raises(ValueError, match="level 3 .* would hold 125 nodes"):
        computation_tree(ei, 0, 12, max_level_size=100)
    assert len(computation_tree(ei, 0, 2)[2]) == 25   # without a bound nothing changes


def test_four_digit_ids_sit_inside_their_boxes():
    """Ids like 2614 widen their box instead of overflowing a fixed circle."""
    ei = torch.tensor([[2614, 7, 1999], [0, 0, 7]])
    ax = draw_computation_graph(ei, target=0, num_layers=2, num_nodes=3000)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for text in ax.texts:
        if text.get_text().isdigit():
            inner = text.get_window_extent(renderer)
            box = text.get_bbox_patch().get_window_extent(renderer)
            assert box.x0 < inner.x0 and inner.x1 < box.x1, text.get_text()
