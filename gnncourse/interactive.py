"""Interactive figures that work in the static book: data precomputed here, sliders in the browser.

Each figure is computed once in Python for a grid of parameter values and drawn with Bokeh.
Moving a slider only switches between precomputed columns, in a few lines of JavaScript
(``CustomJS``), so the figure needs no kernel and no network: the book serves BokehJS from its
own ``_static/bokeh`` folder (``tools/book_html.py`` copies it there and adds it to the pages
that hold a figure). In Jupyter, run ``bokeh.io.output_notebook()`` once to load BokehJS.

Computations (tested against hand-computed values and ``plot.computation_tree``):

- :func:`walk_visit_frequencies`: where node2vec walks from one node spend their steps,
  for a grid of ``p`` and ``q``;
- :func:`hop_distances` and :func:`computation_tree_sizes`: a node's receptive field and the
  size of its unrolled computation graph, per number of layers ``K``;
- :func:`mask_sweep`: a prediction's probability when only the edges whose explanation score
  reaches a threshold are kept.

Figures (:class:`InteractiveFigure`, shown as HTML): :func:`node2vec_figure`,
:func:`receptive_field_figure`, :func:`mask_threshold_figure`.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import networkx as nx
import torch
from bokeh.embed import components
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS, Div, Slider
from bokeh.plotting import figure
from bokeh.transform import linear_cmap
from torch import Tensor

from .plot import PALETTE, to_networkx_graph
from .utils import check_edge_index, progress
from .walks import random_walks, to_csr

__all__ = ["InteractiveFigure", "walk_visit_frequencies", "hop_distances", "computation_tree_sizes",
           "mask_sweep", "spring_positions", "node2vec_figure", "receptive_field_figure",
           "mask_threshold_figure"]

#: Marker class of the HTML wrapper: ``tools/book_html.py`` adds BokehJS to pages holding it.
HTML_CLASS = "gnn-interactive"
FADED = 0.08  # opacity of nodes and edges outside what a slider position shows


class InteractiveFigure:
    """A Bokeh layout shown as HTML (a ``div`` and its script) in Jupyter and in the book.

    Example:
        >>> from bokeh.models import Div
        >>> html = InteractiveFigure(Div(text="hi"))._repr_html_()
        >>> html.startswith('<div class="gnn-interactive">') and "<script" in html
        True
    """

    def __init__(self, layout):
        self.layout = layout

    def __repr__(self) -> str:  # the text/plain output: stable, and says how to see the figure
        return ("<interactive figure: shown in the book; in Jupyter run "
                "`import bokeh.io; bokeh.io.output_notebook()` once, then show it again>")

    def _repr_html_(self) -> str:
        script, div = components(self.layout)
        return f'<div class="{HTML_CLASS}">{div}{script}</div>'


def _check_node(node: int, num_nodes: int, what: str) -> int:
    if not 0 <= int(node) < num_nodes:
        raise ValueError(f"{what} {node} is not a node of the graph (ids 0..{num_nodes - 1})")
    return int(node)


def walk_visit_frequencies(edge_index: Tensor, num_nodes: int, start: int, ps: Sequence[float],
                           qs: Sequence[float], walk_length: int = 10, num_walks: int = 2000,
                           generator: Optional[torch.Generator] = None,
                           desc: Optional[str] = None) -> Tensor:
    r"""Where node2vec walks from ``start`` spend their steps, for every ``p`` in ``ps`` and ``q`` in ``qs``.

    Runs ``num_walks`` walks of ``walk_length`` steps from ``start`` with
    :func:`gnncourse.walks.random_walks` and counts the nodes visited at steps
    :math:`1, \dots, L` (the start position itself is not counted).

    Returns:
        ``freq`` of shape ``[len(ps), len(qs), num_nodes]``; ``freq[i, j, v]`` is the fraction of
        the steps spent at ``v`` with ``p = ps[i]``, ``q = qs[j]`` (each ``freq[i, j]`` sums to 1).

    Example:
        >>> square = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
        >>> f = walk_visit_frequencies(square, 4, 0, [1.0], [1.0], walk_length=1, num_walks=1000,
        ...                            generator=torch.Generator().manual_seed(0))
        >>> f.shape, float(f[0, 0, 0]), float(f[0, 0, 2])   # one step from 0 reaches 1 or 3
        (torch.Size([1, 1, 4]), 0.0, 0.0)
    """
    check_edge_index(edge_index, num_nodes)
    start = _check_node(start, num_nodes, "start")
    if walk_length < 1 or num_walks < 1:
        raise ValueError(f"walk_length and num_walks must be >= 1, got {walk_length} and {num_walks}")
    if not ps or not qs or min(ps) <= 0 or min(qs) <= 0:
        raise ValueError(f"ps and qs must be non-empty lists of positive numbers, got {ps} and {qs}")
    rowptr, col = to_csr(edge_index, num_nodes)
    starts = torch.full((num_walks,), start, dtype=torch.long)
    freq = torch.zeros(len(ps), len(qs), num_nodes)
    grid = [(i, j) for i in range(len(ps)) for j in range(len(qs))]
    for i, j in progress(grid, desc=desc):
        walks = random_walks(rowptr, col, starts, walk_length, p=float(ps[i]), q=float(qs[j]),
                             generator=generator)
        steps = walks[:, 1:].reshape(-1)
        freq[i, j] = torch.bincount(steps, minlength=num_nodes).float() / steps.numel()
    return freq


def hop_distances(edge_index: Tensor, num_nodes: int, target: int, max_hops: int) -> Tensor:
    r"""How many hops each node is from ``target`` along the edges ``u -> v`` (messages flow to ``target``).

    A :math:`K`-layer message-passing model's output at ``target`` depends exactly on the nodes
    at distance at most :math:`K`: its receptive field.

    Returns:
        ``[num_nodes]`` long tensor: the distance, or ``-1`` beyond ``max_hops`` (or unreachable).

    Example:
        >>> path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        >>> hop_distances(path, 4, 0, max_hops=2).tolist()
        [0, 1, 2, -1]
    """
    check_edge_index(edge_index, num_nodes)
    target = _check_node(target, num_nodes, "target")
    if max_hops < 0:
        raise ValueError(f"max_hops must be >= 0, got {max_hops}")
    dist = torch.full((num_nodes,), -1, dtype=torch.long)
    dist[target] = 0
    frontier = torch.zeros(num_nodes, dtype=torch.bool)
    frontier[target] = True
    src, dst = edge_index[0], edge_index[1]
    for k in range(1, max_hops + 1):
        reached = torch.zeros(num_nodes, dtype=torch.bool)
        reached[src[frontier[dst]]] = True       # senders of a message into the frontier
        new = reached & (dist < 0)
        if not new.any():
            break
        dist[new] = k
        frontier = new
    return dist


def computation_tree_sizes(edge_index: Tensor, num_nodes: int, target: int, max_hops: int) -> list:
    r"""Nodes of ``target``'s unrolled computation graph for :math:`K = 0, \dots,` ``max_hops`` layers.

    Level :math:`k` of the tree holds one entry per walk of length :math:`k` ending at
    ``target``, so with :math:`c_0 = e_t` and :math:`c_{k+1}[u] = \sum_{u \to v} c_k[v]`, the tree
    of :math:`K` layers has :math:`\sum_{k \le K} \sum_u c_k[u]` nodes. Counting needs no tree,
    so large :math:`K` stay cheap.

    Example:
        >>> star = torch.tensor([[0, 1, 0, 2, 0, 3], [1, 0, 2, 0, 3, 0]])
        >>> computation_tree_sizes(star, 4, 0, 2)   # 1, then 3 leaves, then 3 x 1 back to the centre
        [1, 4, 7]
    """
    check_edge_index(edge_index, num_nodes)
    target = _check_node(target, num_nodes, "target")
    if max_hops < 0:
        raise ValueError(f"max_hops must be >= 0, got {max_hops}")
    counts = torch.zeros(num_nodes, dtype=torch.float64)
    counts[target] = 1.0
    sizes, total = [1], 1
    for _ in range(max_hops):
        counts = torch.zeros(num_nodes, dtype=torch.float64).index_add_(0, edge_index[0], counts[edge_index[1]])
        total += int(round(float(counts.sum())))
        sizes.append(total)
    return sizes


def mask_sweep(predict: Callable[[Tensor], float], scores: Tensor, thresholds: Sequence[float]) -> list:
    """The prediction with only the edges whose score reaches each threshold.

    Args:
        predict: takes a boolean edge mask ``[E]`` (``True``: the edge is kept) and returns the
            probability to show, e.g. of the explained class.
        scores: ``[E]`` explanation scores, one per edge.
        thresholds: the slider's positions.

    Example:
        >>> mask_sweep(lambda keep: float(keep.float().mean()), torch.tensor([0.1, 0.5, 0.9]), [0.0, 0.5, 1.0])
        [1.0, 0.6666666865348816, 0.0]
    """
    scores = torch.as_tensor(scores)
    if scores.dim() != 1:
        raise ValueError(f"scores must be one score per edge, shape [E]; got shape {tuple(scores.shape)}")
    return [float(predict(scores >= t)) for t in thresholds]


def spring_positions(edge_index: Tensor, num_nodes: int, seed: int = 0) -> Tensor:
    """Seeded spring-layout positions ``[num_nodes, 2]`` (networkx), the same for the same call.

    Example:
        >>> tri = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
        >>> torch.equal(spring_positions(tri, 3), spring_positions(tri, 3))
        True
    """
    pos = nx.spring_layout(to_networkx_graph(edge_index, num_nodes), seed=seed)
    return torch.tensor([list(pos[v]) for v in range(num_nodes)], dtype=torch.float64)


def _edge_lines(edge_index: Tensor, pos: Tensor) -> tuple[list, list, list]:
    """One line per undirected edge: (pairs ``(u, v)`` with ``u < v``, xs, ys)."""
    pairs = sorted({(min(u, v), max(u, v)) for u, v in edge_index.t().tolist() if u != v})
    xs = [[float(pos[u, 0]), float(pos[v, 0])] for u, v in pairs]
    ys = [[float(pos[u, 1]), float(pos[v, 1])] for u, v in pairs]
    return pairs, xs, ys


def _canvas(title: str, width: int, height: int):
    fig = figure(width=width, height=height, title=title, toolbar_location=None, match_aspect=True)
    fig.axis.visible = False
    fig.grid.visible = False
    fig.outline_line_color = None
    return fig


def _check_pos(pos: Tensor, num_nodes: int) -> Tensor:
    pos = torch.as_tensor(pos, dtype=torch.float64)
    if pos.shape != (num_nodes, 2):
        raise ValueError(f"pos must hold one (x, y) per node, shape [{num_nodes}, 2]; got {tuple(pos.shape)}")
    return pos


def node2vec_figure(edge_index: Tensor, pos: Tensor, freq: Tensor, ps: Sequence[float], qs: Sequence[float],
                    start: int, width: int = 520, height: int = 420) -> InteractiveFigure:
    """Sliders for ``p`` and ``q``; node size and colour show where the walks from ``start`` go.

    ``freq`` comes from :func:`walk_visit_frequencies` with the same ``ps`` and ``qs``. The text
    above the graph gives the walks' mean distance (hops) from ``start`` at each setting.

    Example:
        >>> square = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
        >>> f = walk_visit_frequencies(square, 4, 0, [0.5, 2.0], [1.0], walk_length=2, num_walks=50)
        >>> fig = node2vec_figure(square, spring_positions(square, 4), f, [0.5, 2.0], [1.0], start=0)
        >>> "gnn-interactive" in fig._repr_html_()
        True
    """
    num_nodes = freq.shape[-1]
    check_edge_index(edge_index, num_nodes)
    pos = _check_pos(pos, num_nodes)
    start = _check_node(start, num_nodes, "start")
    if tuple(freq.shape) != (len(ps), len(qs), num_nodes):
        raise ValueError(f"freq has shape {tuple(freq.shape)}; expected [len(ps), len(qs), N] = "
                         f"[{len(ps)}, {len(qs)}, {num_nodes}]: compute it with walk_visit_frequencies")
    dist = hop_distances(edge_index, num_nodes, start, num_nodes).clamp(min=0).double()
    i0 = min(range(len(ps)), key=lambda i: abs(ps[i] - 1.0))
    j0 = min(range(len(qs)), key=lambda j: abs(qs[j] - 1.0))
    top = float(freq.max())
    data = {"x": pos[:, 0].tolist(), "y": pos[:, 1].tolist(), "node": list(range(num_nodes))}
    means = {}
    for i in range(len(ps)):
        for j in range(len(qs)):
            data[f"f_{i}_{j}"] = freq[i, j].tolist()
            means[f"{i}_{j}"] = round(float((freq[i, j].double() * dist).sum()), 2)
    data["freq"] = list(data[f"f_{i0}_{j0}"])
    data["size"] = [8 + 34 * (f / top) ** 0.5 for f in data["freq"]]
    nodes = ColumnDataSource(data, name="nodes")
    _, xs, ys = _edge_lines(edge_index, pos)
    fig = _canvas(f"node2vec walks from node {start}: share of steps at each node", width, height)
    fig.multi_line(xs, ys, line_color="#999999", line_alpha=0.6, line_width=1)
    fig.scatter("x", "y", size="size", source=nodes, line_color="#333333",
                fill_color=linear_cmap("freq", "Viridis256", 0, top))
    fig.scatter([float(pos[start, 0])], [float(pos[start, 1])], marker="square", size=10,
                fill_color=PALETTE[3], line_color="black")
    def text(i, j):
        return (f"<b>p = {ps[i]:g}, q = {qs[j]:g}</b>: the walks stay {means[f'{i}_{j}']:g} hops from "
                f"node {start} on average")
    info = Div(text=text(i0, j0), name="info", width=width)
    p_slider = Slider(start=0, end=len(ps) - 1, value=i0, step=1, show_value=False,
                      title=f"p = {ps[i0]:g} (return)", name="p", width=width // 2 - 10)
    q_slider = Slider(start=0, end=len(qs) - 1, value=j0, step=1, show_value=False,
                      title=f"q = {qs[j0]:g} (outward)", name="q", width=width // 2 - 10)
    callback = CustomJS(args=dict(nodes=nodes, ps=list(map(float, ps)), qs=list(map(float, qs)), p=p_slider,
                                  q=q_slider, info=info, means=means, top=top, start=start), code="""
        const i = Math.round(p.value), j = Math.round(q.value);
        const f = nodes.data['f_' + i + '_' + j];
        nodes.data = Object.assign({}, nodes.data, {freq: f, size: f.map(v => 8 + 34 * Math.sqrt(v / top))});
        p.title = 'p = ' + ps[i] + ' (return)';
        q.title = 'q = ' + qs[j] + ' (outward)';
        info.text = '<b>p = ' + ps[i] + ', q = ' + qs[j] + '</b>: the walks stay ' + means[i + '_' + j] +
                    ' hops from node ' + start + ' on average';
    """)
    p_slider.js_on_change("value", callback)
    q_slider.js_on_change("value", callback)
    return InteractiveFigure(column(info, fig, row(p_slider, q_slider)))


def receptive_field_figure(edge_index: Tensor, num_nodes: int, target: int, max_hops: int,
                           pos: Optional[Tensor] = None, labels: Optional[Tensor] = None, seed: int = 0,
                           width: int = 560, height: int = 460) -> InteractiveFigure:
    """A slider for the number of layers ``K``: the nodes ``target``'s output depends on.

    Draws the ``max_hops``-hop neighbourhood of ``target`` (seeded spring layout unless ``pos``,
    one row per node of the whole graph, is given); at slider position ``K`` the receptive
    field (distance at most ``K``) and the edges its messages travel are opaque, the rest faded;
    the text gives the receptive field's size and the computation tree's
    (:func:`computation_tree_sizes`). Nodes are coloured by ``labels`` when given, else by distance.

    Example:
        >>> path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        >>> "gnn-interactive" in receptive_field_figure(path, 4, 0, max_hops=2)._repr_html_()
        True
    """
    dist = hop_distances(edge_index, num_nodes, target, max_hops)
    sizes = computation_tree_sizes(edge_index, num_nodes, target, max_hops)
    keep = (dist >= 0).nonzero().flatten()
    local = torch.full((num_nodes,), -1, dtype=torch.long)
    local[keep] = torch.arange(len(keep))
    inside = (local[edge_index[0]] >= 0) & (local[edge_index[1]] >= 0)
    sub_edges = local[edge_index[:, inside]]
    if pos is None:
        sub_pos = spring_positions(sub_edges, len(keep), seed=seed)
    else:
        sub_pos = _check_pos(pos, num_nodes)[keep]
    d = dist[keep].tolist()
    colour_by = labels[keep].tolist() if labels is not None else d
    field = [int((dist >= 0).logical_and(dist <= k).sum()) for k in range(max_hops + 1)]
    nodes_data = {"x": sub_pos[:, 0].tolist(), "y": sub_pos[:, 1].tolist(), "node": keep.tolist(),
                  "color": [PALETTE[int(c) % len(PALETTE)] for c in colour_by], "hops": d}
    pairs, xs, ys = _edge_lines(sub_edges, sub_pos)
    edge_data = {"xs": xs, "ys": ys}
    for k in range(max_hops + 1):
        nodes_data[f"a{k}"] = [1.0 if h <= k else FADED for h in d]
        # K layers carry messages along the edges between distances j and j - 1 <= K - 1
        edge_data[f"a{k}"] = [0.9 if min(d[u], d[v]) <= k - 1 and max(d[u], d[v]) <= k else FADED
                              for u, v in pairs]
    k0 = min(1, max_hops)
    nodes_data["alpha"] = list(nodes_data[f"a{k0}"])
    edge_data["alpha"] = list(edge_data[f"a{k0}"])
    nodes = ColumnDataSource(nodes_data, name="nodes")
    edges = ColumnDataSource(edge_data, name="edges")
    fig = _canvas(f"receptive field of node {target}", width, height)
    fig.multi_line("xs", "ys", source=edges, line_color="#555555", line_alpha="alpha", line_width=1.2)
    fig.scatter("x", "y", source=nodes, size=11, fill_color="color", fill_alpha="alpha",
                line_color="#222222", line_alpha="alpha")
    t = int(local[target])
    fig.scatter([float(sub_pos[t, 0])], [float(sub_pos[t, 1])], marker="star", size=22,
                fill_color="white", line_color="black", line_width=1.5)

    def text(k):
        return (f"<b>K = {k}</b> layers: the output of node {target} depends on {field[k]} nodes; "
                f"its computation graph has {sizes[k]} nodes (one per path)")
    info = Div(text=text(k0), name="info", width=width)
    slider = Slider(start=0, end=max_hops, value=k0, step=1, title="layers K", name="K", width=width - 20)
    slider.js_on_change("value", CustomJS(args=dict(nodes=nodes, edges=edges, info=info, field=field,
                                                    sizes=sizes, target=target), code="""
        const k = Math.round(cb_obj.value);
        nodes.data = Object.assign({}, nodes.data, {alpha: nodes.data['a' + k]});
        edges.data = Object.assign({}, edges.data, {alpha: edges.data['a' + k]});
        info.text = '<b>K = ' + k + '</b> layers: the output of node ' + target + ' depends on ' + field[k] +
                    ' nodes; its computation graph has ' + sizes[k] + ' nodes (one per path)';
    """))
    return InteractiveFigure(column(info, fig, slider))


def mask_threshold_figure(edge_index: Tensor, num_nodes: int, scores: Tensor, thresholds: Sequence[float],
                          probs: Sequence[float], target: int, label: str = "the predicted class",
                          pos: Optional[Tensor] = None, seed: int = 0, width: int = 520,
                          height: int = 420) -> InteractiveFigure:
    """A threshold slider for an edge explanation: the edges kept, and the prediction without the rest.

    ``scores`` holds one explanation score per edge of ``edge_index`` (both directions of an
    undirected edge: the line drawn uses the larger); ``probs[i]`` is the model's probability
    of ``label`` for ``target`` with only the edges scoring at least ``thresholds[i]``
    (:func:`mask_sweep`).

    Example:
        >>> tri = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
        >>> s = torch.tensor([0.9, 0.9, 0.2, 0.2, 0.5, 0.5])
        >>> fig = mask_threshold_figure(tri, 3, s, [0.0, 0.5], [0.8, 0.6], target=0)
        >>> "gnn-interactive" in fig._repr_html_()
        True
    """
    check_edge_index(edge_index, num_nodes)
    target = _check_node(target, num_nodes, "target")
    scores = torch.as_tensor(scores, dtype=torch.float64)
    if scores.shape != (edge_index.size(1),):
        raise ValueError(f"scores must hold one score per edge, shape [{edge_index.size(1)}]; "
                         f"got {tuple(scores.shape)}")
    if len(thresholds) != len(probs) or not thresholds:
        raise ValueError(f"give one probability per threshold; got {len(thresholds)} thresholds "
                         f"and {len(probs)} probabilities")
    pos = spring_positions(edge_index, num_nodes, seed=seed) if pos is None else _check_pos(pos, num_nodes)
    best = {}
    for (u, v), s in zip(edge_index.t().tolist(), scores.tolist()):
        key = (min(u, v), max(u, v))
        best[key] = max(best.get(key, float("-inf")), s)
    pairs, xs, ys = _edge_lines(edge_index, pos)
    line_scores = [best[e] for e in pairs]
    edge_data = {"xs": xs, "ys": ys, "score": line_scores}
    kept = []
    for i, t in enumerate(thresholds):
        edge_data[f"a{i}"] = [1.0 if s >= t else FADED for s in line_scores]
        edge_data[f"w{i}"] = [3.0 if s >= t else 1.0 for s in line_scores]
        kept.append(sum(s >= t for s in line_scores))
    i0 = len(thresholds) // 2
    edge_data["alpha"], edge_data["width"] = list(edge_data[f"a{i0}"]), list(edge_data[f"w{i0}"])
    edges = ColumnDataSource(edge_data, name="edges")
    fig = _canvas(f"explanation of node {target}: edges kept at the threshold", width, height)
    fig.multi_line("xs", "ys", source=edges, line_color=PALETTE[0], line_alpha="alpha", line_width="width")
    fig.scatter(pos[:, 0].tolist(), pos[:, 1].tolist(), size=9, fill_color="#dddddd", line_color="#444444")
    fig.scatter([float(pos[target, 0])], [float(pos[target, 1])], marker="star", size=20,
                fill_color=PALETTE[3], line_color="black")
    ths, ps_ = [float(t) for t in thresholds], [float(p) for p in probs]

    def text(i):
        return (f"<b>threshold {ths[i]:.2f}</b>: {kept[i]} of {len(pairs)} edges kept; "
                f"p({label}) = {ps_[i]:.2f}")
    info = Div(text=text(i0), name="info", width=width)
    slider = Slider(start=0, end=len(thresholds) - 1, value=i0, step=1, show_value=False,
                    title=f"threshold = {ths[i0]:.2f}", name="threshold", width=width - 20)
    slider.js_on_change("value", CustomJS(args=dict(edges=edges, info=info, ths=ths, probs=ps_, kept=kept,
                                                    total=len(pairs), label=label), code="""
        const i = Math.round(cb_obj.value);
        edges.data = Object.assign({}, edges.data, {alpha: edges.data['a' + i], width: edges.data['w' + i]});
        cb_obj.title = 'threshold = ' + ths[i].toFixed(2);
        info.text = '<b>threshold ' + ths[i].toFixed(2) + '</b>: ' + kept[i] + ' of ' + total +
                    ' edges kept; p(' + label + ') = ' + probs[i].toFixed(2);
    """))
    return InteractiveFigure(column(info, fig, slider))
