"""The XGNN explanations of the book: one setting per dataset, the classes' names, and the
generator's hyper-parameters, each with the reason for its value; the MUTAG classifier they
explain (:data:`CLASSIFIER`); and the study that checks them: the classifier over model and
split seeds, every valid molecule of up to 7 atoms scored by it (the ground truth a generator
should approach), nitro groups, and the generators over seeds.

    python -m gnncourse.experiments.xgnn   # writes chapters/results/xgnn_*.csv

    >>> SETTINGS["MUTAG"].max_nodes, SETTINGS["Is_Acyclic"].classes[0]
    (9, 'cyclic')
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.loader import DataLoader

from ..data import MUTAG_ATOMS, MUTAG_VALENCY, load_mutag
from .results import write_csv
from ..graph_classification import evaluate, stratified_split
from ..graph_models import GNNGraphClassifier
from ..small_graphs import SkeletonFamily, score_families, typed_graphs
from ..synthetic import IS_ACYCLIC_CLASSES
from ..train import History, fit
from ..utils import progress, seed_everything
from ..xgnn import XGNN, Featurizer, one_hot_featurizer

__all__ = ["XGNNSetting", "SETTINGS", "MUTAG_CLASSES", "ClassifierRecipe", "CLASSIFIER", "train_classifier",
           "mutag_classifier", "nitro_groups", "nitro_mask", "formula", "describe", "enumerate_molecules",
           "generator_runs", "RESULTS", "main"]

#: Label names of MUTAG: ``y == 1`` is a mutagenic molecule.
MUTAG_CLASSES = ["non-mutagenic", "mutagenic"]


@dataclass(frozen=True)
class XGNNSetting:
    """How XGNN explains one classifier: the generator's graph budget, its training, the rules."""

    name: str
    classes: Sequence[str]
    num_node_types: int  # the candidate set: one node per type the generator may add
    max_nodes: int
    max_steps: int
    batch_size: int  # episodes per policy-gradient iteration
    valency: Optional[Sequence[int]] = None  # graph rule: most bonds per node type (None: no rule)
    # the generator's training; these values were set once for the chapter, not tuned
    # (the chapter shows the reward curves they give)
    iterations: int = 30  # policy-gradient iterations
    rollouts: int = 4  # Monte-Carlo rollouts per step, for the intermediate reward
    lambda_1: float = 1.0  # weight of the rollout reward against the final graph's reward
    lambda_2: float = 2.0  # penalty of a step that breaks a graph rule
    lr: float = 0.02  # Adam on the policy
    why: str = ""  # why the graph budget is what it is

    def explainer(self, classifier: nn.Module, featurize: Featurizer, target_class: int, seed: int) -> XGNN:
        """An untrained :class:`~gnncourse.xgnn.XGNN` for ``target_class`` of ``classifier``."""
        return XGNN(classifier, target_class=target_class, num_node_types=self.num_node_types,
                    featurize=featurize, max_nodes=self.max_nodes, max_steps=self.max_steps,
                    valency=self.valency, start_type=0, rollouts=self.rollouts, lambda_1=self.lambda_1,
                    lambda_2=self.lambda_2, lr=self.lr, seed=seed)


SETTINGS: Dict[str, XGNNSetting] = {s.name: s for s in [
    XGNNSetting("Is_Acyclic", IS_ACYCLIC_CLASSES, num_node_types=1, max_nodes=6, max_steps=5, batch_size=8,
                why="6 nodes: enough for a cycle and a tree; one node type (the classifier sees degrees)"),
    XGNNSetting("MUTAG", MUTAG_CLASSES, num_node_types=7, max_nodes=9, max_steps=9, batch_size=16,
                valency=MUTAG_VALENCY,
                why="9 atoms: room for a ring and a nitro group; the 7 atom types and their valencies"),
]}


# ------------------------------------------------------------------ the classifier XGNN explains


@dataclass(frozen=True)
class ClassifierRecipe:
    """How the MUTAG classifier that XGNN explains is trained (a GIN, as in the model comparison
    of the graph-classification chapter, where it was the best MUTAG model)."""

    layer: str = "gin"  # the best of the 10-fold comparison (GIN, mean readout: test 0.873 +- 0.057)
    readout: str = "mean"  # the readout of that best model
    hidden_channels: int = 32  # the GIN paper's width, as in the comparison
    num_layers: int = 4  # the GIN paper's depth (5 counting the input), as in the comparison
    dropout: float = 0.5  # in the head, as in the comparison
    lr: float = 0.005  # as in the comparison ...
    decay_every: int = 40  # ... halved every 40 epochs
    batch_size: int = 32  # as in the comparison
    epochs: int = 150  # the comparison's budget, now an upper bound ...
    patience: int = 30  # ... early stopping: the comparison's models fit their training folds (0.97) far
    # better than their test folds (0.87); stop when the validation loss has not improved for 30 epochs
    val_fraction: float = 0.2  # a stratified fifth of the training graphs decides when to stop (never the test graphs)


