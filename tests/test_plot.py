import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gnncourse.plot import PALETTE, draw_graph, to_networkx_graph, use_book_style


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
