r"""K-hop neighbour sampling: training a GNN on mini-batches of computation graphs.

A :math:`K`-layer GNN computes the output of node :math:`v` from its :math:`K`-hop
computation graph only. To train on a graph too large for full-batch training, take a
mini-batch of *seed* nodes, build (a sample of) their computation graphs, run the model
on that subgraph and put only the seeds' outputs into the loss (GraphSAGE,
:cite:`hamilton2017inductive`). Per-layer *fanouts* :math:`(k_1, \dots, k_K)` bound the
subgraph: each node expanded at hop :math:`\ell` keeps at most :math:`k_\ell` of its
neighbours, drawn uniformly *without* replacement, so a batch of :math:`b` seeds touches
at most :math:`b\,(1 + k_1 + k_1 k_2 + \dots + k_1 \cdots k_K)` nodes, whatever the size
of the graph.

The sampler here is pure, vectorized PyTorch (no ``pyg-lib``/``torch-sparse``).
Neighbours of :math:`v` are the *sources* of edges ``u -> v``: the nodes whose messages
:math:`v` aggregates, as in PyG's ``source_to_target`` flow. The subgraph it returns lists
the seeds first, so ``model(batch.x, batch.edge_index)[:batch.batch_size]`` are the seeds'
outputs.
"""
from __future__ import annotations

import numbers
import random
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from .utils import check_edge_index
from .walks import check_csr, to_csr

__all__ = [
    "SampledSubgraph",
    "in_csr",
    "sample_neighbors",
    "sample_neighbors_python",
    "expand_loop",
    "NeighborBatches",
]


@dataclass
class SampledSubgraph:
    r"""The union of the sampled computation graphs of a mini-batch of seed nodes.

    Attributes:
        nodes: global ids of the subgraph's nodes, shape ``[n]``; the ``num_seeds`` seeds come
            first, then the nodes first reached at hop 1, hop 2, ...
        edge_index: sampled edges in *local* ids (positions in ``nodes``), shape ``[2, e]``;
            row 0 is the sampled neighbour (message source), row 1 the node that sampled it.
        num_seeds: number of seed nodes, ``b``.
        num_sampled_nodes: nodes first reached at each hop, ``[b, n_1, ..., n_K]``
            (sums to ``n``).
        num_sampled_edges: edges sampled at each hop, ``[e_1, ..., e_K]`` (sums to ``e``).
    """

    nodes: Tensor
    edge_index: Tensor
    num_seeds: int
    num_sampled_nodes: List[int] = field(default_factory=list)
    num_sampled_edges: List[int] = field(default_factory=list)

    @property
    def num_nodes(self) -> int:
        return int(self.nodes.numel())

    def global_edge_index(self) -> Tensor:
        """The sampled edges in the original graph's node ids, shape ``[2, e]``."""
        return self.nodes[self.edge_index]


def in_csr(edge_index: Tensor, num_nodes: int) -> Tuple[Tensor, Tensor]:
    r"""Compressed in-neighbour lists: ``col[rowptr[v]:rowptr[v+1]]`` are the sources of
    the edges ``u -> v`` into ``v``, i.e. the nodes whose messages ``v`` aggregates.

    It is :func:`gnncourse.walks.to_csr` of the reversed edges (duplicates dropped, so
    "without replacement" means no neighbour twice), and it is the only storage of the graph
    the sampler needs: ``N + 1 + E`` integers.

    Args:
        edge_index: ``[2, E]`` edges ``source -> target``.
        num_nodes: ``N``.

    Returns:
        ``(rowptr, col)``: shapes ``[N + 1]`` and ``[E']``, ``torch.long``.
    """
    check_edge_index(edge_index, num_nodes)
    return to_csr(edge_index.flip(0), int(num_nodes))


