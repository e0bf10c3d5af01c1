r"""Random walks on a graph, vectorized over all walkers at once, in pure PyTorch.

The book uses them to define node similarity by co-occurrence on short random walks:
DeepWalk :cite:`perozzi2014deepwalk` walks uniformly, node2vec :cite:`grover2016node2vec`
biases each step by where the walker came from (return parameter ``p``, in-out
parameter ``q``).

The graph is stored in CSR form: the out-neighbours of node ``v`` are
``col[rowptr[v]:rowptr[v + 1]]``, sorted. A walk step for every walker is then a handful of
tensor operations (gather the degree, draw an offset, gather the neighbour), with no Python
loop over walkers; chunks of walkers run on separate threads (torch releases the GIL
inside each operation). pyg-lib's compiled random walk is not used: it is not installed in the
course environment, and this pure-PyTorch version is what the tests check.

Conventions
    * Edges are followed from ``edge_index[0]`` to ``edge_index[1]``; give an undirected
      graph with both directions (as PyG datasets do).
    * A walker at a node without out-neighbours (an isolated node, or a sink of a directed
      graph) stays where it is for the remaining steps: its walk repeats that node.
"""
from __future__ import annotations

import math
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Tuple

import torch
from torch import Tensor

from .utils import check_edge_index

__all__ = ["to_csr", "check_csr", "random_walks"]


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


def check_csr(rowptr: Tensor, col: Tensor, scan: bool = True) -> int:
    """Validate a CSR pair ``(rowptr, col)`` and return the number of nodes.

    The O(1) checks (1-D integer tensors, ``rowptr`` from 0 to ``len(col)``) always run;
    ``scan=True`` adds the O(N + E) ones (``rowptr`` non-decreasing, every ``col`` a node id).
    A hot loop that receives the same CSR every call checks it once with ``scan=True``
    and then with ``scan=False``.

    Example:
        >>> check_csr(torch.tensor([0, 1, 2]), torch.tensor([1, 0]))
        2
    """
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
    if not scan:
        return rowptr.numel() - 1
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


class _EdgeSet:
    """Exact membership test ``x in N(t)`` for many pairs at once.

    A dense boolean adjacency matrix for small graphs (one gather per query); otherwise an
    open-addressing hash table of the edge keys ``t * N + x`` with linear probing, laid out
    by sorting the keys by their home slot: key ``i`` (in that order) lands in slot
    ``max(home_i, slot_{i-1} + 1)``, a running maximum. A query then compares the ``K``
    slots from its home on (``K`` = the longest probe of any key, a handful), in one gather.
    ``torch.searchsorted`` over all edges would do the same job 5-10 times slower.
    """

    DENSE_MAX_NODES = 4096  # a dense N x N bool matrix up to 16 MB
    _GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)  # Fibonacci hashing multiplier, as int64

    def __init__(self, src: Tensor, dst: Tensor, num_nodes: int):
        self.n = num_nodes
        key = src * num_nodes + dst
        if num_nodes <= self.DENSE_MAX_NODES:
            self.dense = torch.zeros(num_nodes * num_nodes, dtype=torch.bool)
            self.dense[key] = True
            return
        self.dense = None
        self.bits = max(4, (key.numel() - 1).bit_length() + 2)  # load factor <= 1/4
        home, order = torch.sort(self._home(key))
        rank = torch.arange(key.numel())
        slot = rank + torch.cummax(home - rank, 0).values  # linear probing, all keys at once
        self.window = int((slot - home).max()) + 1
        self.table = torch.full((max(1 << self.bits, int(slot[-1]) + 1) + self.window,), -1, dtype=torch.long)
        self.table[slot] = key.index_select(0, order)

    def _home(self, key: Tensor) -> Tensor:
        return ((key * self._GOLDEN) >> (64 - self.bits)) & ((1 << self.bits) - 1)

    def contains(self, src: Tensor, dst: Tensor) -> Tensor:
        """``[n]`` bool: whether each ``src[i] -> dst[i]`` is an edge."""
        key = torch.add(dst, src, alpha=self.n)
        if self.dense is not None:
            return self.dense.index_select(0, key)
        windows = self.table.as_strided((self.table.numel() - self.window + 1, self.window), (1, 1))
        return (windows.index_select(0, self._home(key)) == key.unsqueeze(1)).any(1)


