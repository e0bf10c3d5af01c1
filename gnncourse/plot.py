"""One figure style for the book, and a graph drawing helper reused by every chapter.

Every function draws into an ``Axes`` (a new one when none is given) and returns it, so a
reader can add titles or combine panels. Layouts are seeded: the same call draws the same
picture.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import matplotlib
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import torch
from torch import Tensor

from .utils import check_edge_index

__all__ = ["use_book_style", "draw_graph", "to_networkx_graph", "PALETTE"]

#: Colour-blind-safe palette (Okabe and Ito) used for classes everywhere in the book.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_book_style() -> None:
    """Small, clean SVG figures with the book's palette.

    Called once in each chapter's first cell. SVG keeps figures sharp in the HTML book and
    small in the notebooks; the fixed hash salt makes the SVG text identical run to run.
    """
    matplotlib.rcParams.update({
        "figure.figsize": (5.0, 3.4),
        "figure.dpi": 100,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "legend.frameon": False,
        "svg.hashsalt": "gnncourse",
        "svg.fonttype": "path",
    })
    try:  # inside Jupyter: render inline figures as SVG
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")
    except Exception:  # plain Python: nothing to configure
        pass


def to_networkx_graph(edge_index: Tensor, num_nodes: int) -> nx.Graph:
    """An undirected ``networkx.Graph`` with nodes ``0..num_nodes-1`` from ``edge_index``."""
    check_edge_index(edge_index, num_nodes)
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from(edge_index.t().tolist())
    g.remove_edges_from(nx.selfloop_edges(g))
    return g


def _node_colors(values, n: int, cmap: str):
    """Categorical values map to the palette, floats to a colormap."""
    if values is None:
        return [PALETTE[0]] * n, None
    values = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
    if values.shape[0] != n:
        raise ValueError(f"node colours: got {values.shape[0]} values for {n} nodes; give one per node")
    if np.issubdtype(values.dtype, np.integer) or values.dtype == bool:
        return [PALETTE[int(v) % len(PALETTE)] for v in values], None
    norm = matplotlib.colors.Normalize(vmin=float(values.min()), vmax=float(values.max()))
    return plt.get_cmap(cmap)(norm(values)), matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)


def draw_graph(
    edge_index: Tensor,
    num_nodes: Optional[int] = None,
    node_color: Union[Tensor, Sequence, None] = None,
    *,
    labels: Union[bool, Dict[int, str]] = False,
    highlight_edges: Optional[Tensor] = None,
    edge_weight: Optional[Tensor] = None,
    pos: Optional[Dict[int, Tuple[float, float]]] = None,
    layout: str = "spring",
    seed: int = 0,
    node_size: float = 60,
    cmap: str = "viridis",
    colorbar: bool = False,
    ax: Optional[plt.Axes] = None,
    title: Optional[str] = None,
) -> plt.Axes:
    r"""Draw a graph given as ``edge_index`` with nodes coloured by label or by score.

    Args:
        edge_index: ``[2, E]`` edges; direction is ignored in the drawing.
        num_nodes: ``N``; defaults to ``edge_index.max() + 1``.
        node_color: one value per node: integer labels pick palette colours, floats a
            colormap (``cmap``), ``None`` draws every node alike.
        labels: ``True`` writes node ids, a dict writes custom text (e.g. atom symbols).
        highlight_edges: a boolean ``[E]`` mask of edges to draw thick and red.
        edge_weight: ``[E]`` scores in ``[0, 1]`` drawn as edge opacity (e.g. an edge mask).
        pos: fixed node positions; otherwise computed by ``layout`` with ``seed``.
        layout: ``"spring"``, ``"kamada_kawai"`` or ``"circular"``.
        seed: seed of the spring layout, so the same call draws the same picture.
        colorbar: add a colour bar when ``node_color`` holds scores.
        ax: draw into this ``Axes``; a new figure otherwise.

    Returns:
        The ``Axes`` drawn into.
    """
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    g = to_networkx_graph(edge_index, num_nodes)
    if pos is None:
        if layout == "spring":
            pos = nx.spring_layout(g, seed=seed)
        elif layout == "kamada_kawai":
            pos = nx.kamada_kawai_layout(g)
        elif layout == "circular":
            pos = nx.circular_layout(g)
        else:
            raise ValueError(f"unknown layout {layout!r}; use 'spring', 'kamada_kawai' or 'circular'")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    colors, mappable = _node_colors(node_color, num_nodes, cmap)

    edges = edge_index.t().tolist()
    if edge_weight is not None:
        w = edge_weight.detach().cpu().float().clamp(0, 1).tolist()
        for (u, v), a in zip(edges, w):
            if u != v:
                ax.plot(*zip(pos[u], pos[v]), color="black", alpha=0.05 + 0.95 * a, lw=0.6 + 2.4 * a, zorder=1)
    else:
        nx.draw_networkx_edges(g, pos, ax=ax, width=0.6, alpha=0.4)
    if highlight_edges is not None:
        hl = [tuple(e) for e, keep in zip(edges, highlight_edges.tolist()) if keep and e[0] != e[1]]
        nx.draw_networkx_edges(g, pos, edgelist=hl, ax=ax, width=2.5, edge_color="#D55E00")
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=node_size, node_color=colors,
                           edgecolors="white", linewidths=0.5)
    if labels:
        text = labels if isinstance(labels, dict) else {i: str(i) for i in range(num_nodes)}
        nx.draw_networkx_labels(g, pos, labels=text, ax=ax, font_size=7)
    if colorbar and mappable is not None:
        plt.colorbar(mappable, ax=ax, shrink=0.7)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
