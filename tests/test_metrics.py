"""Explanation metrics against scikit-learn and hand-computed cases."""
import pytest
import torch
from sklearn.metrics import roc_auc_score

from gnncourse.metrics import explanation_auc, fidelity, roc_auc


def test_roc_auc_hand_computed():
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4
    assert roc_auc(torch.tensor([0.9, 0.5, 0.4, 0.1]), torch.tensor([1, 0, 1, 0])) == pytest.approx(0.75)
    # ties count one half
    assert roc_auc(torch.tensor([1.0, 1.0]), torch.tensor([1, 0])) == pytest.approx(0.5)


def test_roc_auc_matches_sklearn_with_ties():
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        s = torch.randint(0, 6, (200,), generator=g).float()  # many ties
        y = torch.rand(200, generator=g) < 0.3
        assert roc_auc(s, y) == pytest.approx(roc_auc_score(y.numpy(), s.numpy()), abs=1e-12)


def test_roc_auc_undefined_and_bad_input():
    assert roc_auc(torch.tensor([0.1, 0.2]), torch.tensor([1, 1])) != roc_auc(torch.tensor([0.1]), torch.tensor([1]))  # nan
    with pytest.raises(ValueError, match="same length"):
        roc_auc(torch.tensor([0.1, 0.2]), torch.tensor([1]))
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(torch.tensor([float("nan"), 0.2]), torch.tensor([1, 0]))


def test_explanation_auc_pooled_vs_per_node():
    # node 0 ranks perfectly on a low scale, node 1 perfectly on a high scale:
    # each per-node AUC is 1, but pooled, node 1's negatives outrank node 0's positives.
    scores = torch.tensor([0.2, 0.1, 0.9, 0.8])
    labels = torch.tensor([1, 0, 1, 0])
    group = torch.tensor([0, 0, 1, 1])
    r = explanation_auc(scores, labels, group)
    assert r["per_node"] == pytest.approx(1.0)
    assert r["pooled"] == pytest.approx(roc_auc_score(labels.numpy(), scores.numpy()))
    assert r["pooled"] == pytest.approx(0.75) and r["num_nodes"] == 2
    # a node without negatives is left out of the per-node mean
    r = explanation_auc(torch.tensor([0.2, 0.1, 0.5]), torch.tensor([1, 0, 1]), torch.tensor([0, 0, 1]))
    assert r["num_nodes"] == 1 and r["per_node"] == pytest.approx(1.0)


def test_fidelity():
    fp, fm = fidelity(torch.tensor([0.9, 0.8]), torch.tensor([0.1, 0.2]), torch.tensor([0.9, 0.7]))
    assert fp == pytest.approx(0.7) and fm == pytest.approx(0.05)
    with pytest.raises(ValueError, match="probabilities"):
        fidelity(torch.tensor([2.0]), torch.tensor([0.1]), torch.tensor([0.1]))
