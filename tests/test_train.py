
import matplotlib

matplotlib.use("Agg")
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from gnncourse.train import (
    History,
    NonFiniteLossError,
    accuracy,
    check_node_targets,
    evaluate_node_classifier,
    fit,
    node_classification_step,
    train_node_classifier,
)


class TinyGNN(torch.nn.Module):
    """Linear layer after one mean aggregation: enough to exercise the loop."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.5):
        super().__init__()
        self.lin = torch.nn.Linear(2 * in_channels, out_channels)
        self.dropout = dropout

    def forward(self, x, edge_index):
        src, dst = edge_index
        deg = torch.zeros(x.size(0)).index_add_(0, dst, torch.ones(dst.numel())).clamp(min=1)
        m = torch.zeros_like(x).index_add_(0, dst, x[src]) / deg[:, None]
        h = torch.cat([x, m], dim=1)
        return self.lin(F.dropout(h, self.dropout, self.training))


def two_community_graph(n: int = 40, seed: int = 0) -> Data:
    """Two dense communities whose labels are visible in noisy features."""
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) >= n // 2).long()
    x = torch.randn(n, 4, generator=g) + 1.5 * y[:, None].float()
    src, dst = torch.randint(0, n, (2, 6 * n), generator=g)
    keep = (y[src] == y[dst]) & (src != dst)
    edge_index = torch.stack([torch.cat([src[keep], dst[keep]]), torch.cat([dst[keep], src[keep]])])
    perm = torch.randperm(n, generator=g)
    train_mask = torch.zeros(n, dtype=torch.bool)
    val_mask = torch.zeros(n, dtype=torch.bool)
    train_mask[perm[: n // 2]] = True
    val_mask[perm[n // 2:]] = True
    return Data(x=x, edge_index=edge_index, y=y, train_mask=train_mask, val_mask=val_mask)


def test_accuracy_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    y = torch.tensor([0, 0, 0, 1])
    assert accuracy(logits, y) == pytest.approx(0.75)
    mask = torch.tensor([False, True, True, False])
    assert accuracy(logits, y, mask) == pytest.approx(0.5)
    assert accuracy(torch.tensor([0, 1, 0, 1]), y) == pytest.approx(0.75)  # predicted classes


@pytest.mark.parametrize(
    "out, y, mask, match",
    [
        (torch.zeros(5, 3), torch.zeros(4, dtype=torch.long), None, "5 rows but there are 4 labels"),
        (torch.zeros(4, 3), torch.zeros(4, 3), None, "one-hot"),
        (torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.ones(5, dtype=torch.bool), "mask has shape"),
        (torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.ones(4), "boolean"),
        (torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.zeros(4, dtype=torch.bool), "selects no node"),
        (torch.zeros(4, 3), torch.tensor([0, 1, 2, 3]), None, "3 classes"),
        (torch.zeros(4, 3, 2), torch.zeros(4, dtype=torch.long), None, r"\[N, C\]"),
    ],
)
def test_shape_mismatches_raise_clear_errors(out, y, mask, match):
    with pytest.raises(ValueError, match=match):
        check_node_targets(out, y, mask)


def test_step_refuses_mismatched_masks():
    data = two_community_graph()
    data.train_mask = data.train_mask[:-1]
    with pytest.raises(ValueError, match="mask has shape"):
        node_classification_step(TinyGNN(4, 2), data)


def test_fit_learns_and_records_history():
    torch.manual_seed(0)
    data = two_community_graph()
    model = TinyGNN(4, 2)
    history = train_node_classifier(model, data, epochs=60, lr=0.05, seed=0)
    assert len(history) == 60
    assert set(history.metrics) == {"loss", "train_loss", "train_acc", "val_loss", "val_acc"}
    assert history["loss"][-1] < history["loss"][0]
    assert history.monitor == "val_loss" and history.mode == "min"
    best = min(range(60), key=lambda i: history["val_loss"][i]) + 1
    assert history.best_epoch == best
    # the model holds the best epoch's weights: its validation loss is the recorded best
    assert evaluate_node_classifier(model, data)["val_loss"] == pytest.approx(history.best["val_loss"], abs=1e-6)
    assert history.best["val_acc"] >= 0.9


def test_fit_is_deterministic_with_a_seed():
    data = two_community_graph()
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = TinyGNN(4, 2)
        runs.append(train_node_classifier(model, data, epochs=15, seed=3).metrics)
    assert runs[0] == runs[1]


def test_early_stopping_stops_and_restores_best():
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.69, 0.8, 0.1])
    states = []

    def evaluate(m):
        states.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"val_acc": next(scores)}

    step = lambda m, batch: (m(torch.ones(1, 1)) - 3.0).pow(2).mean()
    history = fit(model, opt, step, [None], epochs=10, evaluate=evaluate, patience=3)
    assert history.monitor == "val_acc" and history.mode == "max"
    assert len(history) == 5 and history.stopped_early
    assert history.best_epoch == 2
    for k, v in model.state_dict().items():
        assert torch.equal(v, states[1][k])


def test_one_epoch_iterates_over_every_batch():
    model = torch.nn.Linear(1, 1, bias=False)
    seen = []

    def step(m, batch):
        seen.append(batch)
        return m(torch.tensor([[float(batch)]])).sum() * 0

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, opt, step, [1, 2, 3], epochs=2)
    assert seen == [1, 2, 3, 1, 2, 3]
    seen.clear()
    fit(model, opt, step, lambda epoch: range(epoch), epochs=3)  # resampled each epoch
    assert seen == [0, 0, 1, 0, 1, 2]
    with pytest.raises(ValueError, match="one-shot iterator"):
        fit(model, opt, step, (b for b in [1, 2]), epochs=2)


def test_nan_loss_names_the_epoch_and_what_to_try():
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []

    def step(m, batch):
        calls.append(1)
        out = m(torch.ones(1, 1)).sum()
        return out * float("nan") if len(calls) == 4 else out

    with pytest.raises(NonFiniteLossError, match=r"epoch 4, batch 1.*smaller learning rate \(now 0.1\)"):
        fit(model, opt, step, [None], epochs=10)


def test_bad_arguments_raise_value_errors():
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    step = lambda m, b: m(torch.ones(1, 1)).sum()
    with pytest.raises(ValueError, match="patience needs a validation metric"):
        fit(model, opt, step, [None], epochs=2, patience=2)
    with pytest.raises(ValueError, match="monitor='val_f1' is not among"):
        fit(model, opt, step, [None], epochs=2, evaluate=lambda m: {"val_acc": 1.0}, monitor="val_f1")
    with pytest.raises(ValueError, match="scalar tensor"):
        fit(model, opt, lambda m, b: m(torch.ones(3, 1)), [None], epochs=1)


def test_history_plot_and_repr():
    h = History(monitor="val_acc", mode="max")
    for loss, acc in [(1.0, 0.5), (0.5, 0.8), (0.4, 0.7)]:
        h.append({"loss": loss, "val_acc": acc})
    h.best_epoch = 2
    ax = h.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["loss", "val_acc"] and "epoch 2" in labels[2]
    assert repr(h) == "History(epochs=3, best_epoch=2, val_acc=0.8000)"
    assert h.best == {"loss": 0.5, "val_acc": 0.8}
    with pytest.raises(ValueError, match="same keys"):
        h.append({"loss": 0.1})
    with pytest.raises(KeyError, match="val_loss"):
        h["val_loss"]


def test_accuracy_refuses_nan_scores_instead_of_scoring_them():
    """argmax of NaN logits picks class 0, which scored 0.33 on a 3-class toy: now an error."""
    y = torch.tensor([0, 1, 2])
    out = torch.full((3, 3), float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite"):
        accuracy(out, y)
    out = torch.eye(3)
    out[2] = float("nan")
    assert accuracy(out, y, torch.tensor([True, True, False])) == 1.0   # masked-out rows may be anything


def _tiny_regression():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 1))
    return model, x, y


def test_ctrl_c_keeps_the_best_weights_and_the_history():
    """Ctrl-C used to lose the History and leave the model in train mode with its last weights."""
    model, x, y = _tiny_regression()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    states = {}

    def step(m, batch):
        return F.mse_loss(m(x), y)

    def evaluate(m):
        epoch = len(states) + 1
        states[epoch] = {k: v.clone() for k, v in m.state_dict().items()}
        if epoch == 4:
            raise KeyboardInterrupt
        return {"val_loss": [3.0, 1.0, 2.0][epoch - 1]}              # epoch 2 is the best

    with pytest.raises(KeyboardInterrupt) as info:
        fit(model, opt, step, [None], epochs=10, evaluate=evaluate, seed=0)
    assert len(info.value.history["loss"]) == 3 and info.value.history.best_epoch == 2
    assert not model.training
    assert all(torch.equal(v, states[2][k]) for k, v in model.state_dict().items())


def test_a_nan_metric_never_becomes_the_best_epoch():
    """A NaN validation metric at epoch 1 used to freeze early stopping there."""
    model, x, y = _tiny_regression()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    values = iter([float("nan"), 2.0, 1.0, 1.5, 1.6, 1.7])
    history = fit(model, opt, lambda m, b: F.mse_loss(m(x), y), [None], epochs=6,
                  evaluate=lambda m: {"val_loss": next(values)}, patience=3, seed=0)
    assert history.best_epoch == 3