def _whole(value) -> bool:
    """An int (or a 0-d integer tensor), not a bool and not a float that ``int()`` would cut."""
    if isinstance(value, Tensor):
        return value.dim() == 0 and not torch.is_floating_point(value) and value.dtype != torch.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_fanouts(fanouts: Sequence[int]) -> List[int]:
    if isinstance(fanouts, (int, float, str)) or not hasattr(fanouts, "__iter__"):
        raise ValueError(f"fanouts must be a list with one fanout per layer, e.g. [10, 5] for a "
                         f"2-layer GNN, got {fanouts!r}")
    fanouts = list(fanouts)
    if not all(_whole(k) for k in fanouts):
        raise ValueError(f"each fanout must be a whole number (a positive int, or -1 for all "
                         f"neighbours), got {fanouts}")
    fanouts = [int(k) for k in fanouts]
    if len(fanouts) == 0:
        raise ValueError("fanouts must list one fanout per layer, e.g. [10, 5] for a 2-layer GNN")
    bad = [k for k in fanouts if k == 0 or k < -1]
    if bad:
        raise ValueError(f"each fanout must be a positive int or -1 (all neighbours), got {fanouts}")
    return fanouts


def _check_seeds(seeds: Tensor, num_nodes: int) -> Tensor:
    if not isinstance(seeds, Tensor) or seeds.dim() != 1 or seeds.dtype not in (torch.int64, torch.int32):
        raise ValueError("seeds must be a 1-D integer tensor of node ids; for a boolean mask use mask.nonzero().flatten()")
    seeds = seeds.long()
    if seeds.numel() and (int(seeds.min()) < 0 or int(seeds.max()) >= num_nodes):
        raise ValueError(f"seeds must be node ids in [0, {num_nodes}); got ids from {int(seeds.min())} to {int(seeds.max())}")
    if torch.unique(seeds).numel() != seeds.numel():
        raise ValueError("seeds contain duplicates; pass each seed node once (e.g. torch.unique(seeds))")
    return seeds


def _sample_one_hop(
    rowptr: Tensor, col: Tensor, frontier: Tensor, fanout: int, generator: Optional[torch.Generator]
) -> Tuple[Tensor, Tensor]:
    r"""Up to ``fanout`` in-neighbours of each frontier node, uniformly without replacement.

    A node with :math:`d \le k` neighbours keeps all of them. The others draw a uniform
    :math:`k`-subset of the offsets :math:`\{0, \dots, d-1\}` with Floyd's algorithm, run
    for all of them at once: for :math:`j = d-k, \dots, d-1`, draw :math:`t` uniform in
    :math:`\{0, \dots, j\}` and keep :math:`t`, or :math:`j` if :math:`t` was kept
    already. That costs :math:`O(k^2)` per node whatever its degree (hubs included), with a
    Python loop over the :math:`k` draws only, never over nodes.

    Returns:
        ``(nbr, owner)``: global ids of the sampled neighbours and the position in
        ``frontier`` of the node that sampled each one.
    """
    start = rowptr[frontier]
    deg = rowptr[frontier + 1] - start
    take = deg if fanout < 0 else deg.clamp(max=fanout)
    owner = torch.repeat_interleave(torch.arange(frontier.numel()), take)
    offset = torch.arange(owner.numel()) - (torch.cumsum(take, 0) - take)[owner]  # 0..take-1 per node
    if fanout >= 0:
        big = deg > fanout  # nodes that must choose
        if bool(big.any()):
            d = deg[big]
            chosen = torch.empty(d.numel(), fanout, dtype=torch.long)
            for i in range(fanout):  # Floyd: one vectorized draw per kept neighbour
                j = d - fanout + i
                t = (torch.rand(d.numel(), generator=generator, dtype=torch.float64) * (j + 1)).long()
                t = torch.minimum(t, j)
                dup = (chosen[:, :i] == t[:, None]).any(1)
                chosen[:, i] = torch.where(dup, j, t)
            offset[big[owner]] = chosen.flatten()  # rows of big nodes are contiguous, k each
    return col[start[owner] + offset], owner