#: The recipe of the chapter.
CLASSIFIER = ClassifierRecipe()


def train_classifier(model: nn.Module, train_set, val_set, recipe: ClassifierRecipe = CLASSIFIER, seed: int = 0,
                     desc: Optional[str] = "classifier") -> History:
    """Train ``model`` (a :class:`~gnncourse.graph_models.GNNGraphClassifier`) on ``train_set`` with Adam, the
    learning rate halved every ``recipe.decay_every`` epochs, stopping early on the loss of
    ``val_set``; the model ends with the weights of its best validation epoch.

    Returns the :class:`~gnncourse.train.History` (``loss``, ``val_loss``, ``val_acc`` per epoch).
    """
    if len(train_set) == 0 or len(val_set) == 0:
        raise ValueError("train_classifier needs non-empty training and validation graphs")
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True, generator=gen)
    val = next(iter(DataLoader(val_set, batch_size=len(val_set))))
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    decay = torch.optim.lr_scheduler.StepLR(opt, step_size=recipe.decay_every, gamma=0.5)

    def step(m, b):
        return F.cross_entropy(m(b.x, b.edge_index, b.batch, b.num_graphs), b.y)

    def evaluate(m):  # once per epoch: the validation loss, then the learning-rate decay
        decay.step()
        z = m(val.x, val.edge_index, val.batch, val.num_graphs)
        return {"val_loss": float(F.cross_entropy(z, val.y)), "val_acc": float((z.argmax(-1) == val.y).float().mean())}

    return fit(model, opt, step, loader, epochs=recipe.epochs, evaluate=evaluate, monitor="val_loss",
               patience=recipe.patience, restore_best=True, seed=seed, desc=desc)


def mutag_classifier(dataset, split_seed: int = 0, seed: int = 0, recipe: ClassifierRecipe = CLASSIFIER,
                     desc: Optional[str] = "classifier"):
    """The classifier on one stratified split of MUTAG: 20% held out for test, a stratified
    ``recipe.val_fraction`` of the rest for early stopping, the rest for training.

    Returns ``(model, history, train_idx, val_idx, test_idx)``; the model is in eval mode.
    """
    rest, _, test_idx = stratified_split(dataset.y, test_fraction=0.2, seed=split_seed)
    sub_train, _, sub_val = stratified_split(dataset.y[rest], test_fraction=recipe.val_fraction, seed=split_seed)
    train_idx, val_idx = rest[sub_train], rest[sub_val]
    seed_everything(seed)
    model = GNNGraphClassifier(dataset.num_features, recipe.hidden_channels, dataset.num_classes,
                               layer=recipe.layer, num_layers=recipe.num_layers, readout=recipe.readout,
                               dropout=recipe.dropout)
    history = train_classifier(model, dataset[train_idx], dataset[val_idx], recipe, seed=seed, desc=desc)
    model.eval()
    return model, history, train_idx, val_idx, test_idx


# ------------------------------------------------------------------ reading molecules


def nitro_groups(edge_index: Tensor, node_type: Tensor) -> int:
    """How many nitro groups a MUTAG molecule has: a nitrogen with three bonds, two of them to
    oxygens that have no other bond (MUTAG's graphs carry no hydrogens).

    >>> import torch
    >>> e = torch.tensor([[0, 1, 1, 2, 1, 3], [1, 0, 2, 1, 3, 1]])   # C-N(-O)(-O)
    >>> nitro_groups(e, torch.tensor([0, 1, 2, 2]))
    1
    """
    n = int(node_type.numel())
    deg = torch.bincount(edge_index[0], minlength=n)
    lone_o = ((node_type == MUTAG_ATOMS.index("O")) & (deg == 1)).long()  # [n]
    o_neighbours = torch.zeros(n, dtype=torch.long).index_add_(0, edge_index[1], lone_o[edge_index[0]])
    return int(((node_type == MUTAG_ATOMS.index("N")) & (deg == 3) & (o_neighbours >= 2)).sum())


