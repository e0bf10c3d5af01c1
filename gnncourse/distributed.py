r"""Data-parallel mini-batch training with PyTorch's ``DistributedDataParallel`` (appendix).

:math:`W` processes train one model together. At every step they share one *global batch*
of :math:`B` seed nodes, cut into :math:`S` equal *shards* (:math:`S` a multiple of
:math:`W`). Process :math:`r` samples the computation graphs of its :math:`S/W` shards
(:mod:`gnncourse.sampling`), runs the model on them and computes the mean loss
:math:`\mathcal{L}_r` over its own :math:`B/W` seeds; in ``backward`` DDP all-reduces the
gradients and divides by :math:`W`, so every process applies the same update with

.. math::

    \frac{1}{W} \sum_{r=1}^{W} \nabla_\Theta \mathcal{L}_r
    = \nabla_\Theta \frac{1}{B} \sum_{v \in \mathcal{B}} \ell\big(f_\Theta(v), y_v\big),

the gradient of the mean loss over the whole global batch :math:`\mathcal{B}`.

Shard :math:`s` of step :math:`t` is sampled with its own generator, seeded by
``(seed, epoch, step, s)``, whichever process samples it, and one process holding all
:math:`S` shards runs them as one disjoint union of their subgraphs. Training with
:math:`W = 1` and :math:`W = 2` therefore gives the same model up to float rounding, which
``tests/test_distributed.py`` checks by launching two processes with ``torchrun``.

Run it from a shell (``gloo`` is the CPU backend; on GPUs use ``nccl``)::

    torchrun --nproc-per-node=2 -m gnncourse.distributed --data cora --epochs 5 --out run.pt

or from Python/Jupyter with :func:`launch`, which does the same on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel
from torch_geometric.data import Data

from .data import load_planetoid
from .models import MeanAggregationGNN
from .sampling import SampledSubgraph, in_csr, sample_neighbors
from .train import fit, seed_node_classification_step
from .utils import check_edge_index, check_features

__all__ = [
    "DDPConfig",
    "global_batches",
    "shard_seeds",
    "shard_generator",
    "merge_subgraphs",
    "build_model",
    "rank_batches",
    "train_data_parallel",
    "TrainResult",
    "load_graph",
    "launch",
    "main",
]


@dataclass
class DDPConfig:
    r"""What a data-parallel run trains, identical in every process."""

    batch_size: int = 256          # B: seed nodes per step, all processes together
    shards: int = 2                # S: the global batch is cut into S equal shards (multiple of W)
    fanouts: Tuple[int, ...] = (10, 5)  # neighbours sampled per layer; also the model's depth K
    hidden_channels: int = 64
    epochs: int = 5                # passes over the training nodes (each: len // B steps)
    optimizer: str = "adam"        # "adam" or "sgd" (plain SGD shows the gradient averaging exactly)
    lr: float = 0.01
    weight_decay: float = 5e-4
    dropout: float = 0.0           # 0: the processes need not share dropout masks to agree
    seed: int = 0                  # model initialisation, seed order, neighbour samples
    train_mask: str = "train_mask"  # the boolean node attribute marking the seed nodes

    def __post_init__(self) -> None:
        self.fanouts = tuple(int(k) for k in self.fanouts)
        for name in ("batch_size", "shards", "hidden_channels", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.batch_size % self.shards:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of shards ({self.shards}): equal shards "
                "make the average of the processes' mean losses the mean loss of the global batch"
            )


def _seed_from(*keys: int) -> int:
    """A 63-bit seed mixed from the keys (NumPy's SeedSequence: nearby keys, unrelated seeds)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def global_batches(train_nodes: Tensor, batch_size: int, seed: int, epoch: int) -> List[Tensor]:
    r"""The global batches of one epoch: a permutation of ``train_nodes`` seeded by
    ``(seed, epoch)``, cut into ``len(train_nodes) // batch_size`` full batches (the
    remainder is dropped, so every step has exactly ``batch_size`` seeds).

    Every process computes the same list: nothing needs to be communicated.
    """
    if train_nodes.dim() != 1 or train_nodes.numel() < batch_size:
        raise ValueError(
            f"need at least batch_size={batch_size} training nodes, got {train_nodes.numel()}: lower batch_size"
        )
    g = torch.Generator().manual_seed(_seed_from(seed, epoch))
    order = train_nodes[torch.randperm(train_nodes.numel(), generator=g)]
    steps = train_nodes.numel() // batch_size
    return list(order[: steps * batch_size].view(steps, batch_size))


def shard_seeds(seeds: Tensor, num_shards: int) -> List[Tensor]:
    """Cut a global batch into ``num_shards`` equal, contiguous shards."""
    if seeds.numel() % num_shards:
        raise ValueError(f"{seeds.numel()} seeds cannot be cut into {num_shards} equal shards")
    return list(seeds.view(num_shards, -1))


def shard_generator(seed: int, epoch: int, step: int, shard: int) -> torch.Generator:
    """The generator that samples shard ``shard`` of step ``step``, in whichever process."""
    return torch.Generator().manual_seed(_seed_from(seed, epoch, step, shard))


def merge_subgraphs(subgraphs: Sequence[SampledSubgraph]) -> Tuple[Tensor, Tensor, int]:
    r"""The disjoint union of sampled subgraphs, to run them in one forward pass.

    Subgraph :math:`i` keeps its own copy of every node (a node sampled by two shards appears
    twice, with different sampled neighbours), so each seed's output equals its output in its
    own subgraph. As in one subgraph, the seeds come first: all seeds of subgraph 0, then of
    subgraph 1, ..., then the other nodes.

    Returns:
        ``(nodes, edge_index, num_seeds)``: global ids ``[n]`` (seeds first), edges in local
        ids ``[2, e]``, and the number of seeds :math:`b`.
    """
    nodes, edges, seeds, offset = [], [], [], 0
    for sub in subgraphs:
        nodes.append(sub.nodes)
        edges.append(sub.edge_index + offset)
        seeds.append(torch.arange(sub.num_seeds) + offset)
        offset += sub.num_nodes
    nodes, edge_index, seed_pos = torch.cat(nodes), torch.cat(edges, dim=1), torch.cat(seeds)
    is_seed = torch.zeros(offset, dtype=torch.bool)
    is_seed[seed_pos] = True
    order = torch.cat([seed_pos, (~is_seed).nonzero().flatten()])  # new position -> old
    new_of_old = torch.empty(offset, dtype=torch.long)
    new_of_old[order] = torch.arange(offset)
    return nodes[order], new_of_old[edge_index], int(seed_pos.numel())


def rank_batches(data, rowptr: Tensor, col: Tensor, config: DDPConfig, epoch: int,
                 rank: int = 0, world_size: int = 1) -> Iterator:
    r"""The mini-batches process ``rank`` of ``world_size`` trains on in ``epoch``.

    Each is a PyG ``Data`` like those of :class:`gnncourse.sampling.NeighborBatches`: ``x``,
    ``edge_index``, ``y`` of the union of this process's sampled shards, ``n_id`` (global
    ids, seeds first) and ``batch_size`` (its seeds), ready for
    :func:`gnncourse.train.seed_node_classification_step`.
    """
    if config.shards % world_size:
        raise ValueError(f"shards ({config.shards}) must be a multiple of the number of processes ({world_size})")
    per_rank = config.shards // world_size
    mine = range(rank * per_rank, (rank + 1) * per_rank)
    train_nodes = getattr(data, config.train_mask).nonzero().flatten()
    for step, seeds in enumerate(global_batches(train_nodes, config.batch_size, config.seed, epoch)):
        shards = shard_seeds(seeds, config.shards)
        subs = [sample_neighbors(rowptr, col, shards[s], config.fanouts,
                                 generator=shard_generator(config.seed, epoch, step, s)) for s in mine]
        nodes, edge_index, num_seeds = merge_subgraphs(subs)
        yield Data(x=data.x[nodes], edge_index=edge_index, y=data.y[nodes], n_id=nodes,
                   batch_size=num_seeds, num_nodes=nodes.numel())


@dataclass
class TrainResult:
    """A trained model and how fast it trained."""

    model: torch.nn.Module
    seconds: float                 # wall time of the training loop (sampling included)
    steps: int                     # optimizer steps taken
    seeds_per_second: float        # global throughput: all processes together
    world_size: int = 1
    losses: List[float] = field(default_factory=list)  # per epoch, this process's mean loss


def build_model(data, config: DDPConfig) -> torch.nn.Module:
    """The model every process starts from: a :class:`~gnncourse.models.MeanAggregationGNN`
    with one layer per fanout, initialised from ``config.seed``."""
    torch.manual_seed(config.seed)
    return MeanAggregationGNN(data.num_features, config.hidden_channels, int(data.y.max()) + 1,
                              num_layers=len(config.fanouts), dropout=config.dropout)


def train_data_parallel(data, config: DDPConfig = DDPConfig(), rank: int = 0, world_size: int = 1) -> TrainResult:
    r"""Train a :class:`~gnncourse.models.MeanAggregationGNN` on sampled mini-batches, as
    process ``rank`` of ``world_size``.

    With ``world_size == 1`` it trains in this process, no process group needed. With more,
    call it in every process after ``torch.distributed.init_process_group`` (``main`` does):
    the model is wrapped in ``DistributedDataParallel``, which broadcasts rank 0's initial
    weights and all-reduces the gradients in every ``backward``. The loop is
    :func:`gnncourse.train.fit` with :func:`~gnncourse.train.seed_node_classification_step`,
    as in single-process mini-batch training: nothing else changes.
    """
    check_features(data.x)
    check_edge_index(data.edge_index, data.num_nodes)
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must lie in [0, {world_size}), got {rank}")
    model = build_model(data, config)
    trained = model
    if world_size > 1:
        if not torch.distributed.is_initialized():
            raise ValueError("world_size > 1 needs torch.distributed.init_process_group first (run under torchrun)")
        trained = DistributedDataParallel(model)
    opt = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
    optimizer = opt(trained.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rowptr, col = in_csr(data.edge_index, data.num_nodes)
    steps_per_epoch = int(getattr(data, config.train_mask).sum()) // config.batch_size
    start = time.perf_counter()
    history = fit(trained, optimizer, seed_node_classification_step,
                  lambda epoch: rank_batches(data, rowptr, col, config, epoch, rank, world_size),
                  epochs=config.epochs, seed=config.seed, desc=f"rank {rank}/{world_size}")
    seconds = time.perf_counter() - start
    steps = steps_per_epoch * config.epochs
    return TrainResult(model.eval(), seconds, steps, steps * config.batch_size / seconds, world_size,
                       [float(v) for v in history["loss"]])


def load_graph(spec: str):
    """``'cora'`` or ``'citeseer'`` (public split, from :mod:`gnncourse.data`), or the path
    of a PyG ``Data`` saved with ``torch.save``."""
    if spec.lower() in ("cora", "citeseer"):
        return load_planetoid(spec)[0]
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"--data must be 'cora', 'citeseer' or the path of a saved PyG Data; {spec!r} is neither")
    return torch.load(path, weights_only=False)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="torchrun --nproc-per-node=2 -m gnncourse.distributed",
                                 description="Data-parallel neighbour-sampling training (gloo on CPU, nccl on GPU).")
    ap.add_argument("--data", default="cora", help="cora, citeseer, or a torch.save'd PyG Data")
    ap.add_argument("--out", default=None, help="rank 0 saves the trained weights and timings here (torch.save)")
    ap.add_argument("--backend", default="gloo", help="gloo (CPU) or nccl (GPU)")
    for f in fields(DDPConfig):
        default = f.default
        if isinstance(default, tuple):
            ap.add_argument(f"--{f.name.replace('_', '-')}", default=",".join(map(str, default)),
                            help="comma-separated, e.g. 10,5")
        else:
            ap.add_argument(f"--{f.name.replace('_', '-')}", type=type(default), default=default)
    return ap


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``torchrun`` entry point: join the process group, train, rank 0 saves the result."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.out:  # checked before any process group forms or any step runs
        out_dir = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(out_dir) or not os.access(out_dir, os.W_OK):
            parser.error(f"cannot write --out {args.out}: the folder {out_dir} does not exist or is not writable")
    values = {f.name: getattr(args, f.name) for f in fields(DDPConfig)}
    values["fanouts"] = tuple(int(k) for k in str(values["fanouts"]).split(","))
    config = DDPConfig(**values)
    rank, world_size = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if rank != 0:  # one progress bar is enough
        os.environ["GNNCOURSE_PROGRESS"] = "0"
    if world_size > 1:
        dist.init_process_group(args.backend)  # reads MASTER_ADDR/PORT, RANK, WORLD_SIZE set by torchrun
    try:
        data = load_graph(args.data)
        result = train_data_parallel(data, config, rank, world_size)
        if rank == 0 and args.out:  # atomically: a kill mid-write leaves no truncated file
            tmp = f"{args.out}.{os.getpid()}.tmp"
            torch.save({"state_dict": result.model.state_dict(), "config": asdict(config),
                        "seconds": result.seconds, "steps": result.steps,
                        "seeds_per_second": result.seeds_per_second, "world_size": world_size,
                        "threads": torch.get_num_threads(), "losses": result.losses}, tmp)
            os.replace(tmp, args.out)
    finally:
        if world_size > 1:
            torch.distributed.destroy_process_group()
    return 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_forwarding(cmd: Sequence[str], env: dict, timeout: float) -> Tuple[int, str]:
    """Run ``cmd``, copy its output (stdout and stderr) to our stderr as it comes, and return
    its exit code and the last 4,000 characters of its output.

    The timeout holds whether or not the command prints: we wait for output at most until
    the deadline. Past it, the command and every process it started are killed and a
    ``RuntimeError`` says so.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)  # its own process group: kill takes its children too
    tail = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([proc.stdout], [], [], max(remaining, 0))
            if not ready:  # nothing to read before the deadline: the command hangs or works silently
                raise RuntimeError(f"{Path(cmd[0]).name} {' '.join(cmd[1:3])} ... did not finish within "
                                   f"{timeout} s; it was stopped. Pass a larger timeout if it needs longer")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            sys.stderr.write(chunk.decode(errors="replace"))
            sys.stderr.flush()
            tail = (tail + chunk)[-4000:]
        return proc.wait(), tail.decode(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()


def launch(nproc: int, config: DDPConfig = DDPConfig(), data: str = "cora", threads_per_process: int = 1,
           timeout: float = 600) -> dict:
    r"""Run :func:`main` under ``torchrun`` with ``nproc`` processes on this machine only
    (127.0.0.1, loopback interface) and return rank 0's result.

    Rank 0's progress bar and any error go to this process's stderr. The result is the
    dictionary rank 0 saved, plus ``"model"``: a :class:`~gnncourse.models.MeanAggregationGNN`
    holding the trained weights, ``"command"``: the command line that ran, and
    ``"wall_seconds"``: the whole launch, process start-up and data loading included.
    """
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive int, got {nproc!r}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.pt"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc-per-node={nproc}",
               "--master-addr=127.0.0.1", f"--master-port={_free_port()}", "-m", "gnncourse.distributed",
               "--data", data, "--out", str(out)]
        for f in fields(DDPConfig):  # the options that differ from the defaults
            value = getattr(config, f.name)
            if value != f.default:
                text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
                cmd += [f"--{f.name.replace('_', '-')}", text]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads_per_process), GLOO_SOCKET_IFNAME="lo",
                   PYTHONUNBUFFERED="1")
        started = time.perf_counter()
        code, tail = run_forwarding(cmd, env, timeout)
        if code != 0 or not out.is_file():
            raise RuntimeError(f"torchrun failed (exit {code}):\n{tail}")
        result = torch.load(out, weights_only=False)
        result["wall_seconds"] = time.perf_counter() - started
    data_obj = load_graph(data)
    model = build_model(data_obj, DDPConfig(**{**result["config"], "fanouts": tuple(result["config"]["fanouts"])}))
    model.load_state_dict(result["state_dict"])
    result["model"] = model.eval()
    result["command"] = " ".join(["torchrun"] + cmd[3:])
    return result


if __name__ == "__main__":
    sys.exit(main())
