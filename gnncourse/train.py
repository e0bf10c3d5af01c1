r"""The training loop every chapter shares: :func:`fit`, its :class:`History`, and metrics.

Training chooses the parameters :math:`\Theta` of an encoder so that a loss on the
embeddings it produces is small:

.. math:: \Theta^\star = \arg\min_\Theta \; \mathcal{L}\big(y, f_\Theta(\mathbf{z}_v)\big).

:func:`fit` knows nothing about graphs. It repeats, for each epoch, *for each batch*:
compute the loss with a ``step`` function, back-propagate, update; then it calls an
``evaluate`` function, records its metrics in a :class:`History`, and stops early when a
validation metric has not improved for ``patience`` epochs (restoring the best weights).
Full-graph training passes the whole graph as the only batch; mini-batch training passes
an iterable of sampled subgraphs (or a function of the epoch returning one), and the loop
stays the same.

The node-classification pieces (:func:`node_classification_step`,
:func:`evaluate_node_classifier`, :func:`train_node_classifier`) build on :func:`fit`.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data.data import BaseData

from .utils import NonFiniteLossError, progress

__all__ = [
    "History",
    "NonFiniteLossError",
    "fit",
    "check_node_targets",
    "accuracy",
    "node_classification_step",
    "evaluate_node_classifier",
    "train_node_classifier",
    "seed_node_classification_step",
    "predict_seeds",
    "evaluate_seeds",
]

#: ``step(model, batch) -> loss``: the loss of one batch, a scalar tensor with a graph; or
#: ``(loss, extras)`` where ``extras`` maps names to per-batch metrics (e.g. ``"train_acc"``)
#: and an optional ``"weight"`` (e.g. the number of graphs in the batch) by which the epoch's
#: means of the loss and the metrics weigh this batch.
StepFn = Callable[[torch.nn.Module, Any], Union[Tensor, Tuple[Tensor, Mapping[str, float]]]]
#: ``evaluate(model) -> {"val_acc": 0.71, ...}``: called without gradients in eval mode.
EvalFn = Callable[[torch.nn.Module], Mapping[str, float]]
#: The batches of one epoch, or a function ``epoch -> batches`` (to resample every epoch).
Batches = Union[Iterable[Any], Callable[[int], Iterable[Any]]]


@dataclass
class History:
    r"""Per-epoch metrics of one training run, and where the best validation epoch was.

    ``history["val_acc"]`` is the list of that metric over epochs (epoch ``1`` first).
    ``"loss"`` is the mean training loss over the epoch's batches (in training mode, i.e.
    with dropout); the other keys are whatever the ``evaluate`` function returned.

    Attributes:
        metrics: metric name -> one value per epoch.
        monitor: the metric early stopping watched (``None`` if none).
        mode: ``"max"`` or ``"min"``: whether a larger or a smaller ``monitor`` is better.
        best_epoch: the epoch (1-based) with the best ``monitor`` value, whose weights the
            model holds after :func:`fit` when ``restore_best=True``.
        stopped_early: ``True`` when patience ran out before the last epoch.
    """

    metrics: Dict[str, List[float]] = field(default_factory=dict)
    monitor: Optional[str] = None
    mode: str = "max"
    best_epoch: Optional[int] = None
    stopped_early: bool = False

    def append(self, values: Mapping[str, float]) -> None:
        """Record one epoch's metrics (every epoch must report the same names)."""
        if self.metrics and set(values) != set(self.metrics):
            raise ValueError(
                f"epoch {len(self) + 1} reported metrics {sorted(values)}, but earlier epochs reported "
                f"{sorted(self.metrics)}: an evaluate function must return the same keys every epoch"
            )
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return len(next(iter(self.metrics.values()))) if self.metrics else 0

    def __getitem__(self, key: str) -> List[float]:
        if key not in self.metrics:
            raise KeyError(f"no metric {key!r} in this history; it has {sorted(self.metrics)}")
        return self.metrics[key]

    def __contains__(self, key: object) -> bool:
        return key in self.metrics

    @property
    def best(self) -> Dict[str, float]:
        """All metrics at :attr:`best_epoch` (or at the last epoch without a monitor)."""
        if not self.metrics:
            return {}
        i = (self.best_epoch or len(self)) - 1
        return {k: v[i] for k, v in self.metrics.items()}

    def plot(self, keys: Optional[Sequence[str]] = None, ax=None, title: Optional[str] = None):
        """Training curves: one line per metric against the epoch, the best epoch marked.

        Args:
            keys: the metrics to draw (default: all, losses first).
            ax: a matplotlib ``Axes`` to draw into (default: a new figure).
            title: an optional title.

        Returns:
            The ``Axes``.
        """
        import matplotlib.pyplot as plt  # only when plotting: importing pyplot chooses a backend

        if not self.metrics:
            raise ValueError("this history is empty: nothing to plot (did fit run for 0 epochs?)")
        if keys is None:
            keys = sorted(self.metrics, key=lambda k: ("loss" not in k, k))
        if ax is None:
            _, ax = plt.subplots(figsize=(4.4, 2.6))
        epochs = range(1, len(self) + 1)
        for key in keys:
            style = "-" if "loss" in key else "--"
            ax.plot(epochs, self[key], style, label=key, linewidth=1.4)
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="0.6", linestyle=":", linewidth=1,
                       label=f"best {self.monitor} (epoch {self.best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("value")
        if title:
            ax.set_title(title)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the curves
        return ax

    def __repr__(self) -> str:
        if not self.metrics:
            return "History(epochs=0)"
        best = ""
        if self.best_epoch is not None:
            best = f", best_epoch={self.best_epoch}, {self.monitor}={self.best[self.monitor]:.4f}"
        stopped = ", stopped_early=True" if self.stopped_early else ""
        return f"History(epochs={len(self)}{best}{stopped})"


