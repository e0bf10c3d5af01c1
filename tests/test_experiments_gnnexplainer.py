"""The GNNExplainer study's pieces: which nodes, which edges, its recipes and methods, how rows
are summarised, its command line."""
from dataclasses import replace

import pytest
import torch

from gnncourse import explain as E
from gnncourse.experiments import gnnexplainer as G
from gnncourse.experiments.gnnexplainer import (DATASETS, METHODS, PAPER_AUC, PROTOCOLS, TrainRecipe, ground_truth,
                                                main, motif_anchors, motif_nodes, paper_model, paper_nodes,
                                                run_dataset, summarize, train_node_model, undirected_scores)
from gnncourse.models import GNNExplainerOriginalNet, GNNExplainerPaperNet
from gnncourse.synthetic import ba_community, ba_shapes, tree_cycles, tree_grid


def test_anchors_are_the_motif_nodes_attached_to_the_base():
    d = tree_cycles(seed=1)
    anchors = motif_anchors(d)
    assert anchors.numel() == 60
    assert torch.equal(d.motif_id[anchors], torch.arange(60))
    # the paper's code explains range(511, 871, 6): the first node of each cycle
    assert anchors.tolist() == list(range(511, 871, 6))
    # each anchor has exactly one neighbour outside its motif that is a base node
    src, dst = d.edge_index
    for a in anchors.tolist():
        nb = dst[src == a]
        assert int((d.motif_id[nb] == -1).sum()) >= 1
    assert set(anchors.tolist()) <= set(motif_nodes(d).tolist())


def test_paper_nodes_on_tree_grid_are_each_grids_second_node_and_see_the_whole_grid():
    d = tree_grid(seed=0)
    nodes = paper_nodes(d, "Tree-Grid")
    # the code that scores Tree-Grid explains range(512, 1232, 9)
    assert nodes.tolist() == list(range(512, 1232, 9))
    assert torch.equal(d.motif_id[nodes], torch.arange(80))
    assert torch.equal(paper_nodes(d, "Tree-Cycles"), motif_anchors(d))  # elsewhere: the anchors
    # the ground truth is the grid: all 12 of its edges lie within 3 hops of the second node
    sg = E.computation_subgraphs(d.edge_index, nodes[:4], 3, d.num_nodes, induced=True)
    pos, _ = undirected_scores(torch.zeros(sg.edge_index.size(1)), sg)
    gt = ground_truth(d, sg)
    assert torch.equal(torch.bincount(sg.edge_batch[pos][gt[pos]], minlength=4), torch.full((4,), 12))


def test_input_l1_shrinks_the_first_layer_only_when_asked():
    d = ba_community(seed=0)
    norms = []
    for lam in (0.0, 0.05):
        torch.manual_seed(0)
        m = GNNExplainerPaperNet(d.num_features, 8)
        history = train_node_model(m, d, TrainRecipe(epochs=30, lr=0.01, input_l1=lam))
        assert len(history["loss"]) == 30
        norms.append(sum(float(w.detach().abs().sum()) for n, w in m.convs[0].named_parameters() if n.endswith("weight")))
    assert norms[1] < 0.7 * norms[0]


def test_paper_model_takes_dropout_from_the_recipe():
    ds = replace(DATASETS["BA-Community"], model_recipe=TrainRecipe(epochs=2, lr=0.01, input_l1=1e-2, dropout=0.1))
    d = ba_community(seed=0)
    model, acc = paper_model(ds, d, seed=0)
    assert model.dropout == 0.1 and not model.training and set(acc) == {"train_acc", "test_acc"}


def test_paper_protocol_scores_each_undirected_edge_once_with_both_directions():
    d = ba_shapes(seed=0)
    nodes = motif_anchors(d)[:3]
    sg = E.computation_subgraphs(d.edge_index, nodes, 3, d.num_nodes, induced=True)
    scores = torch.rand(sg.edge_index.size(1), generator=torch.Generator().manual_seed(0))
    pos, s = undirected_scores(scores, sg)
    assert pos.numel() * 2 == sg.edge_index.size(1)  # induced: every edge has its reverse
    assert torch.allclose(s, scores[pos] + scores[sg.rev[pos]])
    # each house contributes its 6 edges once
    gt = ground_truth(d, sg)
    assert torch.equal(torch.bincount(sg.edge_batch[pos][gt[pos]], minlength=3), torch.tensor([6, 6, 6]))


