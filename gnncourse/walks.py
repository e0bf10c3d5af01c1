r"""Random walks on a graph, vectorized over all walkers at once, in pure PyTorch.

Chapter 01 uses them to define node similarity by co-occurrence on short random walks:
DeepWalk :cite:`perozzi2014deepwalk` walks uniformly, node2vec :cite:`grover2016node2vec`
biases each step by where the walker came from (return parameter ``p``, in-out
parameter ``q``).

The graph is stored in CSR form: the out-neighbours of node ``v`` are
``col[rowptr[v]:rowptr[v + 1]]``, sorted. A walk step for every walker is then a handful of
tensor operations (gather the degree, draw an offset, gather the neighbour), with no Python
loop over walkers. pyg-lib's compiled random walk is not used: it is not installed in the
course environment, and this pure-PyTorch version is what the tests check.

Conventions
    * Edges are followed from ``edge_index[0]`` to ``edge_index[1]``; give an undirected
      graph with both directions (as PyG datasets do).
    * A walker at a node without out-neighbours (an isolated node, or a sink of a directed
      graph) stays where it is for the remaining steps: its walk repeats that node.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import Tensor

from .utils import check_edge_index

__all__ = ["to_csr", "random_walks"]


def to_csr(edge_index: Tensor, num_nodes: int, coalesce: bool = True) -> Tuple[Tensor, Tensor]:
    r"""Convert ``edge_index`` to compressed sparse rows (CSR), neighbours sorted.

    .. math:: N(v) = \{\, \mathrm{col}[i] : \mathrm{rowptr}[v] \le i < \mathrm{rowptr}[v+1] \,\}

    Args:
        edge_index: ``[2, E]`` edges ``u -> v`` (row 0 source, row 1 target).
        num_nodes: ``N``; nodes without edges get an empty row.
        coalesce: drop duplicate edges (default), so every neighbour appears once and a
            uniform step picks each neighbour with probability :math:`1/\deg(v)`.

    Returns:
        ``(rowptr, col)``: ``rowptr`` of shape ``[N + 1]`` (``rowptr[0] = 0``,
        ``rowptr[N] = E'``) and ``col`` of shape ``[E']``, both ``torch.long``; ``col`` is
        sorted within each row.
    """
    if not isinstance(num_nodes, int) or isinstance(num_nodes, bool) or num_nodes < 0:
        raise ValueError(f"num_nodes must be a non-negative int, got {num_nodes!r}")
    check_edge_index(edge_index, num_nodes)
    row, col = edge_index.long()
    key = row * num_nodes + col  # sorting by key sorts by (row, col)
    key = torch.unique(key) if coalesce else torch.sort(key).values
    row, col = key // max(num_nodes, 1), key % max(num_nodes, 1)
    deg = torch.bincount(row, minlength=num_nodes)
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
    torch.cumsum(deg, 0, out=rowptr[1:])
    return rowptr, col


def _check_csr(rowptr: Tensor, col: Tensor) -> int:
    """Validate a CSR pair and return the number of nodes."""
    for name, t in (("rowptr", rowptr), ("col", col)):
        if not isinstance(t, Tensor) or t.dim() != 1:
            raise ValueError(f"{name} must be a 1-D torch.Tensor; build (rowptr, col) with to_csr(edge_index, num_nodes)")
        if t.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name} must hold integers (torch.long), got dtype {t.dtype}")
    if rowptr.numel() == 0 or int(rowptr[0]) != 0 or int(rowptr[-1]) != col.numel():
        raise ValueError(
            "rowptr must start at 0 and end at len(col) "
            f"(got rowptr[0]={rowptr[:1].tolist()}, rowptr[-1]={rowptr[-1:].tolist()}, len(col)={col.numel()}); "
            "build (rowptr, col) with to_csr(edge_index, num_nodes)"
        )
    if bool((rowptr[1:] < rowptr[:-1]).any()):
        raise ValueError("rowptr must be non-decreasing; build (rowptr, col) with to_csr(edge_index, num_nodes)")
    num_nodes = rowptr.numel() - 1
    if col.numel() and (int(col.min()) < 0 or int(col.max()) >= num_nodes):
        raise ValueError(f"col refers to nodes outside 0..{num_nodes - 1}; rowptr has {num_nodes + 1} entries")
    return num_nodes


def _rows_sorted(rowptr: Tensor, col: Tensor) -> bool:
    """Whether ``col`` is non-decreasing within every row of the CSR."""
    if col.numel() < 2:
        return True
    row_start = torch.zeros(col.numel(), dtype=torch.bool)
    bounds = rowptr[1:-1]
    row_start[bounds[bounds < col.numel()]] = True  # a new row begins here
    return not bool(((col[1:] < col[:-1]) & ~row_start[1:]).any())


def _stay_put_csr(rowptr: Tensor, col: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """``(ptr, deg, col)`` in which a node without out-neighbours has one virtual self-loop.

    A uniform step can then skip any special case: the walker at such a node "moves" to
    itself, which is the documented stay-put rule. ``ptr = rowptr[:-1]``, ``deg >= 1``.
    """
    deg = rowptr[1:] - rowptr[:-1]
    sinks = (deg == 0).nonzero().flatten()
    if sinks.numel() == 0:
        return rowptr[:-1], deg, col
    new_deg = deg.clamp(min=1)
    ptr = torch.cumsum(new_deg, 0) - new_deg
    new_col = torch.empty(int(new_deg.sum()), dtype=torch.long)
    row = torch.repeat_interleave(torch.arange(deg.numel()), deg)  # source of every real edge
    new_col[ptr.index_select(0, row) + torch.arange(col.numel()) - rowptr.index_select(0, row)] = col
    new_col[ptr.index_select(0, sinks)] = sinks
    return ptr, new_deg, new_col


def _uniform_step(ptr: Tensor, deg: Tensor, col: Tensor, cur: Tensor,
                  generator: Optional[torch.Generator]) -> Tensor:
    """One uniform step for every walker: a neighbour of ``cur`` drawn with prob. 1/deg.

    ``(ptr, deg, col)`` from :func:`_stay_put_csr` (every ``deg >= 1``). ``index_select`` is
    the same gather as ``ptr[cur]``, several times faster on the CPU.
    """
    u = torch.rand(cur.numel(), generator=generator, dtype=torch.float64)
    # u <= 1 - 2**-53, so in float64 u * deg < deg for every deg < 2**52: offset in 0..deg-1
    offset = (u * deg.index_select(0, cur)).long()
    return col.index_select(0, ptr.index_select(0, cur) + offset)


def _is_edge(key: Tensor, num_nodes: int, src: Tensor, dst: Tensor) -> Tensor:
    """Whether each ``src[i] -> dst[i]`` is an edge; ``key`` = sorted ``row * N + col``."""
    if key.numel() == 0:
        return torch.zeros_like(src, dtype=torch.bool)
    query = src * num_nodes + dst
    pos = torch.searchsorted(key, query).clamp_(max=key.numel() - 1)
    return key.index_select(0, pos) == query


def _node2vec_step(
    csr: Tuple[Tensor, Tensor, Tensor],
    key: Tensor,
    prev: Tensor,
    cur: Tensor,
    p: float,
    q: float,
    generator: Optional[torch.Generator],
) -> Tensor:
    r"""One second-order step for every walker, by rejection sampling (exact).

    Propose :math:`x` uniformly from :math:`N(v)` and accept it with probability
    :math:`\alpha_{pq}(t, x) / \alpha_{\max}`, :math:`\alpha_{\max} = \max(1/p, 1, 1/q)`;
    rejected walkers propose again. The accepted :math:`x` then has probability
    proportional to :math:`\alpha_{pq}(t, x)`. A proposal whose uniform draw falls below
    :math:`\alpha_{\min} / \alpha_{\max}` is accepted whatever :math:`x` is, without the
    (costlier) test :math:`x \in N(t)`.
    """
    num_nodes = csr[0].numel()
    nxt = cur.clone()
    a_return, a_out = 1.0 / p, 1.0 / q
    a_max, a_min = max(a_return, 1.0, a_out), min(a_return, 1.0, a_out)
    todo = torch.arange(cur.numel())
    while todo.numel():
        t, v = prev.index_select(0, todo), cur.index_select(0, todo)
        x = _uniform_step(*csr, v, generator)
        u = torch.rand(todo.numel(), generator=generator, dtype=torch.float64) * a_max
        accept = u < a_min  # accepted whatever alpha(t, x) is
        check = (~accept).nonzero().flatten()
        if check.numel():
            tc, xc = t.index_select(0, check), x.index_select(0, check)
            if q == 1.0:  # "x in N(t)" and "x far from t" weigh the same: skip the edge test
                alpha = torch.where(xc == tc, a_return, 1.0)
            else:
                alpha = torch.where(_is_edge(key, num_nodes, tc, xc), 1.0, a_out)
                alpha = torch.where(xc == tc, a_return, alpha)
            accept.index_copy_(0, check, u.index_select(0, check) < alpha)
        done = accept.nonzero().flatten()
        nxt.index_copy_(0, todo.index_select(0, done), x.index_select(0, done))
        todo = todo.masked_select(~accept)
    return nxt


def random_walks(
    rowptr: Tensor,
    col: Tensor,
    start: Tensor,
    walk_length: int,
    p: float = 1.0,
    q: float = 1.0,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    r"""Random walks from every node in ``start``, all walkers stepping together.

    With ``p = q = 1`` each step is uniform, as in DeepWalk:
    :math:`P(c_{i+1} = x \mid c_i = v) = 1/\deg(v)` for :math:`x \in N(v)`.
    Otherwise the walk is node2vec's second-order walk: having arrived at :math:`v` from
    :math:`t`, it moves to :math:`x \in N(v)` with probability proportional to

    .. math::

        \alpha_{pq}(t, x) = \begin{cases}
            1/p & \text{if } x = t \quad\text{(return)} \\
            1   & \text{if } x \in N(t) \quad\text{(stay at distance 1 from } t) \\
            1/q & \text{otherwise} \quad\text{(move outward)}
        \end{cases}

    The first step has no previous node and is uniform. Steps are drawn exactly by
    rejection sampling: a uniform proposal is accepted with probability
    :math:`\alpha_{pq}(t, x) / \max(1/p, 1, 1/q)`. A step then costs on average
    :math:`\max(1/p, 1, 1/q) / \bar\alpha` proposals (:math:`\bar\alpha` the mean weight
    of the neighbours): cheap for moderate settings, slow for extreme ones such as
    ``p = 0.25, q = 4``, where most proposals are rejected.

    A walker at a node without out-neighbours stays put: the rest of its row repeats that
    node (so an isolated start node gives a constant walk).

    Args:
        rowptr, col: the graph in CSR form, from :func:`to_csr`; ``col`` sorted per row.
        start: ``[W]`` start node of each walker.
        walk_length: number of steps :math:`L \ge 0`.
        p: return parameter, ``> 0``; small ``p`` makes walks backtrack often.
        q: in-out parameter, ``> 0``; ``q < 1`` walks outward (DFS-like), ``q > 1`` stays
            local (BFS-like).
        generator: a ``torch.Generator`` for reproducible walks (default: global RNG).

    Returns:
        ``[W, L + 1]`` ``torch.long``: row ``i`` is the walk ``start[i], c_1, ..., c_L``.
    """
    num_nodes = _check_csr(rowptr, col)
    if not isinstance(start, Tensor) or start.dim() != 1 or start.dtype not in (torch.int64, torch.int32):
        raise ValueError("start must be a 1-D integer tensor of node ids, e.g. torch.arange(num_nodes)")
    if start.numel() and (int(start.min()) < 0 or int(start.max()) >= num_nodes):
        raise ValueError(f"start contains node ids outside 0..{num_nodes - 1}")
    if not isinstance(walk_length, int) or isinstance(walk_length, bool) or walk_length < 0:
        raise ValueError(f"walk_length must be a non-negative int, got {walk_length!r}")
    for name, val in (("p", p), ("q", q)):
        if not isinstance(val, (int, float)) or isinstance(val, bool) or not math.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {val!r} (p = q = 1 gives DeepWalk)")

    rowptr, col, start = rowptr.long(), col.long(), start.long()
    if not (p == 1 and q == 1) and not _rows_sorted(rowptr, col):
        raise ValueError(
            "each row of col must be sorted: a node2vec step (p or q != 1) finds the previous "
            "node among the neighbours by binary search, and an unsorted row silently gives wrong "
            "probabilities; build (rowptr, col) with to_csr(edge_index, num_nodes)")
    walks = torch.empty(start.numel(), walk_length + 1, dtype=torch.long)
    walks[:, 0] = start
    if walk_length == 0 or start.numel() == 0:
        return walks
    csr = _stay_put_csr(rowptr, col)
    uniform = p == 1 and q == 1
    if not uniform:  # sorted edge keys for the membership test x in N(t)
        row = torch.repeat_interleave(torch.arange(num_nodes), rowptr[1:] - rowptr[:-1])
        key = row * num_nodes + col
    cur = _uniform_step(*csr, start, generator)
    walks[:, 1] = cur
    prev = start
    for i in range(2, walk_length + 1):
        if uniform:
            nxt = _uniform_step(*csr, cur, generator)
        else:
            nxt = _node2vec_step(csr, key, prev, cur, p, q, generator)
        walks[:, i] = nxt
        prev, cur = cur, nxt
    return walks