@dataclass
class _EarlyStopping:
    """Watches one metric: remembers the best epoch (and its weights), counts epochs since."""

    mode: str
    min_delta: float
    patience: Optional[int]
    keep_weights: bool
    best_value: Optional[float] = None
    best_epoch: Optional[int] = None
    best_state: Optional[Dict[str, Tensor]] = None
    since_best: int = 0

    def update(self, model: torch.nn.Module, epoch: int, value: float) -> bool:
        """Record this epoch's value; return ``True`` when patience has run out."""
        # a NaN metric is never the best: it would freeze early stopping at that epoch
        if math.isfinite(value) and self._is_better(value):
            self.best_value, self.best_epoch, self.since_best = value, epoch, 0
            if self.keep_weights:
                self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience

    def _is_better(self, value: float) -> bool:
        if self.best_value is None:
            return True
        if self.mode == "max":
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta


def _train_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: StepFn,
                 batches: Iterable[Any], epoch: int, grad_clip: Optional[float]) -> Dict[str, float]:
    """One pass over the batches; returns the epoch's weighted means of the loss and extras."""
    model.train()
    sums: Dict[str, float] = {"loss": 0.0}
    total_weight, count = 0.0, 0
    for b, batch in enumerate(batches):
        optimizer.zero_grad()
        out = step(model, batch)
        loss, extras = out if isinstance(out, tuple) else (out, {})
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(
                f"step must return the batch's loss as a scalar tensor (or a (loss, extras) pair), got "
                f"{type(loss).__name__}{list(loss.shape) if isinstance(loss, Tensor) else ''}; "
                "reduce it with .mean() or .sum()"
            )
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"the training loss became {loss.item()} at epoch {epoch}, batch {b + 1}: the weights diverged "
                f"(the package's models refuse NaN or inf input, so with them the input is not the cause). "
                f"Try: a smaller learning rate (now {_lr(optimizer)}); clipping gradients "
                "(fit(..., grad_clip=1.0)); computing the loss from logits with F.cross_entropy or "
                "F.binary_cross_entropy_with_logits instead of log(softmax) or log(sigmoid) by hand; normalising "
                "the features; and, for a model of your own, checking its input (gnncourse.utils.check_features)"
            )
        loss.backward()
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        weight = float(extras.get("weight", 1.0))
        sums["loss"] += loss.item() * weight
        for key, value in extras.items():
            if key != "weight":
                sums[key] = sums.get(key, 0.0) + float(value) * weight
        total_weight += weight
        count += 1
    if count == 0:
        raise ValueError(f"epoch {epoch} had no batches: batches yielded nothing")
    return {key: value / total_weight for key, value in sums.items()}


def _epoch_batches(batches: Batches, epoch: int) -> Iterable[Any]:
    return batches(epoch) if callable(batches) else batches


