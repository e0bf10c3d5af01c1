"""The XGNN study: the classifier's recipe and trainer, nitro groups, molecule descriptions,
the exhaustive enumeration scored by a model, and the generator runs."""
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from gnncourse.data import MUTAG_ATOMS, MUTAG_VALENCY, load_mutag
from gnncourse.experiments.xgnn import (
    CLASSIFIER, SETTINGS, describe, enumerate_molecules, formula, generator_runs, nitro_groups, nitro_mask,
    train_classifier)
from gnncourse.graph_models import GNNGraphClassifier
from gnncourse.small_graphs import typed_graphs
from gnncourse.xgnn import one_hot_featurizer

from test_graph_classification import _one_thread  # noqa: F401  (autouse: one torch thread)

C, N, O, F_, CL = (MUTAG_ATOMS.index(a) for a in ("C", "N", "O", "F", "Cl"))


def _und(pairs):
    e = torch.tensor(pairs, dtype=torch.long).t()
    return torch.cat([e, e.flip(0)], 1)


def test_nitro_groups_by_hand():
    nitrobenzene = _und([(i, (i + 1) % 6) for i in range(6)] + [(0, 6), (6, 7), (6, 8)])
    assert nitro_groups(nitrobenzene, torch.tensor([C] * 6 + [N, O, O])) == 1
    # an amine oxide-like N with one lone O is no nitro group; nor is an N with two O in a ring
    assert nitro_groups(_und([(0, 1), (1, 2), (1, 3)]), torch.tensor([C, N, O, C])) == 0
    assert nitro_groups(_und([(0, 1), (1, 2), (1, 3), (2, 3)]), torch.tensor([C, N, O, O])) == 0
    dinitro = _und([(0, 1), (1, 2), (1, 3), (0, 4), (4, 5), (4, 6)])
    assert nitro_groups(dinitro, torch.tensor([C, N, O, O, N, O, O])) == 2


def test_every_mutag_molecule_has_a_nitro_group():
    mutag = load_mutag()
    counts = [nitro_groups(d.edge_index, d.x.argmax(1)) for d in mutag]
    assert min(counts) >= 1 and len(counts) == 188


def test_nitro_mask_agrees_with_nitro_groups():
    for fam in typed_graphs(5, MUTAG_VALENCY):
        mask = nitro_mask(fam)
        assert mask.tolist() == [nitro_groups(fam.edge_index, t) > 0 for t in fam.types]


def test_formula_and_describe():
    assert formula(torch.tensor([O, C, N, O])) == "CNO2"
    assert formula(torch.tensor([CL])) == "Cl"
    assert describe(_und([(0, 1)]), torch.tensor([C, F_])) == "CF: C0-F1"


class _Counter(torch.nn.Module):
    """p(class 1) grows with the share of oxygen atoms: a known scorer for the enumeration."""

    def forward(self, x, edge_index, batch=None):
        share = torch.zeros(int(batch.max()) + 1).index_add_(0, batch, x[:, O])
        size = torch.bincount(batch).float()
        z = 8 * (share / size) - 2
        return torch.stack([torch.zeros_like(z), z], 1)


def test_enumeration_counts_and_best_molecules():
    r = enumerate_molecules(_Counter(), 4, one_hot_featurizer(7), desc=None)
    assert [r[n]["count"] for n in (1, 2, 3)] == [7, 28, 94]
    # the nitro molecules of 4 atoms: an N with two lone O and one more atom of any of 7 types
    assert [r[n]["nitro"] for n in (1, 2, 3, 4)] == [0, 0, 0, 7]
    assert r[1]["best"][1] == "O: " and r[2]["best"][1] == "O2: O0-O1"
    assert r[3]["best_p"][1] == pytest.approx(torch.sigmoid(torch.tensor(6.0)).item())
    assert r[1]["above_half"] == [6, 1]
    assert r[4]["p_mutagenic_nitro"] > r[4]["p_mutagenic_plain"]
    # the best nitro molecule of 4 atoms: O-NO2 (3 oxygens of 4 atoms); none below 4 atoms
    assert r[4]["best_nitro"] == "NO3: O0-N3 O1-N3 O2-N3" and r[3]["best_nitro"] == ""
    assert r[4]["best_p_nitro"] == pytest.approx(torch.sigmoid(torch.tensor(4.0)).item())


def test_train_classifier_stops_early_and_restores_the_best_epoch():
    torch.manual_seed(0)
    graphs = []
    for i in range(40):  # label: is there an oxygen
        types = torch.tensor([C, C, O if i % 2 else C])
        graphs.append(Data(x=F.one_hot(types, 7).float(), edge_index=_und([(0, 1), (1, 2)]), y=torch.tensor([i % 2])))
    model = GNNGraphClassifier(7, 8, 2, layer="gin", num_layers=2, readout="mean", dropout=0.0)
    h = train_classifier(model, graphs[:30], graphs[30:], CLASSIFIER, seed=0, desc=None)
    assert len(h) <= CLASSIFIER.epochs and h.best_epoch is not None
    assert h["val_loss"][h.best_epoch - 1] == min(h["val_loss"])
    assert len(h) == CLASSIFIER.epochs or len(h) - h.best_epoch == CLASSIFIER.patience
    with pytest.raises(ValueError, match="non-empty"):
        train_classifier(model, graphs, [], desc=None)


def test_generator_runs_rows():
    rows = generator_runs(SETTINGS["MUTAG"], _Counter(), one_hot_featurizer(7), seeds=[0], classes=[1],
                          num_graphs=4, desc=None)
    (row,) = rows
    assert row["target"] == "mutagenic" and row["seed"] == 0 and 1 <= row["atoms"] <= 9
    assert 0 <= row["p_sampled"] <= 1 and row["molecule"].startswith(formula(torch.tensor([C])))