class GraphSetUp:
    """What every walker's step reads: the stay-put CSR, and for node2vec the edge set."""

    def __init__(self, rowptr: Tensor, col: Tensor, second_order: bool,
                 p: float = 1.0, q: float = 1.0, steps: int = 0, tables: Optional[bool] = None):
        self.ptr, self.deg, self.col = _stay_put_csr(rowptr, col)
        self.degm1 = self.deg - 1
        num_nodes, num_edges = self.deg.numel(), self.col.numel()
        # ptr * 2**31 + r * deg, shifted right by 31, is ptr + floor(r * deg / 2**31)
        self.base = self.ptr << 31 if num_edges < 2**31 else None
        self.edges, self.symmetric = None, True
        if second_order:
            src = torch.repeat_interleave(torch.arange(num_nodes), self.deg)
            self.edges = _EdgeSet(src, self.col, num_nodes)
            self.symmetric = bool(self.edges.contains(self.col, src).all())
        self.tables, self.entries = False, None
        if second_order:
            row_sizes = self.deg.index_select(0, self.col)  # [E] neighbours after each edge
            self.entries = int(row_sizes.sum())  # sum of deg(v)**2 over the nodes v
            if self.wants_tables(steps, tables):
                self._build_tables(src, row_sizes, self.entries, p, q)

    def wants_tables(self, steps: int, tables: Optional[bool] = None) -> bool:
        """Whether a call of ``steps`` walk steps uses per-edge tables (second order only):
        as ``tables`` says, or when ``None``, if they pay for themselves within the call."""
        if self.entries is None:
            return False
        return tables if tables is not None else self.entries <= steps * TABLE_ENTRIES_PER_STEP

    def _build_tables(self, src: Tensor, row_sizes: Tensor, entries: int, p: float, q: float) -> None:
        r"""Per-edge tables for second-order steps without rejection.

        For every edge :math:`e = (t \to v)`, the neighbours of :math:`v` listed by their
        weight: first the :math:`c_e` common neighbours of :math:`t` and :math:`v` (weight
        1), then the :math:`f_e` far ones (weight :math:`1/q`), then the return :math:`t`
        (weight :math:`1/p`, if :math:`v \to t` is an edge), each as its position in ``col``.
        ``sum(deg(v)**2)`` entries, built with one edge-set test per entry.
        """
        self.tables = True
        edge = torch.repeat_interleave(torch.arange(row_sizes.numel()), row_sizes)  # [entries]
        self.row_start = torch.cumsum(row_sizes, 0) - row_sizes
        slot = torch.arange(entries) - self.row_start.index_select(0, edge)
        pos = self.ptr.index_select(0, self.col).index_select(0, edge) + slot  # candidate x's position
        x, t = self.col.index_select(0, pos), src.index_select(0, edge)
        kind = torch.where(x == t, 2, torch.where(self.edges.contains(t, x), 0, 1))  # common, far, return
        order = torch.sort(edge * 3 + kind, stable=True).indices  # rows stay in place, sorted by kind
        self.next_pos = pos.index_select(0, order)
        counts = torch.bincount(edge * 3 + kind, minlength=3 * row_sizes.numel()).view(-1, 3).double()
        self.common = counts[:, 0].contiguous()                       # c_e
        self.far_mass = counts[:, 1] / q                              # f_e / q
        self.total = self.common + self.far_mass + counts[:, 2] / p   # the row's total weight
        self.last_slot = row_sizes - 1

    def table_move(self, pos: Tensor, q: float, generator: Optional[torch.Generator]) -> Tensor:
        r"""One exact second-order step from the edges at ``pos`` (positions in ``col``).

        Draw :math:`z` uniform in :math:`[0, c_e + f_e/q + r_e/p)`; the piecewise-linear map
        :math:`s = \min(z, c_e) + q \min(\max(z - c_e, 0), f_e/q)` sends the common part to
        slots :math:`[0, c_e)`, the far part to :math:`[c_e, c_e + f_e)` and the return's
        part to slot :math:`c_e + f_e`: slot :math:`\lfloor s \rfloor` of the edge's table.
        Returns the positions in ``col`` of the edges taken.
        """
        z = torch.rand(pos.numel(), generator=generator, dtype=torch.float64).mul_(self.total.index_select(0, pos))
        common = self.common.index_select(0, pos)
        s = torch.minimum(z, common)
        s += torch.minimum((z - common).clamp_(min=0.0), self.far_mass.index_select(0, pos)).mul_(q)
        slot = torch.minimum(s.long(), self.last_slot.index_select(0, pos))  # against rounding
        return self.next_pos.index_select(0, self.row_start.index_select(0, pos) + slot)

    def uniform_move(self, cur: Tensor, bits: Tensor, out: Tensor) -> Tensor:
        """One uniform step from ``cur``, the next nodes written into ``out``."""
        return torch.index_select(self.col, 0, self.uniform_pos(cur, bits), out=out)

    def uniform_pos(self, cur: Tensor, bits: Tensor) -> Tensor:
        """One uniform step from ``cur``: neighbour ``floor(bits * deg / 2**31)`` of each.

        ``bits`` holds 31 random bits per walker, so every neighbour has probability within
        ``2**-31`` of ``1/deg``; the offset stays below ``deg`` by construction.
        Four operations, each in place where it can be.
        """
        deg = self.deg.index_select(0, cur)
        if self.base is not None:
            return self.base.index_select(0, cur).addcmul_(bits, deg).bitwise_right_shift_(31)
        return deg.mul_(bits).bitwise_right_shift_(31).add_(self.ptr.index_select(0, cur))