def _lr(optimizer: torch.optim.Optimizer) -> str:
    return ", ".join(f"{g['lr']:g}" for g in optimizer.param_groups if "lr" in g)


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    step: StepFn,
    batches: Batches,
    *,
    epochs: int = 200,
    evaluate: Optional[EvalFn] = None,
    monitor: Optional[str] = None,
    mode: Optional[str] = None,
    patience: Optional[int] = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    seed: Optional[int] = None,
    grad_clip: Optional[float] = None,
    desc: Optional[str] = "training",
) -> History:
    r"""Train ``model`` for up to ``epochs`` epochs; return the :class:`History`.

    One epoch is, for every ``batch`` in ``batches``:

    .. math:: \Theta \leftarrow \Theta - \eta\, \nabla_\Theta\, \mathrm{step}(f_\Theta, \mathrm{batch})

    (the optimizer decides the exact update), followed by ``evaluate(model)`` in eval mode
    without gradients. Early stopping watches ``monitor`` among the evaluated metrics and
    stops after ``patience`` epochs without improvement; with ``restore_best`` the model
    ends with the weights of its best epoch.

    Args:
        model: the ``torch.nn.Module`` to train (put in training mode for each epoch).
        optimizer: an optimizer over ``model``'s parameters.
        step: ``step(model, batch) -> loss``, a scalar tensor; :func:`fit` calls
            ``backward`` and ``optimizer.step()`` itself.
        batches: the batches of one epoch (a list, a ``DataLoader``, a single PyG ``Data``
            for full-graph training), or a function ``epoch -> batches`` (1-based epoch),
            e.g. a neighbour sampler that draws new subgraphs every epoch. A one-shot
            iterator (a generator) is refused because it would be empty after epoch 1.
        epochs: the maximum number of epochs.
        evaluate: ``evaluate(model) -> {name: value}``, e.g. ``{"val_acc": 0.78}``.
        monitor: the metric early stopping and ``restore_best`` watch. Default:
            ``"val_loss"`` if ``evaluate`` returns it, else ``"val_acc"``, else none.
        mode: ``"max"`` or ``"min"``; default ``"min"`` if ``"loss"`` is in ``monitor``.
        patience: stop after this many epochs without improvement (``None``: never stop).
        min_delta: the improvement that counts as one.
        restore_best: load the best epoch's weights at the end (needs a monitor).
        seed: if given, ``torch.manual_seed(seed)`` first, so dropout and sampling inside
            ``step`` repeat exactly. (Seed before building the model, too.)
        grad_clip: if given, clip the gradients' total norm to this value.
        desc: the label of the progress bar (``None``: no bar).

    Raises:
        ValueError: invalid arguments, an unknown ``monitor``, a loss that is not a scalar.
        NonFiniteLossError: the loss became NaN or infinite; the message names the epoch
            and batch and lists what to try.
        KeyboardInterrupt: Ctrl-C, re-raised after the model is put in eval mode with the
            best epoch's weights (when ``restore_best`` and a best epoch exist); the History
            of the finished epochs is attached as ``err.history``.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive int or None, got {patience!r}")
    if mode not in (None, "max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if isinstance(batches, BaseData):  # a single PyG graph is one batch (iterating a Data yields its attributes)
        batches = [batches]
    if not callable(batches):
        if not isinstance(batches, Iterable):
            raise ValueError(f"batches must be an iterable of batches or a function epoch -> batches, got {type(batches).__name__}")
        if iter(batches) is batches:
            raise ValueError(
                "batches is a one-shot iterator (e.g. a generator): it would be empty after the first epoch. "
                "Pass a list, a re-iterable loader, or a function epoch -> batches"
            )
    if seed is not None:
        torch.manual_seed(seed)

    history = History()
    stopper: Optional[_EarlyStopping] = None
    bar = progress(range(1, epochs + 1), desc=desc)
    try:
        for epoch in bar:
            values = _train_epoch(model, optimizer, step, _epoch_batches(batches, epoch), epoch, grad_clip)
            if evaluate is not None:
                values.update(_validate(model, evaluate))
            history.append(values)
            if epoch == 1:  # settle what to monitor once the metric names are known
                monitor = _settle_monitor(history, values, monitor, mode, patience)
                if monitor is not None:
                    stopper = _EarlyStopping(history.mode, min_delta, patience, restore_best)
            postfix = {"loss": f"{values['loss']:.3f}"}
            if stopper is not None:
                postfix[monitor] = f"{values[monitor]:.3f}"
                out_of_patience = stopper.update(model, epoch, values[monitor])
                history.best_epoch = stopper.best_epoch
                if out_of_patience:
                    history.stopped_early = epoch < epochs
                    bar.set_postfix(postfix, refresh=False)
                    break
            bar.set_postfix(postfix, refresh=False)
    except KeyboardInterrupt as err:  # Ctrl-C: keep what was learned, and say how far it got
        bar.close()
        _finish(model, stopper.best_state if stopper is not None and restore_best else None)
        err.history = history
        raise
    bar.close()
    _finish(model, stopper.best_state if stopper is not None and restore_best else None)
    return history


def _validate(model: torch.nn.Module, evaluate: EvalFn) -> Dict[str, float]:
    """``evaluate(model)`` in eval mode without gradients, as floats."""
    model.eval()
    with torch.no_grad():
        metrics = dict(evaluate(model))
    if "loss" in metrics:
        raise ValueError("evaluate must not return a metric named 'loss' (fit records the training loss there); use e.g. 'val_loss'")
    return {k: float(v) for k, v in metrics.items()}


def _settle_monitor(history: History, values: Mapping[str, float], monitor: Optional[str],
                    mode: Optional[str], patience: Optional[int]) -> Optional[str]:
    """Choose (or check) the monitored metric after the first epoch; set it on ``history``."""
    if monitor is None:
        monitor = next((k for k in ("val_loss", "val_acc") if k in values), None)
    elif monitor not in values:
        raise ValueError(f"monitor={monitor!r} is not among the recorded metrics {sorted(values)}")
    if patience is not None and monitor is None:
        raise ValueError("patience needs a validation metric: pass evaluate (returning e.g. 'val_acc') and monitor")
    history.monitor = monitor
    history.mode = mode or ("min" if monitor is not None and "loss" in monitor else "max")
    return monitor


def _finish(model: torch.nn.Module, best_state: Optional[Dict[str, Tensor]]) -> None:
    """Leave the model in eval mode, with the best epoch's weights when there are any."""
    model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)