def test_run_dataset_rejects_unknown_protocol_and_method():
    with pytest.raises(ValueError, match="protocol"):
        run_dataset("Tree-Cycles", 0, protocol="original")
    with pytest.raises(ValueError, match="unknown methods"):
        run_dataset("Tree-Cycles", 0, methods=["GNNExplainer"])
    assert set(PROTOCOLS) == {"paper", "all"} and "GNNExplainer (binary masks)" in METHODS


def test_summarize_groups_by_protocol():
    rows = [dict(dataset="BA-Shapes", seed=s, protocol="all", method="Grad", pooled_auc=a, per_node_auc=a)
            for s, a in [(0, 0.5), (1, 0.7)]]
    rows += [dict(dataset="BA-Shapes", seed=0, protocol="paper", method="Grad", pooled_auc=0.9,
                  per_node_auc=0.8)]
    out = summarize(rows)
    assert [(r["protocol"], r["seeds"]) for r in out] == [("all", 2), ("paper", 1)]
    assert out[0]["pooled_auc_mean"] == pytest.approx(0.6) and out[0]["paper_auc"] == 0.882
    assert out[1]["per_node_auc_mean"] == pytest.approx(0.8) and out[1]["pooled_auc_std"] == 0.0


@pytest.mark.parametrize("args, match", [
    (["--datasets", "Foo"], "unknown or no datasets"),
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--out", "/nonexistent-folder/x.csv"], "does not exist or is not writable"),
    (["--jobs", "0"], "--jobs must be between 1"),
])
def test_cli_checks_its_arguments_before_computing(tmp_path, args, match, capsys):
    argv = ["--out", str(tmp_path / "r.csv")] + args
    with pytest.raises(SystemExit):
        main(argv)
    assert match in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_cli_never_overwrites_results_silently(tmp_path, capsys):
    out = tmp_path / "results.csv"
    out.write_text("method,dataset\nkept,yes\n")
    with pytest.raises(SystemExit):
        main(["--out", str(out), "--datasets", "BA-Shapes"])
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_text() == "method,dataset\nkept,yes\n"