_BITS31 = (1 << 31) - 1


def random_bits(steps: int, n: int, generator: Optional[torch.Generator]) -> Tensor:
    """``[steps, n]`` 31-bit random integers for the uniform steps, two from each 63-bit draw.

    All draws of a walk are made at once (``[ceil(steps / 2), n]``); row ``i`` holds the low
    (``i`` even) or the high (``i`` odd) 31 bits of draw ``i // 2``: two operations in all,
    none per step.
    """
    draws = torch.empty((steps + 1) // 2, n, dtype=torch.long).random_(generator=generator)
    bits = torch.empty(draws.size(0), 2, n, dtype=torch.long)
    torch.bitwise_and(draws, _BITS31, out=bits[:, 0])
    torch.bitwise_right_shift(draws, 32, out=bits[:, 1])
    return bits.view(-1, n)[:steps]


def _node2vec_proposals(g: GraphSetUp, t: Tensor, ptr: Tensor, deg: Tensor, degm1: Tensor,
                        scale: Tensor, p: float, q: float,
                        generator: Optional[torch.Generator]) -> Tuple[Tensor, Tensor]:
    r"""One proposal per entry, with the return edge folded out (exact rejection sampling).

    The envelope gives each of the ``deg`` neighbours the mass :math:`B = \max(1, 1/q)`
    and the return edge :math:`t` an extra mass :math:`1/p`, taken whole:
    :math:`z = u \cdot (\deg + R/B)` with :math:`R = 1/p` if the walker can return, else 0.
    :math:`z \ge \deg` proposes the return, always accepted. Otherwise neighbour
    :math:`x = N(v)[\lfloor z \rfloor]` is proposed; the fractional part of :math:`z` is a
    fresh uniform draw that accepts it with probability :math:`\alpha_{pq}(t, x) / B`,
    where a proposal of :math:`t` itself has weight 0 (its mass is all in the return).
    The envelope is thus :math:`\max(1, 1/q)`, whatever :math:`p` is. The membership
    test :math:`x \in N(t)` runs only where the fractional part alone cannot decide.
    Returns ``(x, accepted)``.
    """
    z = torch.rand(t.numel(), generator=generator, dtype=torch.float64).mul_(scale)
    returns = z >= deg
    k = torch.minimum(z.long(), degm1)
    x = g.col.index_select(0, ptr + k)
    moves = x != t
    if q == 1.0:  # every non-return neighbour weighs 1 = B
        accept = moves.logical_or_(returns)
    else:
        # q > 1: weights 1 (x in N(t)) or 1/q, B = 1: accept if frac < 1/q or x in N(t)
        # q < 1: weights 1 (x in N(t)) or 1/q = B: accept if frac < q or x not in N(t)
        decided = (torch.frac(z) < (1.0 / q if q > 1 else q)).logical_or_(returns)
        accept = decided & (moves | returns)
        test = (moves & ~decided).nonzero().squeeze(1)
        if test.numel():
            member = g.edges.contains(t.index_select(0, test), x.index_select(0, test))
            accept.index_copy_(0, test, member if q > 1 else ~member)
    return torch.where(returns, t, x), accept


def _node2vec_move(g: GraphSetUp, prev: Tensor, cur: Tensor, p: float, q: float,
                   generator: Optional[torch.Generator]) -> Tensor:
    """One exact second-order step for every walker: rounds of proposals until all accept.

    The first round gives every walker one proposal. Each later round gives each walker
    still waiting ``m`` proposals at once (``m`` from the acceptance rate seen so far, the
    work bounded by the first round's) and keeps the first accepted one: the same outcome
    as proposing one after the other, with a few rounds instead of dozens.
    """
    ptr, deg, degm1 = g.ptr.index_select(0, cur), g.deg.index_select(0, cur), g.degm1.index_select(0, cur)
    big_b = max(1.0, 1.0 / q)
    if g.symmetric:  # t is a neighbour of v for every walker: a return is always possible
        scale = deg + 1.0 / (p * big_b)
    else:
        scale = deg + g.edges.contains(cur, prev).double().mul_(1.0 / (p * big_b))
    x, accept = _node2vec_proposals(g, prev, ptr, deg, degm1, scale, p, q, generator)
    nxt = x
    todo = (~accept).nonzero().squeeze(1)
    n = cur.numel()
    rate = max(1.0 - todo.numel() / n, 1.0 / 64)  # acceptance rate of the first round
    while todo.numel():
        w = todo.numel()
        # enough proposals per walker that all accept with probability ~0.999, within n draws
        m = max(1, min(n // w, math.ceil(math.log(1e-3 / w) / math.log1p(-rate)) if rate < 1 else 1))
        sel = todo.repeat(m)  # [m * w]: proposal j of waiting walker i at j * w + i
        x, accept = _node2vec_proposals(
            g, prev.index_select(0, sel), ptr.index_select(0, sel), deg.index_select(0, sel),
            degm1.index_select(0, sel), scale.index_select(0, sel), p, q, generator)
        # index of each walker's first accepted proposal: the number of rejections before it
        first = (accept.view(m, w).cumsum(0) == 0).sum(0)
        got = first < m
        chosen = x.view(m, w).gather(0, first.clamp(max=m - 1).unsqueeze(0)).squeeze(0)
        nxt.index_copy_(0, todo[got], chosen[got])
        todo = todo[~got]
    return nxt


def _walk_chunk(g: GraphSetUp, start: Tensor, out: Tensor, p: float, q: float,
                generator: Optional[torch.Generator]) -> None:
    """Walk every walker of one chunk to the end, writing ``out`` (``[n, L + 1]``).

    Step ``i`` of every walker goes to row ``i`` of a ``[L + 1, n]`` buffer, one contiguous
    row per step (an operation's ``out=`` where it can), and one transposing copy fills
    ``out`` at the end: each step costs one operation fewer than writing column ``i`` of
    ``out`` would, and the chunk's thread takes the GIL fewer times.
    """
    walk_length = out.size(1) - 1
    steps = torch.empty(walk_length + 1, start.numel(), dtype=torch.long)
    rows = steps.unbind(0)
    rows[0].copy_(start)
    uniform = p == 1 and q == 1
    bits = random_bits(walk_length if uniform else 1, start.numel(), generator).unbind(0)
    if g.tables:  # the walker's state is the edge it last took
        pos = g.uniform_pos(start, bits[0])
        torch.index_select(g.col, 0, pos, out=rows[1])
        for i in range(2, walk_length + 1):
            pos = g.table_move(pos, q, generator)
            torch.index_select(g.col, 0, pos, out=rows[i])
    elif uniform:
        for i in range(1, walk_length + 1):
            g.uniform_move(rows[i - 1], bits[i - 1], out=rows[i])
    else:
        g.uniform_move(start, bits[0], out=rows[1])  # the first step has no previous node: uniform
        for i in range(2, walk_length + 1):
            rows[i].copy_(_node2vec_move(g, rows[i - 2], rows[i - 1], p, q, generator))
    out.copy_(steps.t())


# Per-edge tables (no rejection) when their sum(deg(v)**2) entries are at most this many per
# walk step of the call: building an entry costs about what a step does (a 2,708-node citation graph,
# 10 walks of 40 per node: 115k entries for 1.08M steps; the 1M-edge random graph, 1 walk per node:
# 11M entries for 4M steps, so rejection sampling there).
TABLE_ENTRIES_PER_STEP = 0.25

KEPT_SET_UPS = 2  # graph set-ups kept between calls, the most recently used ones
kept_set_ups: list = []  # (weak ref to rowptr, weak ref to col, key, GraphSetUp), the most recent last


def graph_set_up(rowptr: Tensor, col: Tensor, p: float, q: float, steps: int,
                 tables: Optional[bool] = None) -> GraphSetUp:
    """The set-up of ``(rowptr, col)`` for ``(p, q)``: a kept one, if one fits, else a new one.

    One fits when this call passes the very same two tensors, unchanged since (their
    version counters), with the same ``p`` and ``q``, and the same choice of tables: then
    a fresh set-up would be equal to it. A loop that draws fresh walks on one graph (every
    epoch, say) so builds the edge set and the tables once, as the walk libraries do. The
    ``KEPT_SET_UPS`` most recently used set-ups are kept, with weak references to the
    tensors they were built from.
    """
    key = (rowptr._version, col._version, float(p), float(q))
    for i, (rowptr_ref, col_ref, kept_key, g) in enumerate(kept_set_ups):
        if (rowptr_ref() is rowptr and col_ref() is col and kept_key == key
                and g.tables == g.wants_tables(steps, tables)):
            kept_set_ups.append(kept_set_ups.pop(i))
            return g
    g = GraphSetUp(rowptr, col, not (p == 1 and q == 1), p, q, steps=steps, tables=tables)
    kept_set_ups.append((weakref.ref(rowptr), weakref.ref(col), key, g))
    del kept_set_ups[:-KEPT_SET_UPS]
    return g


CHUNK = 16384  # walkers per chunk: each chunk walks on its own thread, with its own RNG


def walker_chunks(num_walkers: int) -> list:
    """Row ranges of the chunks: an even number of near-equal parts of at most ``CHUNK`` rows.

    The split depends on the number of walkers only, never on the number of threads, so a
    seed gives the same walks on one thread as on many.
    """
    k = -(-num_walkers // CHUNK)
    if k > 1:
        k += k % 2
    bounds = [num_walkers * i // k for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def random_walks(
    rowptr: Tensor,
    col: Tensor,
    start: Tensor,
    walk_length: int,
    p: float = 1.0,
    q: float = 1.0,
    generator: Optional[torch.Generator] = None,
    tables: Optional[bool] = None,
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

    The first step has no previous node and is uniform. Second-order steps are drawn
    exactly by rejection sampling with the return edge folded out (as in KnightKing): the
    return to :math:`t` gets its own proposal mass :math:`1/p`, every neighbour the mass
    :math:`B = \max(1, 1/q)`, and a neighbour proposal is accepted with probability
    :math:`\alpha_{pq}(t, x) / B`. The envelope no longer depends on ``p``, so even
    ``p = 0.25, q = 4`` accepts most proposals. When the graph is small next to the walk
    (:math:`\sum_v \deg(v)^2` at most ``TABLE_ENTRIES_PER_STEP`` times its steps, as on
    small citation graphs) or when ``tables=True``, each step instead reads per-edge tables of
    the neighbours sorted by weight, with no rejection at all. Uniform offsets come from 31 random bits
    (each neighbour's probability is within :math:`2^{-31}` of :math:`1/\deg(v)`).

    The graph's set-up (the edge set, the tables) is kept from one call to the next on the
    same ``rowptr`` and ``col`` tensors, unchanged, with the same ``p`` and ``q`` (the
    ``KEPT_SET_UPS`` most recently used): a loop drawing fresh walks on one graph builds it once.

    The walkers are split into chunks of at most ``CHUNK`` (an even number of chunks when
    there are several), each walked on its own thread with its own generator seeded from
    ``generator``: up to ``torch.get_num_threads()`` chunks run at once, and a seed gives
    the same walks whatever the number of threads.

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
        tables: for node2vec walks, ``True`` samples every step from per-edge tables,
            ``False`` by rejection; ``None`` (default) takes the tables when their
            :math:`\sum_v \deg(v)^2` entries are at most ``TABLE_ENTRIES_PER_STEP`` per walk
            step of this call. Both are exact, but a seed gives other walks with each. Tables
            pay off when many calls walk the same graph (the set-up is kept between calls):
            on a random graph of 1M edges they take 2.6 s to build once (11M entries) and then
            walk 2-6x faster than rejection. Ignored for uniform walks.

    Returns:
        ``[W, L + 1]`` ``torch.long``: row ``i`` is the walk ``start[i], c_1, ..., c_L``.
    """
    num_nodes = check_csr(rowptr, col)
    if not isinstance(start, Tensor) or start.dim() != 1 or start.dtype not in (torch.int64, torch.int32):
        raise ValueError("start must be a 1-D integer tensor of node ids, e.g. torch.arange(num_nodes)")
    if start.numel() and (int(start.min()) < 0 or int(start.max()) >= num_nodes):
        raise ValueError(f"start contains node ids outside 0..{num_nodes - 1}")
    if not isinstance(walk_length, int) or isinstance(walk_length, bool) or walk_length < 0:
        raise ValueError(f"walk_length must be a non-negative int, got {walk_length!r}")
    for name, val in (("p", p), ("q", q)):
        if not isinstance(val, (int, float)) or isinstance(val, bool) or not math.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {val!r} (p = q = 1 gives DeepWalk)")

    if tables not in (None, True, False):
        raise ValueError(f"tables must be None (choose by size), True or False, got {tables!r}")

    rowptr, col, start = rowptr.long(), col.long(), start.long()
    if not (p == 1 and q == 1) and not _rows_sorted(rowptr, col):
        raise ValueError(
            "each row of col must be sorted: node2vec walks (p or q != 1) take the sorted, "
            "duplicate-free rows that to_csr builds (a duplicate neighbour would count twice); "
            "build (rowptr, col) with to_csr(edge_index, num_nodes)")
    walks = torch.empty(start.numel(), walk_length + 1, dtype=torch.long)
    if walk_length == 0 or start.numel() == 0:
        walks[:, 0] = start
        return walks
    threads = torch.get_num_threads()
    # The graph's set-up runs on one thread: its operations are short, and an OpenMP
    # parallel region waits for every thread, which on a busy machine costs a scheduler
    # time slice per operation (measured: 0.5 s instead of 10 ms on a 2,708-node graph, the other core busy)
    torch.set_num_threads(1)
    try:
        g = graph_set_up(rowptr, col, p, q, steps=start.numel() * walk_length, tables=tables)
    finally:
        torch.set_num_threads(threads)
    chunks = walker_chunks(start.numel())
    if len(chunks) == 1:
        _walk_chunk(g, start, walks, p, q, generator)
        return walks
    seeds = torch.randint(0, 2**62, (len(chunks),), generator=generator).tolist()
    jobs = [(g, start[a:b], walks[a:b], p, q, torch.Generator().manual_seed(s))
            for (a, b), s in zip(chunks, seeds)]
    threads = min(threads, len(jobs))
    if threads == 1:
        for job in jobs:
            _walk_chunk(*job)
    else:  # torch releases the GIL inside each operation: the chunks' steps overlap
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda job: _walk_chunk(*job), jobs))
    return walks