def check_node_targets(out: Tensor, y: Tensor, mask: Optional[Tensor] = None) -> None:
    r"""Raise a ``ValueError`` when outputs, labels and a node mask do not fit together.

    Args:
        out: the model's outputs, ``[N, C]`` logits (or ``[N]`` predicted classes).
        y: the labels, ``[N]`` integer classes.
        mask: ``[N]`` boolean mask of the nodes to use (optional).
    """
    if not isinstance(out, Tensor) or out.dim() not in (1, 2):
        raise ValueError(f"model outputs must be [N, C] logits or [N] predictions, got shape {list(getattr(out, 'shape', []))}")
    if not isinstance(y, Tensor) or y.dim() != 1:
        shape = list(getattr(y, "shape", []))
        hint = " (one-hot labels? pass y.argmax(dim=1))" if len(shape) == 2 else ""
        raise ValueError(f"labels y must have shape [N] (one class id per node), got {shape}{hint}")
    if out.size(0) != y.size(0):
        raise ValueError(
            f"the model returned {out.size(0)} rows but there are {y.size(0)} labels: outputs and labels must have "
            "one row per node of the same graph (did you index outputs with a mask before passing them?)"
        )
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise ValueError(f"mask must be a boolean tensor of shape [N], got {getattr(mask, 'dtype', type(mask).__name__)}")
        if mask.shape != y.shape:
            raise ValueError(f"mask has shape {list(mask.shape)} but labels have {list(y.shape)}: one entry per node is needed")
        if not bool(mask.any()):
            raise ValueError("mask selects no node: there is nothing to train or evaluate on")
    if out.dim() == 2 and y.numel() and not torch.is_floating_point(y):
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= out.size(1):
            raise ValueError(f"labels range over {lo}..{hi} but the model outputs {out.size(1)} classes (0..{out.size(1) - 1})")


def accuracy(out: Tensor, y: Tensor, mask: Optional[Tensor] = None) -> float:
    r"""The fraction of (masked) nodes whose predicted class equals the label.

    .. math:: \mathrm{acc} = \frac{1}{|M|} \sum_{v \in M} [\arg\max_c \mathrm{out}_{vc} = y_v]

    Args:
        out: ``[N, C]`` logits or probabilities, or ``[N]`` predicted classes.
        y: ``[N]`` labels.
        mask: ``[N]`` boolean mask of the nodes to score (default: all).
    """
    check_node_targets(out, y, mask)
    if torch.is_floating_point(out) and not bool(torch.isfinite(out if mask is None or out.dim() == 0 else out[mask]).all()):
        raise ValueError("out contains NaN or infinite scores, so there is no predicted class: the model "
                         "diverged or its input is broken (check the training loss and the features)")
    pred = out.argmax(dim=-1) if out.dim() == 2 else out
    correct = pred == y
    if mask is not None:
        correct = correct[mask]
    return correct.float().mean().item()


