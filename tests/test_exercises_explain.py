"""The explanation exercises' checkers accept the right answer and name the usual wrong ones."""
import math

import networkx as nx
import pytest
import torch

from gnncourse.exercises_explain import (check_accuracy_standard_error, check_class_share_prediction,
                                         check_fidelity, check_grad_cam, check_has_cycle, check_kept_graph_prediction,
                                         check_molecules_apart, check_nitro_count_prediction,
                                         check_nitro_number_prediction, check_padded_auc, check_penalty_prediction,
                                         check_rescaling_prediction, check_straight_through, check_tied_auc,
                                         check_three_atom_count, check_true_label_prediction, grad_cam_reference)
from gnncourse.metrics import explanation_auc, fidelity, roc_auc
from gnncourse.small_graphs import count_typed_graphs


def test_fidelity_checker():
    assert check_fidelity(fidelity).startswith("correct")
    swapped = lambda f, w, o: fidelity(f, w, o)[::-1]
    assert "swapped" in check_fidelity(swapped)
    flipped = lambda f, w, o: tuple(-v for v in fidelity(f, w, o))
    assert "sign" in check_fidelity(flipped)
    summed = lambda f, w, o: (float((f - w).sum()), float((f - o).sum()))
    assert "average" in check_fidelity(summed)
    assert check_fidelity(lambda f, w, o: 1 / 0).startswith("not yet: your function raised")
    with pytest.raises(TypeError, match="function"):
        check_fidelity((0.1, 0.2))


def test_tied_auc_checker():
    assert check_tied_auc(lambda n, m: 1 - m / (2 * n)).startswith("correct")
    assert "one half" in check_tied_auc(lambda n, m: 1 - m / n)
    assert check_tied_auc(lambda n, m: 1.0).startswith("not yet")


def test_grad_cam_reference_by_hand():
    # graph 0: nodes 0, 1; graph 1: node 2. alpha_0 = mean of G rows 0, 1 = (0.5, 1); alpha_1 = (-1, 0)
    H = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 5.0]])
    G = torch.tensor([[1.0, 3.0], [0.0, -1.0], [-1.0, 0.0]])
    got = grad_cam_reference(H, G, torch.tensor([0, 0, 1]))
    assert got.tolist() == [2.0, 1.0, 0.0]          # relu(1 + 1), relu(0 + 1), relu(-3)
    with pytest.raises(ValueError, match="batch"):
        grad_cam_reference(H, G, torch.tensor([0, 1]))


def test_grad_cam_checker_names_the_usual_slips():
    assert check_grad_cam(grad_cam_reference).startswith("correct")
    assert "last" in check_grad_cam(_no_relu)
    assert "node by node" in check_grad_cam(lambda H, G, b: (G * H).sum(1).relu())
    assert "own nodes" in check_grad_cam(lambda H, G, b: (G.mean(0) * H).sum(1).relu())
    assert "one score per node" in check_grad_cam(lambda H, G, b: H.sum(0))


def _no_relu(H, G, b):
    alpha = torch.stack([G[b == i].mean(0) for i in range(int(b.max()) + 1)])
    return (alpha[b] * H).sum(1)


def test_rescaling_prediction_checker_agrees_with_the_metric():
    gen = torch.Generator().manual_seed(0)
    scores, labels = torch.rand(40, generator=gen), torch.rand(40, generator=gen) < 0.3
    group = torch.arange(40) // 10
    before = explanation_auc(scores, labels, group)
    after = explanation_auc(scores * torch.tensor([1.0, 10.0, 0.1, 3.0])[group], labels, group)
    assert after["per_node"] == pytest.approx(before["per_node"])
    assert after["pooled"] != pytest.approx(before["pooled"])    # so "pooled" is the right answer
    assert check_rescaling_prediction("pooled").startswith("correct")
    for wrong in ["per-node", "both", "neither"]:
        assert check_rescaling_prediction(wrong).startswith("not yet")
    assert "answer with one of" in check_rescaling_prediction("maybe")
    with pytest.raises(TypeError):
        check_rescaling_prediction(1)