def sample_neighbors(
    rowptr: Tensor,
    col: Tensor,
    seeds: Tensor,
    fanouts: Sequence[int],
    generator: Optional[torch.Generator] = None,
    node_map: Optional[Tensor] = None,
) -> SampledSubgraph:
    r"""Sample the :math:`K`-hop computation graphs of ``seeds`` with per-layer fanouts.

    Hop :math:`\ell = 1, \dots, K` expands the nodes first reached at hop :math:`\ell - 1`
    (the seeds at hop 1): each keeps :math:`\min(k_\ell, d_v)` of its :math:`d_v`
    in-neighbours, a uniform random subset drawn without replacement (:math:`k_\ell = -1`
    keeps all). Every node is expanded once, so with all fanouts ``-1`` the subgraph holds
    every in-edge of every node within :math:`K - 1` hops of a seed, which is exactly what a
    :math:`K`-layer GNN needs to compute the seeds' outputs.

    Args:
        rowptr, col: the in-neighbour CSR from :func:`in_csr`, shapes ``[N + 1]``, ``[E]``.
        seeds: ``[b]`` distinct node ids (the mini-batch).
        fanouts: ``[k_1, ..., k_K]``, one per layer; ``k_1`` applies to the seeds.
        generator: a seeded ``torch.Generator`` for reproducible samples.
        node_map: optional scratch tensor ``[N]`` of ``-1`` (global id -> local id), reused
            across calls to save its allocation; it is left all ``-1`` again on return.

    Returns:
        A :class:`SampledSubgraph` with the seeds first and edges in local ids.
    """
    num_nodes = check_csr(rowptr, col, scan=False)
    fanouts = _check_fanouts(fanouts)
    seeds = _check_seeds(seeds, num_nodes)
    if node_map is None:
        node_map = torch.full((num_nodes,), -1, dtype=torch.long)
    elif node_map.shape != (num_nodes,) or node_map.dtype != torch.long:
        raise ValueError(f"node_map must be a torch.long tensor of shape [{num_nodes}] filled with -1")

    parts = [seeds]
    node_map[seeds] = torch.arange(seeds.numel())
    count = seeds.numel()
    frontier = seeds
    src_parts: List[Tensor] = []
    dst_parts: List[Tensor] = []
    num_sampled_nodes = [int(seeds.numel())]
    num_sampled_edges: List[int] = []
    try:
        for fanout in fanouts:
            nbr, owner = _sample_one_hop(rowptr, col, frontier, fanout, generator)
            # Nodes not in the subgraph yet get the next local ids (in ascending global id).
            new = torch.unique(nbr[node_map[nbr] < 0])
            node_map[new] = torch.arange(count, count + new.numel())
            src_parts.append(node_map[nbr])
            dst_parts.append(node_map[frontier][owner])
            parts.append(new)
            count += new.numel()
            num_sampled_nodes.append(int(new.numel()))
            num_sampled_edges.append(int(nbr.numel()))
            frontier = new
        nodes = torch.cat(parts)
    finally:
        node_map[torch.cat(parts)] = -1  # leave the scratch clean for the next call
    edge_index = torch.stack([torch.cat(src_parts), torch.cat(dst_parts)])
    return SampledSubgraph(nodes, edge_index, int(seeds.numel()), num_sampled_nodes, num_sampled_edges)


def expand_loop(
    neighbors_of: Callable[[int], List[int]], seeds: List[int], fanouts: Sequence[int], rng: random.Random
) -> SampledSubgraph:
    r"""Grow a (sampled) computation graph hop by hop with a plain Python loop over nodes.

    ``neighbors_of(v)`` lists the in-neighbours of ``v``; at hop :math:`\ell` each node first
    reached at hop :math:`\ell - 1` keeps ``rng.sample`` of :math:`k_\ell` of them (all if
    :math:`k_\ell = -1` or it has fewer). Shared by :func:`sample_neighbors_python` and
    :class:`gnncourse.inductive.GrowingGraph`, whose adjacency lives in Python lists.
    """
    nodes = list(seeds)
    local = {v: i for i, v in enumerate(nodes)}
    frontier = list(nodes)
    src, dst = [], []
    num_sampled_nodes, num_sampled_edges = [len(nodes)], []
    for fanout in fanouts:
        new, edges = [], 0
        for v in frontier:
            nbrs = neighbors_of(v)
            if 0 <= fanout < len(nbrs):
                nbrs = rng.sample(nbrs, fanout)
            for u in nbrs:
                if u not in local:
                    local[u] = len(nodes)
                    nodes.append(u)
                    new.append(u)
                src.append(local[u])
                dst.append(local[v])
            edges += len(nbrs)
        num_sampled_nodes.append(len(new))
        num_sampled_edges.append(edges)
        frontier = new
    edge_index = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    return SampledSubgraph(torch.tensor(nodes, dtype=torch.long), edge_index, len(seeds), num_sampled_nodes, num_sampled_edges)