def node_classification_step(model: torch.nn.Module, batch: Any, mask: str = "train_mask") -> Tensor:
    r"""Cross-entropy of a node classifier on the batch's training nodes (a :func:`fit` step).

    .. math:: \mathcal{L} = -\frac{1}{|M|}\sum_{v \in M} \log \operatorname{softmax}(f_\Theta(\mathbf{z}_v))_{y_v}

    ``batch`` needs ``x``, ``edge_index``, ``y`` and the boolean attribute named ``mask``;
    ``model(x, edge_index)`` must return ``[N, C]`` logits.
    """
    out = model(batch.x, batch.edge_index)
    m = getattr(batch, mask)
    check_node_targets(out, batch.y, m)
    return F.cross_entropy(out[m], batch.y[m])


def evaluate_node_classifier(
    model: torch.nn.Module, data: Any, splits: Sequence[str] = ("train", "val")
) -> Dict[str, float]:
    r"""Loss and accuracy of a node classifier on each split, from one forward pass.

    Returns ``{"train_loss": ..., "train_acc": ..., "val_loss": ..., "val_acc": ...}`` for
    ``splits=("train", "val")``, using ``data.train_mask`` and ``data.val_mask``.
    """
    out = model(data.x, data.edge_index)
    result: Dict[str, float] = {}
    for split in splits:
        m = getattr(data, f"{split}_mask")
        check_node_targets(out, data.y, m)
        result[f"{split}_loss"] = F.cross_entropy(out[m], data.y[m]).item()
        result[f"{split}_acc"] = accuracy(out, data.y, m)
    return result


def train_node_classifier(
    model: torch.nn.Module,
    data: Any,
    *,
    epochs: int = 200,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    patience: Optional[int] = None,
    monitor: str = "val_loss",
    seed: Optional[int] = 0,
    desc: str = "node classifier",
) -> History:
    r"""Full-graph node classification with cross-entropy and Adam; returns the History.

    A thin wrapper around :func:`fit` with :func:`node_classification_step` and
    :func:`evaluate_node_classifier`: the model ends with the weights of the epoch with the
    best ``monitor`` (default: the smallest validation loss).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return fit(
        model, optimizer, node_classification_step, [data], epochs=epochs,
        evaluate=lambda m: evaluate_node_classifier(m, data), monitor=monitor,
        patience=patience, seed=seed, desc=desc,
    )


# --- Mini-batches of sampled computation graphs (gnncourse.sampling.NeighborBatches) ---------


def seed_node_classification_step(model: torch.nn.Module, batch: Any) -> Tensor:
    r"""Cross-entropy on the *seed* nodes of a sampled mini-batch (a :func:`fit` step).

    .. math:: \mathcal{L} = -\frac{1}{b}\sum_{i=1}^{b} \log \operatorname{softmax}(f_\Theta(\mathbf{z}_{v_i}))_{y_{v_i}}

    ``batch`` is a sampled subgraph whose first ``batch.batch_size`` nodes are the seeds
    :math:`v_1, \dots, v_b` (as :class:`gnncourse.sampling.NeighborBatches` yields). The
    model runs on the whole subgraph, but only the seeds' outputs enter the loss: the other
    nodes are there to feed the seeds' computation graphs, and their own computation graphs
    are cut off at the subgraph's border, so their outputs are not the model's real outputs.
    """
    b = int(batch.batch_size)
    out = model(batch.x, batch.edge_index)[:b]
    check_node_targets(out, batch.y[:b])
    return F.cross_entropy(out, batch.y[:b])


@torch.no_grad()
def predict_seeds(model: torch.nn.Module, batches: Iterable[Any]):
    r"""Run ``model`` (in eval mode) over sampled mini-batches; return the seeds' outputs.

    Returns:
        ``(n_id, out)``: the global ids of all seeds, ``[M]``, in the order the batches
        gave them, and their outputs ``[M, C]``.
    """
    was_training = model.training
    model.eval()
    ids, outs = [], []
    for batch in batches:
        b = int(batch.batch_size)
        outs.append(model(batch.x, batch.edge_index)[:b])
        ids.append(batch.n_id[:b])
    model.train(was_training)
    if not outs:
        raise ValueError("batches yielded nothing: no seed nodes to predict")
    return torch.cat(ids), torch.cat(outs)


def evaluate_seeds(model: torch.nn.Module, batches: Iterable[Any], y: Tensor, name: str = "val") -> Dict[str, float]:
    r"""Loss and accuracy on the seeds of sampled mini-batches, e.g. the validation nodes.

    Returns ``{f"{name}_loss": ..., f"{name}_acc": ...}``; ``y`` holds the labels of the whole
    graph, ``[N]``. Use it as :func:`fit`'s ``evaluate``.
    """
    n_id, out = predict_seeds(model, batches)
    check_node_targets(out, y[n_id])
    return {f"{name}_loss": F.cross_entropy(out, y[n_id]).item(), f"{name}_acc": accuracy(out, y[n_id])}