def test_has_cycle_checker():
    assert check_has_cycle(lambda e, n: e.size(1) // 2 >= n).startswith("correct")
    # a reference that does not use the shortcut: networkx's cycle basis
    by_networkx = lambda e, n: bool(nx.cycle_basis(nx.Graph(e.t().tolist())))
    assert check_has_cycle(by_networkx).startswith("correct")
    assert "each edge once" in check_has_cycle(lambda e, n: e.size(1) >= n)        # counts both directions
    assert "how many edges has a tree" in check_has_cycle(lambda e, n: e.size(1) // 2 > n)   # off by one
    assert check_has_cycle(lambda e, n: False).startswith("not yet")
    assert check_has_cycle(lambda e, n: None).startswith("not done yet")
    assert "raised ZeroDivisionError" in check_has_cycle(lambda e, n: 1 / 0)
    with pytest.raises(TypeError, match="function"):
        check_has_cycle(True)


def test_nitro_and_penalty_predictions():
    assert check_nitro_count_prediction(" Sum ").startswith("correct")
    assert "share" in check_nitro_count_prediction("mean")
    assert check_nitro_count_prediction("max").startswith("not yet")
    assert check_nitro_count_prediction("median").startswith("not yet: answer with one of")
    assert check_nitro_count_prediction(None).startswith("not done yet")
    assert check_penalty_prediction("higher").startswith("correct")
    assert all(check_penalty_prediction(a).startswith("not yet") for a in ("lower", "same"))
    with pytest.raises(TypeError, match="string"):
        check_penalty_prediction(1)


def test_accuracy_standard_error_checker():
    assert check_accuracy_standard_error(lambda p, n: math.sqrt(p * (1 - p) / n)).startswith("correct")
    assert "square root" in check_accuracy_standard_error(lambda p, n: p * (1 - p) / n)
    assert "divide by n" in check_accuracy_standard_error(lambda p, n: math.sqrt(p * (1 - p) * n))
    assert "not p" in check_accuracy_standard_error(lambda p, n: math.sqrt(p / n))
    assert check_accuracy_standard_error(lambda p, n: 0.05).startswith("not yet")
    assert check_accuracy_standard_error(lambda p, n: None).startswith("not done yet")
    # the number the chapter quotes: p = 0.9 on 38 test molecules
    assert abs(math.sqrt(0.9 * 0.1 / 38) - 0.0487) < 1e-4


def test_true_label_and_kept_graph_predictions():
    assert check_true_label_prediction("Same").startswith("correct")
    assert check_true_label_prediction("different").startswith("not yet")
    assert check_true_label_prediction(None).startswith("not done yet")
    assert check_kept_graph_prediction("yes").startswith("correct")
    assert check_kept_graph_prediction("no").startswith("not yet")
    assert check_kept_graph_prediction("maybe").startswith("not yet: answer with one of")
    with pytest.raises(TypeError, match="string"):
        check_kept_graph_prediction(True)


def test_padded_auc_formula_matches_the_metric():
    # the formula the checker accepts, on vectors it never saw: ground truth above 0, padding at 0
    gen = torch.Generator().manual_seed(11)
    truth, other = torch.rand(9, generator=gen) + 0.01, torch.rand(31, generator=gen)
    labels = torch.cat([torch.ones(9), torch.zeros(31)]).bool()
    a = roc_auc(torch.cat([truth, other]), labels)
    padded = roc_auc(torch.cat([truth, other, torch.zeros(200)]), torch.cat([labels, torch.zeros(200).bool()]))
    assert padded == pytest.approx((a * 31 + 200) / 231)


def test_padded_auc_checker():
    assert check_padded_auc(lambda a, n, e: (a * n + e) / (n + e)).startswith("correct")
    assert check_padded_auc(lambda a, n, e: 1 - (1 - a) * n / (n + e)).startswith("correct")   # the same, rearranged
    assert "each one is a pair" in check_padded_auc(lambda a, n, e: a)
    assert "no pair with them is a tie" in check_padded_auc(lambda a, n, e: (a * n + e / 2) / (n + e))
    assert "still count" in check_padded_auc(lambda a, n, e: e / (n + e))
    assert check_padded_auc(lambda a, n, e: a + e / (n + e)).startswith("not yet")
    assert check_padded_auc(lambda a, n, e: None).startswith("not done yet")
    assert "raised ZeroDivisionError" in check_padded_auc(lambda a, n, e: 1 / 0)
    with pytest.raises(TypeError, match="function"):
        check_padded_auc(0.9)


def test_straight_through_checker():
    assert check_straight_through(lambda m, z: z + m - m.detach()).startswith("correct")
    assert check_straight_through(lambda m, z: m + (z - m).detach()).startswith("correct")
    assert "soft mask" in check_straight_through(lambda m, z: m)
    assert "no gradient" in check_straight_through(lambda m, z: z)
    assert "no gradient" in check_straight_through(lambda m, z: z + m.detach() - m.detach())
    assert "only the kept edges" in check_straight_through(lambda m, z: z * (1 + m - m.detach()))
    assert check_straight_through(lambda m, z: (m > 0.5).float()).startswith("not yet")
    assert "one weight per edge" in check_straight_through(lambda m, z: z[:3])
    assert check_straight_through(lambda m, z: None).startswith("not done yet")
    with pytest.raises(TypeError, match="function"):
        check_straight_through(torch.ones(3))


def test_molecules_apart_checker():
    def right(acc, n):
        counts = (acc * n).round()
        return int(counts.max() - counts.min())

    assert check_molecules_apart(right).startswith("correct")
    assert "difference of accuracies" in check_molecules_apart(lambda acc, n: float(acc.max() - acc.min()))
    assert "whole number of graphs" in check_molecules_apart(lambda acc, n: (acc.max() - acc.min()) * n)
    assert "truncating" in check_molecules_apart(lambda acc, n: int(acc.max() * n) - int(acc.min() * n))
    assert check_molecules_apart(lambda acc, n: right(acc, n) + 1).startswith("not yet: wrong for")
    assert check_molecules_apart(lambda acc, n: None).startswith("not done yet")
    assert "raised" in check_molecules_apart(lambda acc, n: acc.nonexistent)
    with pytest.raises(TypeError, match="function"):
        check_molecules_apart(5)


def test_three_atom_count_checker_agrees_with_the_enumeration():
    def formula(valency):                  # paths: middle atom with 2 bonds, unordered ends; triangles: multisets
        k, k2 = len(valency), sum(v >= 2 for v in valency)
        return k2 * k * (k + 1) // 2 + math.comb(k2 + 2, 3)

    for valency in ([4], [4, 3, 2, 1, 1, 1, 1], [2, 2], [1, 1], [3, 3, 3, 1]):
        assert formula(valency) == count_typed_graphs(3, valency)
    assert check_three_atom_count(formula).startswith("correct")
    assert check_three_atom_count(lambda v: count_typed_graphs(3, v)).startswith("correct")
    k_k2 = lambda v: (len(v), sum(x >= 2 for x in v))
    path_only = lambda v: k_k2(v)[1] * k_k2(v)[0] * (k_k2(v)[0] + 1) // 2
    assert "two ways" in check_three_atom_count(path_only)
    ordered_ends = lambda v: k_k2(v)[1] * k_k2(v)[0] ** 2 + math.comb(k_k2(v)[1] + 2, 3)
    assert "either end" in check_three_atom_count(ordered_ends)
    labelled_triangle = lambda v: path_only(v) + k_k2(v)[1] ** 3
    assert "turning or flipping" in check_three_atom_count(labelled_triangle)
    any_middle = lambda v: k_k2(v)[0] ** 2 * (k_k2(v)[0] + 1) // 2 + math.comb(k_k2(v)[1] + 2, 3)
    assert "middle" in check_three_atom_count(any_middle)
    assert check_three_atom_count(lambda v: 94).startswith("not yet")
    assert check_three_atom_count(lambda v: None).startswith("not done yet")
    with pytest.raises(TypeError, match="function"):
        check_three_atom_count(94)


def test_class_share_and_nitro_number_predictions():
    assert check_class_share_prediction("less").startswith("correct")
    assert all(check_class_share_prediction(a).startswith("not yet") for a in ("more", "same"))
    assert check_class_share_prediction(None).startswith("not done yet")
    assert check_nitro_number_prediction(" More ").startswith("correct")
    assert all(check_nitro_number_prediction(a).startswith("not yet") for a in ("same", "less"))
    assert check_nitro_number_prediction("varies").startswith("not yet: answer with one of")
    with pytest.raises(TypeError, match="string"):
        check_nitro_number_prediction(0)