def nitro_mask(family: SkeletonFamily) -> Tensor:
    """``[k]``: which graphs of an enumerated family hold at least one nitro group."""
    ei, deg = family.edge_index, family.degree
    lone_o = (family.types == MUTAG_ATOMS.index("O")) & (deg == 1)[None, :]  # [k, n]
    o_neighbours = torch.zeros_like(family.types).index_add_(1, ei[1], lone_o[:, ei[0]].long())
    return ((family.types == MUTAG_ATOMS.index("N")) & (deg == 3)[None, :] & (o_neighbours >= 2)).any(1)


def formula(node_type: Tensor) -> str:
    """The molecular formula of a MUTAG graph (carbon first, then the other atoms in MUTAG's
    order; no hydrogens), e.g. ``"C6NO2"``.

    >>> import torch
    >>> formula(torch.tensor([0, 0, 1, 2, 2, 5]))
    'C2NO2Cl'
    """
    counts = torch.bincount(node_type.view(-1), minlength=len(MUTAG_ATOMS)).tolist()
    return "".join(a + (str(c) if c > 1 else "") for a, c in zip(MUTAG_ATOMS, counts) if c)


def describe(edge_index: Tensor, node_type: Tensor) -> str:
    """A molecule in one line: its formula and its bonds.

    >>> import torch
    >>> describe(torch.tensor([[0, 1, 0, 2], [1, 0, 2, 0]]), torch.tensor([0, 3, 3]))
    'CF2: C0-F1 C0-F2'
    """
    names = [f"{MUTAG_ATOMS[t]}{i}" for i, t in enumerate(node_type.tolist())]
    bonds = " ".join(f"{names[u]}-{names[v]}" for u, v in edge_index.t().tolist() if u < v)
    return f"{formula(node_type)}: {bonds}"


# ------------------------------------------------------------------ exhaustive search


def enumerate_molecules(classifier: nn.Module, max_nodes: int, featurize: Featurizer,
                        desc: Optional[str] = "enumerate") -> Dict[int, dict]:
    """Score every valid MUTAG-like molecule (connected, MUTAG's atom types and valencies) of
    1 to ``max_nodes`` atoms with ``classifier``.

    Returns per size ``n``: ``count``; per class ``c``: ``best_p[c]`` (the highest
    probability), ``best[c]`` (that molecule, :func:`describe`), ``above_half[c]`` (molecules
    with ``p(c) > 0.5``); and ``p_mutagenic_nitro`` / ``p_mutagenic_plain``: the mean
    probability of class 1 over molecules with and without a nitro group (``nitro``: how many
    have one), and ``best_p_nitro`` / ``best_nitro``: the most mutagenic molecule with a nitro group.
    """
    out: Dict[int, dict] = {}
    for n in progress(range(1, max_nodes + 1), desc=desc):
        fams = typed_graphs(n, MUTAG_VALENCY)
        r: Dict = {"count": 0, "best_p": [0.0, 0.0], "best": ["", ""], "above_half": [0, 0],
                   "nitro": 0, "p_mutagenic_nitro": float("nan"), "p_mutagenic_plain": float("nan"),
                   "best_p_nitro": float("nan"), "best_nitro": ""}
        sums = {True: 0.0, False: 0.0}
        counts = {True: 0, False: 0}
        for fam, probs in zip(fams, score_families(classifier, fams, featurize)):
            r["count"] += len(fam)
            nitro = nitro_mask(fam)
            for has in (True, False):
                sums[has] += float(probs[nitro == has, 1].sum())
                counts[has] += int((nitro == has).sum())
            if nitro.any():
                i = int(probs[:, 1].masked_fill(~nitro, -1.0).argmax())
                if not float(probs[i, 1]) <= r["best_p_nitro"]:  # also when best_p_nitro is still nan
                    r["best_p_nitro"] = float(probs[i, 1])
                    r["best_nitro"] = describe(fam.edge_index, fam.types[i])
            for c in (0, 1):
                r["above_half"][c] += int((probs[:, c] > 0.5).sum())
                i = int(probs[:, c].argmax())
                if float(probs[i, c]) > r["best_p"][c]:
                    r["best_p"][c] = float(probs[i, c])
                    r["best"][c] = describe(fam.edge_index, fam.types[i])
        r["nitro"] = counts[True]
        for has, key in ((True, "p_mutagenic_nitro"), (False, "p_mutagenic_plain")):
            if counts[has]:
                r[key] = sums[has] / counts[has]
        out[n] = r
    return out