def sample_neighbors_python(
    rowptr: Tensor, col: Tensor, seeds: Tensor, fanouts: Sequence[int], rng: Optional[random.Random] = None
) -> SampledSubgraph:
    r"""The same sampler as :func:`sample_neighbors`, written as a plain Python loop over
    nodes with ``random.sample``: the readable reference that the tests and the benchmark
    compare the vectorized version with. Slow; do not use it for training.
    """
    check_csr(rowptr, col, scan=False)
    fanouts = _check_fanouts(fanouts)
    seeds = _check_seeds(seeds, rowptr.numel() - 1)
    return expand_loop(lambda v: col[rowptr[v]:rowptr[v + 1]].tolist(), seeds.tolist(), fanouts, rng or random.Random())


class NeighborBatches:
    r"""Mini-batches of sampled computation graphs, ready for a node-level GNN.

    Each batch is a PyG ``Data`` holding the sampled subgraph: ``x`` (and ``y`` and any
    other per-node tensor of ``data``) restricted to the subgraph's nodes, ``edge_index`` in
    local ids, ``n_id`` (global ids, seeds first) and ``batch_size`` (the number of seeds).
    Only the first ``batch_size`` rows of the model's output belong to the seeds::

        for batch in NeighborBatches(data, data.train_mask, batch_size=512, fanouts=[10, 5]):
            out = model(batch.x, batch.edge_index)[:batch.batch_size]
            loss = F.cross_entropy(out, batch.y[:batch.batch_size])

    Args:
        data: a PyG ``Data`` with ``x``, ``edge_index`` (and usually ``y``).
        input_nodes: the seeds to cover each epoch: a boolean mask ``[N]``, an index tensor,
            or ``None`` for all nodes.
        batch_size: seeds per batch.
        fanouts: one fanout per layer, ``-1`` for all neighbours.
        shuffle: draw the seeds in a new random order each epoch.
        seed: seeds the loader's own ``torch.Generator``: two loaders built with the same
            arguments yield the same batches, epoch after epoch.
        drop_last: skip a last, smaller batch.
    """

    def __init__(
        self,
        data,
        input_nodes: Union[Tensor, None] = None,
        batch_size: int = 512,
        fanouts: Sequence[int] = (10, 5),
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        n = int(data.num_nodes)
        if input_nodes is None:
            input_nodes = torch.arange(n)
        elif input_nodes.dtype == torch.bool:
            if input_nodes.numel() != n:
                raise ValueError(f"input_nodes mask has {input_nodes.numel()} entries but the graph has {n} nodes")
            input_nodes = input_nodes.nonzero().flatten()
        if not _whole(batch_size) or int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.data = data
        self.input_nodes = _check_seeds(input_nodes, n)
        self.batch_size = int(batch_size)
        self.fanouts = _check_fanouts(fanouts)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(int(seed))
        self.rowptr, self.col = in_csr(data.edge_index, n)
        self._node_map = torch.full((n,), -1, dtype=torch.long)  # scratch reused by every batch
        # Per-node tensors to slice for every batch (x, y, masks, ...).
        self._node_keys = [k for k in data.keys() if k != "edge_index" and isinstance(data[k], Tensor)
                           and data[k].dim() >= 1 and data[k].size(0) == n]

    def __len__(self) -> int:
        m = self.input_nodes.numel()
        return m // self.batch_size if self.drop_last else -(-m // self.batch_size)

    def sample(self, seeds: Tensor):
        """The mini-batch ``Data`` for the given seed node ids."""
        sub = sample_neighbors(self.rowptr, self.col, seeds, self.fanouts, generator=self.generator,
                               node_map=self._node_map)
        batch = Data(edge_index=sub.edge_index, num_nodes=sub.num_nodes)
        for k in self._node_keys:
            batch[k] = self.data[k][sub.nodes]
        batch.n_id = sub.nodes
        batch.batch_size = sub.num_seeds
        batch.num_sampled_nodes = sub.num_sampled_nodes
        batch.num_sampled_edges = sub.num_sampled_edges
        return batch

    def __iter__(self) -> Iterator:
        seeds = self.input_nodes
        if self.shuffle:
            seeds = seeds[torch.randperm(seeds.numel(), generator=self.generator)]
        for i in range(len(self)):
            yield self.sample(seeds[i * self.batch_size:(i + 1) * self.batch_size])

    def __repr__(self) -> str:
        return (f"NeighborBatches(num_seeds={self.input_nodes.numel()}, batch_size={self.batch_size}, "
                f"fanouts={self.fanouts}, num_batches={len(self)})")
