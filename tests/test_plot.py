import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gnncourse.plot import PALETTE, draw_graph, label_fontsize, log_ticks, to_networkx_graph, use_book_style


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_to_networkx_graph_is_undirected_without_self_loops():
    g = to_networkx_graph(torch.tensor([[0, 1, 1, 2], [1, 0, 1, 3]]), num_nodes=5)
    assert g.number_of_nodes() == 5 and sorted(g.edges()) == [(0, 1), (2, 3)]


def test_draw_graph_is_seeded_and_colours_by_label():
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    ax1 = draw_graph(ei, node_color=torch.tensor([0, 1, 0, 1]), seed=1)
    ax2 = draw_graph(ei, node_color=torch.tensor([0, 1, 0, 1]), seed=1)
    off1, off2 = ax1.collections[-1].get_offsets(), ax2.collections[-1].get_offsets()
    np.testing.assert_allclose(off1, off2)
    face = ax1.collections[-1].get_facecolors()
    assert matplotlib.colors.to_hex(face[0]) == PALETTE[0].lower()
    assert matplotlib.colors.to_hex(face[1]) == PALETTE[1].lower()


def test_draw_graph_scores_use_colormap_and_return_axes():
    ei = torch.tensor([[0, 1], [1, 2]])
    _, ax = plt.subplots()
    out = draw_graph(ei, node_color=torch.tensor([0.1, 0.5, 0.9]), colorbar=True, ax=ax,
                     edge_weight=torch.tensor([0.2, 1.0]), highlight_edges=torch.tensor([True, False]),
                     labels={0: "C", 1: "N", 2: "O"}, title="t")
    assert out is ax and ax.get_title() == "t"
    assert [t.get_text() for t in ax.texts] == ["C", "N", "O"]


def test_draw_graph_rejects_wrong_colour_count():
    with pytest.raises(ValueError, match="3 nodes"):
        draw_graph(torch.tensor([[0, 1], [1, 2]]), node_color=[0, 1])


def test_draw_graph_rejects_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        draw_graph(torch.tensor([[0], [1]]), layout="hexagonal")


def test_book_style_sets_palette_and_svg_salt():
    use_book_style()
    assert matplotlib.rcParams["svg.hashsalt"] == "gnncourse"
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == PALETTE[0]


def test_label_fontsize_fits_long_ids():
    assert label_fontsize(["1", "22"], 300) == 7.0
    small = label_fontsize(["2614"], 160)
    assert small < 7.0 and 0.6 * small * 4 <= 0.85 * 160 ** 0.5 + 1e-9   # the width estimate fits the circle
    with pytest.raises(ValueError, match="node_size"):
        label_fontsize(["1"], 0)


def test_log_ticks_drop_minor_labels():
    fig, ax = plt.subplots()
    ax.loglog([250, 4000], [1, 2])
    log_ticks(ax, [250, 500, 1000, 2000, 4000])
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["250", "500", "1,000", "2,000", "4,000"]
    assert all(t.get_text() == "" for t in ax.xaxis.get_minorticklabels())
    with pytest.raises(ValueError, match="axis"):
        log_ticks(ax, [1], axis="z")
    plt.close(fig)