# ------------------------------------------------------------------ the generator over seeds


def generator_runs(setting: XGNNSetting, classifier: nn.Module, featurize: Featurizer, seeds: Sequence[int],
                   classes: Sequence[int] = (0, 1), num_graphs: int = 32, desc: Optional[str] = "XGNN") -> list:
    """Train one generator per class and seed; one row per run: the class, the seed, the mean
    target probability of ``num_graphs`` sampled graphs, and the greedy (most likely) graph
    with its probability, its size and, for MUTAG, its number of nitro groups.
    """
    rows = []
    for c in classes:
        for seed in seeds:
            xg = setting.explainer(classifier, featurize, target_class=c, seed=seed)
            xg.train(iterations=setting.iterations, batch_size=setting.batch_size,
                     desc=None if desc is None else f"{desc} seed {seed}")
            sampled = xg.generate(num_graphs=num_graphs, greedy=False)
            g = xg.generate()[0]
            row = dict(target=setting.classes[c], seed=seed,
                       p_sampled=round(sum(s.prob for s in sampled) / len(sampled), 4),
                       p_greedy=round(g.prob, 4), atoms=g.num_nodes)
            if setting.name == "MUTAG":
                row.update(nitro=nitro_groups(g.edge_index, g.node_type), molecule=describe(g.edge_index, g.node_type))
            rows.append(row)
    return rows


# ------------------------------------------------------------------ the study's command line

#: The study's results, read by chapter 7 and appendix A3.
RESULTS = Path(__file__).resolve().parents[2] / "chapters" / "results"


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``python -m gnncourse.experiments.xgnn``: the MUTAG classifier over split seeds and
    model seeds, the exhaustive enumeration scored by each model seed's classifier, and the
    generators over seeds; three CSV files in ``chapters/results/``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seeds", type=int, default=5, help="model seeds 0..seeds-1 (the chapter's SEED)")
    parser.add_argument("--split-seeds", type=int, default=10, help="split seeds 0..n-1 for the held-out spread")
    parser.add_argument("--generator-seeds", type=int, default=5, help="generator seeds per class")
    parser.add_argument("--max-nodes", type=int, default=7, help="enumerate molecules up to this size")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    mutag = load_mutag()
    featurize = one_hot_featurizer(len(MUTAG_ATOMS))
    accuracy_rows, enum_rows, gen_rows = [], [], []
    runs = [(0, s) for s in range(args.seeds)] + [(sp, 0) for sp in range(1, args.split_seeds)]
    for split_seed, seed in runs:
        model, history, tr, va, te = mutag_classifier(mutag, split_seed, seed, desc=None)
        accuracy_rows.append(dict(split_seed=split_seed, seed=seed, best_epoch=history.best_epoch,
                                  train_acc=round(evaluate(model, mutag[tr]), 4),
                                  val_acc=round(evaluate(model, mutag[va]), 4),
                                  test_acc=round(evaluate(model, mutag[te]), 4)))
        print(accuracy_rows[-1], flush=True)
        write_csv(accuracy_rows, args.out / "xgnn_classifier.csv")
        if split_seed != 0:
            continue
        for n, r in enumerate_molecules(model, args.max_nodes, featurize, desc=None).items():
            enum_rows.append(dict(seed=seed, atoms=n, molecules=r["count"], nitro=r["nitro"],
                                  p_mut_nitro=round(r["p_mutagenic_nitro"], 4),
                                  p_mut_plain=round(r["p_mutagenic_plain"], 4),
                                  above_half_non=r["above_half"][0], above_half_mut=r["above_half"][1],
                                  best_p_non=round(r["best_p"][0], 4), best_non=r["best"][0],
                                  best_p_mut=round(r["best_p"][1], 4), best_mut=r["best"][1],
                                  best_p_nitro=round(r["best_p_nitro"], 4), best_nitro=r["best_nitro"]))
        write_csv(enum_rows, args.out / "xgnn_enumeration.csv")
        if seed == 0:
            for row in generator_runs(SETTINGS["MUTAG"], model, featurize, range(args.generator_seeds), desc=None):
                gen_rows.append(dict(classifier_seed=seed, **row))
                print(gen_rows[-1], flush=True)
                write_csv(gen_rows, args.out / "xgnn_generators.csv")


if __name__ == "__main__":
    main(sys.argv[1:])