def test_cli_jobs_side_by_side_write_the_rows_of_one_job(tmp_path):
    """``--jobs 2`` runs (dataset, seed) pairs in two processes: same rows, same order, as one."""
    common = ["--quick", "--model", "original", "--datasets", "Tree-Cycles", "Tree-Grid", "--seeds", "2",
              "--methods", "Grad", "PGExplainer"]
    one = main(common + ["--out", str(tmp_path / "one.csv")])
    two = main(common + ["--out", str(tmp_path / "two.csv"), "--jobs", "2"])
    drop = lambda rows: [{k: str(v) for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731 (nan != nan)
    assert len(one) == 8 and drop(one) == drop(two)
    assert [(r["dataset"], r["seed"]) for r in two][::2] == [("Tree-Cycles", 0), ("Tree-Grid", 0),
                                                            ("Tree-Cycles", 1), ("Tree-Grid", 1)]


def test_every_method_names_a_registered_explainer_and_a_known_paper_row():
    for m in METHODS.values():
        assert m.explainer in E.EXPLAINERS, m.label
        assert m.model in ("paper", "gat") and m.target in ("prediction", "label")
        assert m.paper_row is None or m.paper_row in G.PUBLISHED_AUC
    # the paper's GNNExplainer figure goes to the two rows that run the paper's settings
    assert sorted(m.label for m in METHODS.values() if m.paper_row == "GNNExplainer") == [
        "GNNExplainer (original settings)", "GNNExplainer (paper code)"]


def test_recipes_say_why_and_datasets_match_the_generators():
    from gnncourse.synthetic import SYNTHETIC_DATASETS
    assert list(DATASETS) == list(SYNTHETIC_DATASETS)
    for ds in DATASETS.values():
        assert ds.model_recipe.why and ds.gat_recipe.why, ds.name
        assert set(ds.paper_auc) == {"Att", "Grad", "GNNExplainer"}
    with pytest.raises(ValueError, match="unknown dataset"):
        paper_nodes(tree_grid(seed=0), "Tree-Grd")


def test_paper_code_scaling_divides_the_entropy_by_node_pairs():
    d = ba_shapes(seed=0)
    sg = E.computation_subgraphs(d.edge_index, motif_anchors(d)[:2], 3, d.num_nodes, induced=True)
    opts = G.apply_paper_code_scaling(dict(config=G.GNNEXPLAINER_PAPER_CODE), sg, d.num_features)
    n = torch.bincount(sg.node_batch).float()
    assert torch.allclose(opts["config"].edge_ent, sg.edge_counts().float() / n**2)
    assert torch.equal(opts["init_feat"], torch.zeros(2, d.num_features))


def test_published_rows_keep_the_gnnexplainer_table_and_add_pgexplainer():
    assert set(PAPER_AUC) == {"Att", "Grad", "GNNExplainer"}  # chapter 6 iterates this table
    assert G.PGEXPLAINER_AUC == {"BA-Shapes": 0.963, "BA-Community": 0.945, "Tree-Cycles": 0.987, "Tree-Grid": 0.907}
    assert G.PUBLISHED_AUC["PGExplainer"] is G.PGEXPLAINER_AUC
    rows = [dict(dataset="Tree-Grid", seed=0, protocol="paper", method="PGExplainer", pooled_auc=0.8, per_node_auc=0.7)]
    assert summarize(rows)[0]["paper_auc"] == 0.907


def test_original_model_is_the_paper_codes_and_trains_with_its_recipe():
    ds = replace(DATASETS["Tree-Cycles"], original_recipe=TrainRecipe(epochs=3, lr=0.01, why="a test"))
    d = tree_cycles(seed=0)
    model, acc = G.original_model(ds, d, seed=0)
    assert isinstance(model, GNNExplainerOriginalNet) and not model.training and set(acc) == {"train_acc", "test_acc"}
    assert G.MODELS == {"paper": paper_model, "original": G.original_model}
    for d_ in DATASETS.values():  # the default recipe is the code's configs.py
        assert (d_.original_recipe or G.CODE_RECIPE).why
    assert (G.CODE_RECIPE.epochs, G.CODE_RECIPE.lr, G.CODE_RECIPE.weight_decay, G.CODE_RECIPE.clip) == (
        1000, 0.001, 5e-3, 2.0)
    with pytest.raises(ValueError, match="unknown model"):
        run_dataset("Tree-Cycles", 0, model="gcn")


def test_pg_training_nodes_are_unseen_training_motif_nodes():
    d = ba_shapes(seed=0)
    explained = motif_anchors(d)
    train = G.pg_training_nodes(d, explained, max_nodes=50)
    assert train.numel() == 50 and not torch.isin(train, explained).any()
    assert d.train_mask[train].all() and (d.motif_id[train] >= 0).all()


def test_run_dataset_trains_only_the_models_its_methods_need(monkeypatch):
    """A PGExplainer row on the original model, quick: no GAT is trained (its accuracy is nan),
    and the row names the model."""
    monkeypatch.setattr(G, "CODE_RECIPE", TrainRecipe(epochs=5, lr=0.01, why="a test"))
    monkeypatch.setitem(G.METHODS, "PGExplainer (unseen nodes)",
                        replace(METHODS["PGExplainer (unseen nodes)"],
                                options=dict(config=E.PGExplainerConfig(epochs=2, embedding="concat"))))
    rows = run_dataset("Tree-Cycles", 0, methods=["PGExplainer (unseen nodes)"], max_nodes=6, model="original",
                       log=lambda s: None)
    assert len(rows) == 1 and rows[0]["model"] == "original" and rows[0]["nodes"] == 6
    assert rows[0]["gat_test_acc"] != rows[0]["gat_test_acc"]  # nan: no GAT was needed
    assert 0.0 <= rows[0]["pooled_auc"] <= 1.0


def test_uniform_mask_response_separates_summing_from_normalising_models():
    """A soft mask c * 1 rescales every message: the summing model's probabilities move, the
    normalising model's do not when its biases are zero."""
    d = tree_cycles(seed=0)
    nodes = motif_anchors(d)[:5]
    torch.manual_seed(0)
    summing = GNNExplainerPaperNet(d.num_features, 2).eval()
    normalising = GNNExplainerOriginalNet(d.num_features, 2).eval()  # biases start at 0
    r_sum = G.uniform_mask_response(summing, d, nodes, [1.0, 0.5])
    r_norm = G.uniform_mask_response(normalising, d, nodes, [1.0, 0.5, 0.1])
    assert r_norm[0.5] == pytest.approx(r_norm[1.0], abs=1e-5) and r_norm[0.1] == pytest.approx(r_norm[1.0], abs=1e-5)
    assert abs(r_sum[0.5] - r_sum[1.0]) > 1e-3
    assert r_norm[1.0] >= 0.5 - 1e-6  # its own prediction: the most probable class of 2
