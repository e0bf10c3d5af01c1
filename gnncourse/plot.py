"""One figure style for the book, and a graph drawing helper reused by every chapter.

Every function draws into an ``Axes`` (a new one when none is given) and returns it, so a
reader can add titles or combine panels. Layouts are seeded: the same call draws the same
picture.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import networkx as nx
import numpy as np
import torch
from torch import Tensor

from .utils import check_edge_index

__all__ = ["use_book_style", "draw_graph", "to_networkx_graph", "PALETTE", "computation_tree", "draw_computation_graph",
           "label_fontsize", "log_ticks"]

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
        from matplotlib_inline.backend_inline import set_matplotlib_formats  # optional: Jupyter only

        set_matplotlib_formats("svg")
    except Exception:  # plain Python: nothing to configure
        pass


def label_fontsize(texts: Sequence[str], node_size: float, largest: float = 7.0) -> float:
    """The font size at which every label in ``texts`` fits inside a node marker of area ``node_size``.

    A marker of area ``s`` (points squared, matplotlib's ``scatter`` convention) is about
    ``sqrt(s)`` points wide, and a digit about 0.6 font sizes wide; the label keeps a margin of
    15%. Long ids ("2614") thus get a smaller font instead of overflowing their circle.

    Args:
        texts: the labels that will be drawn.
        node_size: marker area in points squared.
        largest: the font size used when everything fits.

    Example:
        >>> label_fontsize(["1", "22"], node_size=300)
        7.0
        >>> round(label_fontsize(["2614"], node_size=160), 2)
        4.48
    """
    if node_size <= 0:
        raise ValueError(f"node_size must be positive (a marker area in points^2), got {node_size}")
    longest = max((len(str(t)) for t in texts), default=1)
    return float(min(largest, 0.85 * np.sqrt(node_size) / (0.6 * max(longest, 1))))


def log_ticks(ax: plt.Axes, values: Sequence[float], axis: str = "x") -> plt.Axes:
    """Label a log axis at ``values`` only, in plain numbers, without minor tick labels.

    On a log axis spanning less than a few decades matplotlib labels minor ticks too, and
    their labels overlap; this keeps one readable label per value.

    Example:
        >>> fig, ax = plt.subplots()
        >>> _ = ax.loglog([250, 4000], [1, 2])
        >>> [t.get_text() for t in log_ticks(ax, [250, 1000, 4000]).get_xticklabels()]
        ['250', '1,000', '4,000']
        >>> plt.close(fig)
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_minor_formatter(matplotlib.ticker.NullFormatter())
    target.set_ticks(list(values), [f"{v:,.0f}" if float(v).is_integer() else f"{v:,g}" for v in values])
    return ax


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
        nx.draw_networkx_labels(g, pos, labels=text, ax=ax, font_size=label_fontsize(text.values(), node_size))
    if colorbar and mappable is not None:
        plt.colorbar(mappable, ax=ax, shrink=0.7)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


# --- computation graphs --------------------------------------------------------------------


class _TreeTooLarge(ValueError):
    """A level of a computation tree would exceed the caller's bound."""


def computation_tree(edge_index: Tensor, target: int, num_layers: int,
                     num_nodes: Optional[int] = None, max_level_size: Optional[int] = None) -> list:
    r"""Unroll the neighbourhood of ``target`` into its computation tree of depth ``num_layers``.

    Level 0 holds the target; level :math:`k+1` holds, for every tree node :math:`v` of
    level :math:`k`, one child per neighbour :math:`u \in N(v)` (sources of edges ``u -> v``,
    in increasing id, duplicates repeated). A graph node appears once per path that reaches
    the target, which is exactly how many times a K-layer GNN uses its features.

    Returns:
        ``levels``: a list of ``num_layers + 1`` lists; ``levels[k][i] = (node, parent)``
        with ``node`` the graph node id and ``parent`` the index of its parent in
        ``levels[k - 1]`` (``-1`` for the root).

    Raises:
        ValueError: a level would hold more than ``max_level_size`` tree nodes; checked
            before the level is built, since the tree grows like the degree to the power
            ``num_layers``.
    """
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else int(target) + 1
    check_edge_index(edge_index, num_nodes)
    if not 0 <= int(target) < num_nodes:
        raise ValueError(f"target {target} is not a node of the graph (ids 0..{num_nodes - 1})")
    if not isinstance(num_layers, int) or num_layers < 0:
        raise ValueError(f"num_layers must be a non-negative int, got {num_layers!r}")
    src, dst = edge_index[0], edge_index[1]
    order = torch.argsort(dst * num_nodes + src)  # group by target, sources ascending
    src_sorted = src[order].tolist()
    ptr = [0] + torch.bincount(dst, minlength=num_nodes).cumsum(0).tolist()
    levels = [[(int(target), -1)]]
    for k in range(num_layers):
        size = sum(ptr[v + 1] - ptr[v] for v, _ in levels[-1])
        if max_level_size is not None and size > max_level_size:
            raise _TreeTooLarge(f"level {k + 1} of the computation tree of node {target} would hold {size} "
                             f"nodes (> {max_level_size})")
        levels.append([(u, i) for i, (v, _) in enumerate(levels[-1]) for u in src_sorted[ptr[v]:ptr[v + 1]]])
    return levels


def draw_computation_graph(
    edge_index: Tensor,
    target: int,
    num_layers: int = 2,
    num_nodes: Optional[int] = None,
    node_color: Union[Tensor, Sequence, None] = None,
    *,
    max_leaves: int = 60,
    node_size: float = 220,
    ax: Optional[plt.Axes] = None,
    title: Optional[str] = None,
) -> plt.Axes:
    r"""Draw the computation graph of ``target``: its neighbourhood unrolled into a tree.

    The target sits on the right (layer :math:`K`), its neighbours one column to the left
    (layer :math:`K-1`), their neighbours further left, down to the input features
    :math:`\mathbf{x}_u = \mathbf{h}_u^{(0)}` in the leftmost column. Arrows point the way
    messages flow; every box is labelled with its graph node id, so a node reached by several
    paths appears several times. See :func:`computation_tree` for the tree itself.

    Args:
        edge_index: ``[2, E]`` edges ``u -> v`` (use both directions for an undirected graph).
        target: the node whose computation graph is drawn.
        num_layers: :math:`K`, the depth of the tree.
        num_nodes: ``N``; defaults to ``edge_index.max() + 1``.
        node_color: one integer label per graph node (palette colours); ``None`` colours the
            target orange and every other node blue.
        max_leaves: refuse (``ValueError``) to draw trees with more leaves than this.
        node_size: area (points squared) of the box around a one- or two-digit id; the box
            widens for longer ids, so four-digit ids stay inside it.
        ax: draw into this ``Axes``; a new figure otherwise.

    Returns:
        The ``Axes`` drawn into.
    """
    too_many = (f"the computation graph of node {target} with {num_layers} layers has more than "
                f"max_leaves={max_leaves} leaves; pick a node of lower degree, fewer layers, or raise "
                f"max_leaves")
    try:  # every node of a level has a leaf of its own below it: a level > max_leaves is too many
        levels = computation_tree(edge_index, target, num_layers, num_nodes, max_level_size=max_leaves)
    except _TreeTooLarge:
        raise ValueError(too_many) from None
    children = [[[] for _ in lvl] for lvl in levels]
    for k in range(1, len(levels)):
        for j, (_, parent) in enumerate(levels[k]):
            children[k - 1][parent].append(j)
    leaves = sum(1 for k, lvl in enumerate(levels) for j in range(len(lvl)) if not children[k][j])
    if leaves > max_leaves:
        raise ValueError(f"the computation graph of node {target} with {num_layers} layers has {leaves} "
                         f"leaves (> max_leaves={max_leaves}); pick a node of lower degree, fewer "
                         f"layers, or raise max_leaves")
    # y: leaves get consecutive slots in depth-first order, a parent sits at its children's mean
    ys = [[0.0] * len(lvl) for lvl in levels]
    slot = [0]

    def place(k: int, j: int) -> float:
        if not children[k][j]:
            ys[k][j] = float(slot[0])
            slot[0] += 1
        else:
            ys[k][j] = float(np.mean([place(k + 1, c) for c in children[k][j]]))
        return ys[k][j]

    place(0, 0)
    depth = len(levels) - 1
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.4 * depth, 0.8 + 0.28 * max(leaves, 2)))
    if node_color is not None:
        values = node_color.tolist() if isinstance(node_color, Tensor) else list(node_color)
        color = lambda v: PALETTE[int(values[v]) % len(PALETTE)]  # noqa: E731
    else:
        color = lambda v: PALETTE[1] if v == int(target) else PALETTE[0]  # noqa: E731
    font = 7.0
    pad = max(np.sqrt(node_size) - font, 0.0) / (2 * font)  # a box of about sqrt(node_size) points for 1-2 digits

    def half_width(v: int) -> float:  # points from a box's centre to its side
        return 0.3 * font * len(str(v)) + pad * font + 1.0

    for k in range(1, len(levels)):
        for j, (v, parent) in enumerate(levels[k]):
            u = levels[k - 1][parent][0]
            ax.annotate("", xy=(depth - k + 1, ys[k - 1][parent]), xytext=(depth - k, ys[k][j]),
                        arrowprops=dict(arrowstyle="-|>", color="0.55", lw=0.7,
                                        shrinkA=half_width(v), shrinkB=half_width(u)), zorder=1)
    for k, lvl in enumerate(levels):
        for y, (v, _) in zip(ys[k], lvl):  # a rounded box that widens with its id
            ax.text(depth - k, y, str(v), ha="center", va="center", fontsize=font, color="white", zorder=3,
                    bbox=dict(boxstyle=f"round,pad={pad:.2f},rounding_size={0.5 + pad:.2f}",
                              fc=color(v), ec="white", lw=0.5))
    for k in range(depth + 1):  # column headers above the tree (the y axis points down)
        ax.text(depth - k, -0.8, f"layer {depth - k}", ha="center", va="bottom", fontsize=8)
    ax.set_xlim(-0.5, depth + 0.5)
    ax.set_ylim(max(slot[0] - 1, 0) + 0.6, -1.4)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
