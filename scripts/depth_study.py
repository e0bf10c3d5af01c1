"""Depth and over-smoothing on Cora: accuracy and smoothness against the number of layers.

    python scripts/depth_study.py [--depths 1 2 4 8 16 32] [--seeds 0 1 2]

For every depth K and seed, trains a K-layer GCN on Cora's public split, without and with
residual connections (gnncourse.convs.GNN, residual=True), and records the test accuracy
and two smoothness measures of the last hidden layer, before and after training: the
scale-free Dirichlet energy and the mean cosine distance between random node pairs
(gnncourse.convs.dirichlet_energy, mean_cosine_distance). Writes one row per run to
chapters/results/depth_study.csv, which the chapter plots. The chapter repeats a reduced
run (fewer depths, one seed).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from gnncourse.convs import GNN, dirichlet_energy, mean_cosine_distance
from gnncourse.data import load_cora
from gnncourse.experiments.results import write_csv
from gnncourse.train import accuracy, train_node_classifier
from gnncourse.utils import seed_everything

OUT = Path(__file__).resolve().parent.parent / "chapters" / "results" / "depth_study.csv"
# GCN's recipe (Kipf & Welling 2017), wider hidden layers so that depth, not width, is the variable;
# early stopping on the validation loss keeps the runs of deep, untrainable stacks short.
RECIPE = dict(hidden_channels=64, dropout=0.5, lr=0.01, weight_decay=5e-4, epochs=200, patience=50)


@torch.no_grad()
def smoothness(model: GNN, data) -> tuple:
    """(Dirichlet energy, mean cosine distance) of the last hidden layer; NaN for one layer."""
    model.eval()
    layers = model.embeddings(data.x, data.edge_index)
    if len(layers) < 2:
        return math.nan, math.nan
    h = layers[-2]
    return dirichlet_energy(h, data.edge_index), mean_cosine_distance(h)


def run(data, depth: int, residual: bool, seed: int) -> dict:
    seed_everything(seed)
    model = GNN(data.num_features, RECIPE["hidden_channels"], int(data.y.max()) + 1, layer="gcn",
                num_layers=depth, dropout=RECIPE["dropout"], residual=residual)
    energy0, mad0 = smoothness(model, data)
    history = train_node_classifier(model, data, epochs=RECIPE["epochs"], lr=RECIPE["lr"],
                                    weight_decay=RECIPE["weight_decay"], patience=RECIPE["patience"], seed=seed)
    energy, mad = smoothness(model, data)
    with torch.no_grad():
        test_acc = accuracy(model(data.x, data.edge_index), data.y, data.test_mask)
    return dict(layers=depth, residual=residual, seed=seed, epochs=len(history), test_acc=round(test_acc, 4),
                energy_init=round(energy0, 6), mad_init=round(mad0, 6), energy=round(energy, 6), mad=round(mad, 6))


def main(argv=None) -> int:
    from torch_geometric.transforms import NormalizeFeatures

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_cora(transform=NormalizeFeatures())[0]
    rows = []
    for seed in args.seeds:
        for depth in args.depths:
            for residual in (False, True):
                if residual and depth < 3:  # the first hidden layer changes width: no skip before layer 2
                    continue
                start = time.perf_counter()
                rows.append(run(data, depth, residual, seed))
                print(rows[-1], f"{time.perf_counter() - start:.0f} s", flush=True)
                OUT.parent.mkdir(parents=True, exist_ok=True)
                write_csv(rows, OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
