"""Seeding, input checks and progress bars shared by every chapter.

This module sits at the bottom of the package: it imports nothing from ``gnncourse``.
"""
from __future__ import annotations

import os
import random
import sys
from typing import Iterable, Optional

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm  # a text bar: no widget state ends up in the notebooks

__all__ = [
    "NonFiniteLossError",
    "seed_everything",
    "check_edge_index",
    "check_features",
    "check_graph",
    "check_num_layers",
    "check_dropout",
    "progress",
]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message says when and what to try."""


def seed_everything(seed: int = 0) -> torch.Generator:
    r"""Seed Python, NumPy and PyTorch, and make PyTorch deterministic on the CPU.

    Call it once in the first code cell of a chapter: every number that follows is then
    reproducible run after run on the same machine.

    Args:
        seed: the seed for ``random``, ``numpy`` and ``torch``.

    Returns:
        A ``torch.Generator`` seeded with ``seed``, for code that wants its own stream.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # Kernels with a non-deterministic implementation raise instead of silently varying.
    torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)


def check_edge_index(edge_index: Tensor, num_nodes: Optional[int] = None, name: str = "edge_index") -> None:
    r"""Raise a ``ValueError`` that says what is wrong with an ``edge_index``.

    A valid ``edge_index`` is an integer tensor of shape ``[2, E]`` whose entries lie in
    ``[0, num_nodes)``: row 0 holds the source and row 1 the target of each edge.
    """
    if not isinstance(edge_index, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape [2, E], got {type(edge_index).__name__}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        hint = " (did you pass it transposed? use edge_index.t())" if edge_index.dim() == 2 and edge_index.size(1) == 2 else ""
        raise ValueError(f"{name} must have shape [2, E], got {list(edge_index.shape)}{hint}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise ValueError(
            f"{name} must hold integer node ids (torch.long), got dtype {edge_index.dtype}; "
            f"convert it with {name}.long()"
        )
    if edge_index.numel() == 0:
        return
    lo, hi = int(edge_index.min()), int(edge_index.max())
    if lo < 0:
        raise ValueError(f"{name} contains a negative node id ({lo}); node ids must be 0..N-1")
    if num_nodes is not None and hi >= num_nodes:
        raise ValueError(
            f"{name} refers to node {hi}, but the graph has only {num_nodes} nodes (ids 0..{num_nodes - 1})"
        )


def check_features(x: Tensor, num_nodes: Optional[int] = None, name: str = "x") -> None:
    r"""Raise a ``ValueError`` for node features of the wrong shape, type, or with NaN or Inf.

    Valid features are a floating-point tensor of shape ``[N, F]`` with ``N == num_nodes``.
    """
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape [N, F], got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{name} must have shape [N, F] (one row per node), got {list(x.shape)}")
    if not torch.is_floating_point(x):
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}; convert it with {name}.float()")
    if num_nodes is not None and x.size(0) != num_nodes:
        raise ValueError(f"{name} has {x.size(0)} rows but the graph has {num_nodes} nodes: one row per node is needed")
    bad = ~torch.isfinite(x)
    if bad.any():
        rows = bad.any(dim=1).nonzero().flatten()[:5].tolist()
        what = "NaN" if torch.isnan(x).any() else "infinite"
        raise ValueError(f"{name} contains {what} values (first rows affected: {rows}); "
                         "impute, clip or drop them first")


def check_graph(x: Tensor, edge_index: Tensor) -> None:
    """Check node features and ``edge_index`` together: the features fix the node count."""
    check_features(x)
    check_edge_index(edge_index, num_nodes=x.size(0))


def check_num_layers(num_layers) -> None:
    """A model's ``num_layers``: an int of at least 1 (``True`` is no layer count)."""
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
        raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")


def check_dropout(dropout) -> None:
    """A dropout probability: a number in [0, 1) (1 would drop everything)."""
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")


def check_model_input(model: torch.nn.Module, x: Tensor, edge_index: Tensor, in_channels: int,
                      edge_weight: Optional[Tensor] = None) -> None:
    r"""What every model's ``forward`` checks first: the graph (:func:`check_graph`), the
    feature width ``in_channels``, the features' dtype against the weights', and an optional
    ``edge_weight`` (one finite value per edge).

    Example:
        >>> m = torch.nn.Linear(3, 2)
        >>> check_model_input(m, torch.ones(2, 4), torch.tensor([[0], [1]]), in_channels=3)
        Traceback (most recent call last):
        ...
        ValueError: x has 4 features per node but the model expects in_channels=3
    """
    check_graph(x, edge_index)
    if x.size(1) != in_channels:
        raise ValueError(f"x has {x.size(1)} features per node but the model expects in_channels={in_channels}")
    dtype = next(model.parameters()).dtype
    if x.dtype != dtype:
        raise ValueError(f"x is {x.dtype} but the model's weights are {dtype}: convert one of them, "
                         f"e.g. x.to({dtype}) or model.to({x.dtype})")
    if edge_weight is not None:
        if not isinstance(edge_weight, Tensor) or edge_weight.shape != (edge_index.size(1),):
            shape = list(edge_weight.shape) if isinstance(edge_weight, Tensor) else type(edge_weight).__name__
            raise ValueError(f"edge_weight must hold one weight per edge, shape [{edge_index.size(1)}], got {shape}")
        if not torch.isfinite(edge_weight).all():
            raise ValueError("edge_weight contains NaN or infinite values")


def progress(iterable: Iterable = None, total: Optional[int] = None, desc: Optional[str] = "", **kwargs):
    r"""A text progress bar for long loops (training, walks, RL).

    Every long-running function of the package takes the same keyword, ``desc``: the bar's
    label, or ``None`` for no bar. Live in Jupyter it updates in place; in the built book and
    under nbval it writes to stderr, which the book hides (``nb_output_stderr: remove``) and
    nbval does not compare. Set ``GNNCOURSE_PROGRESS=0`` to silence every bar.
    """
    disable = desc is None or os.environ.get("GNNCOURSE_PROGRESS", "1") == "0"
    kwargs.setdefault("mininterval", 0.5)
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", False)
    kwargs.setdefault("ncols", 80)
    return tqdm(iterable, total=total, desc=desc, disable=disable, **kwargs)
