"""Tests for mini-batch training with the shared loop: seed-only loss, seed predictions,
and fit over NeighborBatches learning the task."""
import torch
import torch.nn.functional as F

from gnncourse.inductive import GraphFamily
from gnncourse.models import MeanAggregationGNN
from gnncourse.sampling import NeighborBatches
from gnncourse.train import (accuracy, evaluate_seeds, fit, predict_seeds,
                             seed_node_classification_step)


def test_step_uses_only_the_seed_outputs():
    torch.manual_seed(0)
    data = GraphFamily().sample(200, seed=0)
    model = MeanAggregationGNN(16, 8, 4, dropout=0.0)
    batch = next(iter(NeighborBatches(data, batch_size=20, fanouts=[5, 5])))
    loss = seed_node_classification_step(model, batch)
    out = model(batch.x, batch.edge_index)
    torch.testing.assert_close(loss, F.cross_entropy(out[:20], batch.y[:20]))
    # changing a non-seed node's label leaves the loss unchanged
    batch.y[25] = (batch.y[25] + 1) % 4
    torch.testing.assert_close(seed_node_classification_step(model, batch), loss)


def test_predict_seeds_with_full_fanout_equals_full_graph():
    torch.manual_seed(0)
    data = GraphFamily().sample(300, seed=1)
    model = MeanAggregationGNN(16, 8, 4).train()
    loader = NeighborBatches(data, data.test_mask, batch_size=32, fanouts=[-1, -1])
    n_id, out = predict_seeds(model, loader)
    assert model.training  # mode restored
    model.eval()
    full = model(data.x, data.edge_index)
    assert torch.equal(n_id, data.test_mask.nonzero().flatten())
    torch.testing.assert_close(out, full[n_id], rtol=1e-5, atol=1e-5)
    metrics = evaluate_seeds(model, loader, data.y, name="test")
    assert abs(metrics["test_acc"] - accuracy(full, data.y, data.test_mask)) < 1e-6


def test_fit_over_sampled_minibatches_learns_and_is_reproducible():
    data = GraphFamily().sample(3000, seed=2)

    def run():
        torch.manual_seed(0)
        model = MeanAggregationGNN(16, 32, 4)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        train = NeighborBatches(data, data.train_mask, batch_size=256, fanouts=[10, 5], shuffle=True, seed=0)
        val = NeighborBatches(data, data.val_mask, batch_size=512, fanouts=[10, 5], seed=1)
        hist = fit(model, opt, seed_node_classification_step, train, epochs=4,
                   evaluate=lambda m: evaluate_seeds(m, val, data.y), seed=0)
        return hist
    h1, h2 = run(), run()
    assert h1["loss"] == h2["loss"]
    assert h1["loss"][-1] < h1["loss"][0]
    assert h1["val_acc"][-1] > 0.7  # features alone give about 0.6, chance 0.25
