r"""The GNNExplainer benchmark, reproduced: explanation ROC-AUC on the paper's four synthetic
datasets, for every explanation method of :mod:`gnncourse.explain`, over several seeds.

Run it from the repository root::

    python -m gnncourse.explain_benchmark --out chapters/results/explain_benchmark.csv --seeds 5

Two protocols (``--protocol``):

* ``paper``, the original code's (``explain_nodes_gnn_stats`` of the GNNExplainer repository):
  one node per motif, the motif's **anchor** (its first node, the one attached to the base
  graph; on Tree-Grid, for which the original code has no ground truth, each grid's second
  node, as an extension of that code that scores Tree-Grid does); each explanation covers
  every edge between nodes within 3 hops of the explained node (the *induced* neighbourhood,
  so edges that carry no message to it are scored too); each
  undirected edge is scored once, with the sum of its two directions' scores; ground truth =
  the motif's own edges.
* ``all``, stricter: every motif node, on its computation subgraph (only the directed edges
  whose message reaches the node), each directed edge scored.

``--quick`` explains a subset of the nodes with fewer epochs (the chapter's live run).
Each seed regenerates the dataset, retrains both models and reseeds the explainers. One CSV
row per (dataset, seed, protocol, method): pooled and per-node AUC, the models' accuracies,
the time.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import explain as E
from .metrics import explanation_auc
from .synthetic import SYNTHETIC_DATASETS
from .utils import seed_everything

__all__ = [
    "PAPER_AUC",
    "TRAIN_CONFIG",
    "GAT_TRAIN_CONFIG",
    "train_node_model",
    "paper_model",
    "motif_nodes",
    "motif_anchors",
    "paper_nodes",
    "PROTOCOLS",
    "ground_truth",
    "METHODS",
    "run_dataset",
    "summarize",
    "main",
]

#: Explanation AUC reported in the GNNExplainer paper (Ying et al., 2019, Table 1).
PAPER_AUC = {
    "Att": {"BA-Shapes": 0.815, "BA-Community": 0.739, "Tree-Cycles": 0.824, "Tree-Grid": 0.612},
    "Grad": {"BA-Shapes": 0.882, "BA-Community": 0.750, "Tree-Cycles": 0.905, "Tree-Grid": 0.667},
    "GNNExplainer": {"BA-Shapes": 0.925, "BA-Community": 0.836, "Tree-Cycles": 0.948, "Tree-Grid": 0.875},
}

#: Training recipe per dataset (Adam, full batch, gradient clipping 2.0; the paper's model is
#: fixed). BA-Shapes and Tree-Cycles use the paper code's recipe (lr 0.001, weight decay 0.005,
#: 1000 epochs). On BA-Community the model memorises the 8 pure-noise feature dimensions
#: (train 1.00, test 0.89); an L1 penalty on the first layer's weights (``input_l1``) and dropout
#: 0.1 bring it to 0.94. Tree-Grid keeps the recipe that came closest to 0.95 here.
TRAIN_CONFIG = {
    "BA-Shapes": dict(epochs=1000, lr=0.001, weight_decay=5e-3),
    "BA-Community": dict(epochs=1500, lr=0.005, weight_decay=5e-3, input_l1=1e-2, dropout=0.1),
    "Tree-Cycles": dict(epochs=1000, lr=0.001, weight_decay=5e-3),
    "Tree-Grid": dict(epochs=1500, lr=0.01, weight_decay=0.0),
}


#: Training recipe of the GAT-style model behind "Att" (degree-scaled attention, see
#: :class:`~gnncourse.models.GATNodeClassifier`): per dataset the better, on seeds 0-2, of 300
#: epochs at lr 0.01 and the paper model's recipe (without dropout).
GAT_TRAIN_CONFIG = {
    "BA-Shapes": dict(epochs=300, lr=0.01),
    "BA-Community": dict(epochs=1500, lr=0.005, weight_decay=5e-3, input_l1=1e-2),
    "Tree-Cycles": dict(epochs=1000, lr=0.001, weight_decay=5e-3),
    "Tree-Grid": dict(epochs=300, lr=0.01),
}


def train_node_model(model: nn.Module, data, epochs: int = 1000, lr: float = 0.01,
                     weight_decay: float = 0.0, clip: float = 2.0, input_l1: float = 0.0) -> Dict[str, float]:
    """Full-batch training with Adam and gradient clipping (as the paper's code); returns the
    train and test accuracy. The model ends in ``eval`` mode.

    ``input_l1`` adds :math:`\\lambda \\sum |W|` over the first layer's weight matrices to the
    loss, so that input features that carry no signal get zero weight."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    first = [w for n, w in model.convs[0].named_parameters() if n.endswith("weight")] if input_l1 else []
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
        if first:
            loss = loss + input_l1 * sum(w.abs().sum() for w in first)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(data.x, data.edge_index).argmax(-1)
    acc = lambda m: float((pred[m] == data.y[m]).float().mean())  # noqa: E731
    return {"train_acc": acc(data.train_mask), "test_acc": acc(data.test_mask)}


def paper_model(name: str, data, seed: int) -> Tuple[nn.Module, Dict[str, float]]:
    """The paper's model for dataset ``name``, initialised with ``seed`` and trained with
    :data:`TRAIN_CONFIG` (whose ``dropout`` goes to the model); returns it with its accuracies."""
    from .models import GNNExplainerPaperNet

    cfg = dict(TRAIN_CONFIG[name])
    torch.manual_seed(seed)
    model = GNNExplainerPaperNet(data.num_features, int(data.y.max()) + 1, dropout=cfg.pop("dropout", 0.0))
    return model, train_node_model(model, data, **cfg)


def motif_nodes(data) -> Tensor:
    """The nodes to explain: every node inside a motif."""
    return (data.motif_id >= 0).nonzero().flatten()


def motif_anchors(data) -> Tensor:
    """The first node of every motif: the node attached to the base graph (the nodes the
    paper's code explains; see :func:`paper_nodes`)."""
    mid = data.motif_id
    nodes = torch.arange(mid.numel())
    first = torch.full((int(mid.max()) + 1,), mid.numel(), dtype=torch.long)
    first.scatter_reduce_(0, mid[mid >= 0], nodes[mid >= 0], reduce="amin")
    return first


def paper_nodes(data, name: str) -> Tensor:
    """The nodes the paper's code explains: the anchor of every motif, except on Tree-Grid,
    which the original code does not score; an extension of it that does explains each grid's
    second node (``range(512, 1232, 9)``) against the whole grid."""
    return motif_anchors(data) + (1 if name == "Tree-Grid" else 0)


#: protocol -> (nodes to explain given (data, dataset name), induced neighbourhood?, score each
#: undirected edge once?)
PROTOCOLS = {
    "paper": (paper_nodes, True, True),
    "all": (lambda data, name: motif_nodes(data), False, False),
}


def undirected_scores(scores: Tensor, sg: E.ComputationSubgraphs) -> Tuple[Tensor, Tensor]:
    """Score every undirected edge once, as the paper's code does (it reads the upper triangle
    of a symmetric score matrix): returns the positions kept (``u < w`` or no reverse edge)
    and the score of each, the sum of both directions' scores."""
    rev = sg.rev
    keep = (sg.edge_index[0] < sg.edge_index[1]) | (rev < 0)
    total = scores + torch.where(rev >= 0, scores[rev.clamp(min=0)], torch.zeros_like(scores))
    pos = keep.nonzero().flatten()
    return pos, total[pos]


def ground_truth(data, sg: E.ComputationSubgraphs) -> Tensor:
    """``[Eb]`` 1 for the union's edges that belong to the explained node's own motif."""
    own = data.motif_id[sg.node_idx][sg.edge_batch]
    return (data.edge_motif[sg.edge_id] == own) & (own >= 0)


def _gnn_explainer_call(ctx, kw):
    tgt = ctx["y_true"] if kw.pop("explain_true_label", False) else ctx["y_pred"]
    sg = ctx["sg"]
    if kw.pop("paper_code_scaling", False):
        # the paper's code masks all n x n node pairs of the neighbourhood: its entropy term is a
        # mean over n^2 entries (ours is over the edges), and its feature mask starts at 0
        n_b = torch.bincount(sg.node_batch, minlength=sg.num_explanations).float()
        kw["edge_ent"] = kw.get("edge_ent", 1.0) * sg.edge_counts().float() / n_b**2
        kw["init_feat"] = torch.zeros(sg.num_explanations, ctx["x"].size(1))
    if ctx["quick"]:
        kw["epochs"] = max(50, kw.get("epochs", 100) // 2)
        kw["restarts"] = 1
    return E.gnn_explainer(ctx["model"], ctx["x"], sg, tgt, generator=ctx["gen"], **kw).edge_mask


#: GNNExplainer as configured in PyG (lr 0.01, masks start at 0.5, explain the prediction).
GNNEXPLAINER_PYG = dict(epochs=100, lr=0.01)
#: as in the paper's code: lr 0.1, masks start at sigmoid(1), symmetric, Laplacian term, true label.
GNNEXPLAINER_ORIGINAL = dict(epochs=100, lr=0.1, init_mean=1.0, symmetric=True, laplacian=1.0,
                             explain_true_label=True)
#: the paper's code exactly: as above, plus its scaling of the entropy term (a mean over all
#: n^2 node pairs), its feature mask starting at sigmoid(0) and no feature-entropy term.
GNNEXPLAINER_PAPER_CODE = dict(GNNEXPLAINER_ORIGINAL, feat_ent=0.0, paper_code_scaling=True)
#: our fix: start from the full graph (masks at sigmoid(2) = 0.88, where the prediction holds),
#: no entropy term (it pushes every edge to the nearest end, i.e. keeps all), a larger size term.
GNNEXPLAINER_FULLSTART = dict(epochs=200, lr=0.1, init_mean=2.0, init_std=0.1, edge_ent=0.0,
                              edge_size=0.05, symmetric=True)

#: our fix for sum-aggregation models: the model only ever sees binary graphs. Each step samples
#: a subgraph z ~ Bernoulli(M) (an edge is kept both ways if either direction's draw keeps it)
#: and back-propagates through it with the straight-through estimator; the masks start at the
#: full graph; no entropy term (the sampling already drives M to 0 or 1); no feature mask
#: (scaling constant features is, again, an input the model never saw); the original code's
#: Laplacian term; and the mean of 5 restarts, since single runs disagree.
GNNEXPLAINER_BINARY = dict(epochs=300, lr=0.1, init_mean=2.0, init_std=0.1, edge_ent=0.0,
                           edge_size=0.02, laplacian=1.0, symmetric=True, feature_mask=False,
                           hard=True, restarts=5)

#: method name -> function of a context dict returning ``[Eb]`` edge scores.
METHODS: Dict[str, Callable] = {
    "Att": lambda c: E.attention_scores(c["gat"], c["x"], c["edge_index"], c["sg"]),
    "Grad": lambda c: E.saliency(c["model"], c["x"], c["sg"], c["y_pred"]),
    "Integrated gradients": lambda c: E.integrated_gradients(c["model"], c["x"], c["sg"], c["y_pred"],
                                                             steps=10 if c["quick"] else 20),
    "Walk decomposition": lambda c: E.walk_decomposition(c["model"], c["x"], c["sg"], c["y_pred"])[0],
    "Occlusion": lambda c: E.occlusion(c["model"], c["x"], c["sg"], c["y_pred"]),
    "Linear surrogate": lambda c: E.linear_surrogate(c["model"], c["x"], c["sg"], c["y_pred"],
                                                     num_samples=100 if c["quick"] else 200,
                                                     keep_prob=0.8, generator=c["gen"]),
    "Linear surrogate (log-odds)": lambda c: E.linear_surrogate(
        c["model"], c["x"], c["sg"], c["y_pred"], num_samples=100 if c["quick"] else 200, keep_prob=0.8,
        response="log_odds", generator=c["gen"]),
    "GNNExplainer (PyG settings)": lambda c: _gnn_explainer_call(c, dict(GNNEXPLAINER_PYG)),
    "GNNExplainer (original settings)": lambda c: _gnn_explainer_call(c, dict(GNNEXPLAINER_ORIGINAL)),
    "GNNExplainer (paper code)": lambda c: _gnn_explainer_call(c, dict(GNNEXPLAINER_PAPER_CODE)),
    "GNNExplainer (full-graph start)": lambda c: _gnn_explainer_call(c, dict(GNNEXPLAINER_FULLSTART)),
    "GNNExplainer (binary masks)": lambda c: _gnn_explainer_call(c, dict(GNNEXPLAINER_BINARY)),
}


def run_dataset(name: str, seed: int, quick: bool = False, methods: Optional[Sequence[str]] = None,
                max_nodes: Optional[int] = None, protocol: str = "paper",
                log: Callable = print) -> List[dict]:
    """Generate ``name`` with ``seed``, train the paper's model and the GAT, explain the nodes
    of ``protocol`` (see :data:`PROTOCOLS`) with every method; one result row per method."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {list(PROTOCOLS)}")
    unknown = [m for m in methods or [] if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")
    seed_everything(seed)
    data = SYNTHETIC_DATASETS[name](seed=seed)
    n_cls = int(data.y.max()) + 1
    from .models import GATNodeClassifier

    model, acc = paper_model(name, data, seed)
    torch.manual_seed(seed)
    gat = GATNodeClassifier(data.num_features, n_cls, degree_scaled=True)
    gat_acc = train_node_model(gat, data, **GAT_TRAIN_CONFIG[name])
    for p in list(model.parameters()) + list(gat.parameters()):
        p.requires_grad_(False)
    pick, induced, undirected = PROTOCOLS[protocol]
    nodes = pick(data, name)
    if max_nodes is not None and nodes.numel() > max_nodes:  # an evenly spread subset
        nodes = nodes[torch.linspace(0, nodes.numel() - 1, max_nodes).long()]
    sg = E.computation_subgraphs(data.edge_index, nodes, len(model.convs), data.num_nodes, induced=induced)
    gt = ground_truth(data, sg)
    with torch.no_grad():
        y_pred = model(data.x, data.edge_index).argmax(-1)[nodes]
    rows = []
    for method in methods or list(METHODS):
        ctx = dict(model=model, gat=gat, x=data.x, edge_index=data.edge_index, sg=sg, y_pred=y_pred,
                   y_true=data.y[nodes], quick=quick, gen=torch.Generator().manual_seed(seed))
        t0 = time.perf_counter()
        scores = METHODS[method](ctx)
        sec = time.perf_counter() - t0
        if undirected:
            pos, s_und = undirected_scores(scores, sg)
            auc = explanation_auc(s_und, gt[pos], sg.edge_batch[pos])
        else:
            auc = explanation_auc(scores, gt, sg.edge_batch)
        rows.append(dict(dataset=name, seed=seed, protocol=protocol, method=method,
                         pooled_auc=round(auc["pooled"], 4), per_node_auc=round(auc["per_node"], 4),
                         nodes=int(nodes.numel()), train_acc=round(acc["train_acc"], 4),
                         test_acc=round(acc["test_acc"], 4), gat_test_acc=round(gat_acc["test_acc"], 4),
                         seconds=round(sec, 2)))
        log(f"{name:13s} seed {seed} {protocol:5s} {method:34s} pooled {auc['pooled']:.3f} "
            f"per-node {auc['per_node']:.3f} ({sec:.1f}s)")
    return rows


def summarize(rows: List[dict]) -> List[dict]:
    """Mean and standard deviation over seeds per (protocol, method, dataset), beside the
    paper's AUC."""
    out = []
    protocols = list(dict.fromkeys(r["protocol"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    for protocol, method, ds in ((p, m, d) for p in protocols for m in methods for d in datasets):
        sel = [r for r in rows if r["method"] == method and r["dataset"] == ds and r["protocol"] == protocol]
        if not sel:
            continue
        row = dict(protocol=protocol, method=method, dataset=ds, seeds=len(sel))
        for key in ("pooled_auc", "per_node_auc"):
            v = torch.tensor([float(r[key]) for r in sel], dtype=torch.float64)
            row[key + "_mean"] = float(v.mean())
            row[key + "_std"] = float(v.std()) if v.numel() > 1 else 0.0
        paper_key = "GNNExplainer" if method in ("GNNExplainer (original settings)",
                                                 "GNNExplainer (paper code)") else method
        row["paper_auc"] = PAPER_AUC.get(paper_key, {}).get(ds, float("nan"))
        out.append(row)
    return out


def read_csv(path: str) -> List[dict]:
    """Rows of a CSV written by :func:`main`."""
    with open(path) as f:
        return list(csv.DictReader(f))


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="CSV file to write (one row per dataset, seed, method)")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0..seeds-1)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="60 nodes per dataset, fewer epochs")
    parser.add_argument("--datasets", nargs="*", default=list(SYNTHETIC_DATASETS))
    parser.add_argument("--protocol", choices=list(PROTOCOLS), default="paper",
                        help="paper: one node per motif (its anchor; on Tree-Grid its second node), induced "
                             "3-hop neighbourhood, undirected edges (the original code); all: every motif "
                             "node, computation subgraph")
    parser.add_argument("--methods", nargs="*", default=None, metavar="METHOD",
                        help=f"a subset of: {', '.join(METHODS)}")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = parser.parse_args(argv)
    # every argument is checked before the first model trains (a run takes minutes to hours)
    if args.methods:
        unknown = [m for m in args.methods if m not in METHODS]
        if unknown:
            parser.error(f"unknown methods {unknown}; choose from {list(METHODS)}")
    unknown = [d for d in args.datasets if d not in SYNTHETIC_DATASETS]
    if unknown or not args.datasets:
        parser.error(f"unknown or no datasets {unknown}; choose from {list(SYNTHETIC_DATASETS)}")
    if args.seeds < 1 or args.first_seed < 0:
        parser.error(f"--seeds must be at least 1 and --first-seed non-negative, got {args.seeds} and {args.first_seed}")
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        parser.error(f"{out} exists; pass --overwrite to replace it, or choose another --out "
                     f"(results files are never replaced silently)")
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
        parser.error(f"cannot write {out}: the folder {out.parent} does not exist or is not writable")
    torch.set_num_threads(1)
    rows: List[dict] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name in args.datasets:
            rows += run_dataset(name, seed, quick=args.quick, max_nodes=60 if args.quick else None,
                                methods=args.methods, protocol=args.protocol,
                                log=lambda s: print(s, flush=True))
            # rewrite after every dataset, so partial results survive; atomically, so a kill
            # mid-write never leaves a truncated file
            tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            os.replace(tmp, out)
    for r in summarize(rows):
        print(f"{r['method']:34s} {r['dataset']:13s} pooled {r['pooled_auc_mean']:.3f} ± {r['pooled_auc_std']:.3f}  "
              f"per-node {r['per_node_auc_mean']:.3f} ± {r['per_node_auc_std']:.3f}  paper {r['paper_auc']:.3f}")
    return rows


if __name__ == "__main__":
    main()
