"""The benchmark's protocol pieces: which nodes, which edges, how rows are summarised."""
import pytest
import torch

from gnncourse import explain as E
from gnncourse.explain_benchmark import (METHODS, PROTOCOLS, ground_truth, motif_anchors, motif_nodes,
                                         run_dataset, summarize, undirected_scores)
from gnncourse.synthetic import ba_shapes, tree_cycles


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


def test_summarize_groups_by_protocol_and_reads_old_rows_as_all():
    rows = [dict(dataset="BA-Shapes", seed=s, method="Grad", pooled_auc=a, per_node_auc=a)
            for s, a in [(0, 0.5), (1, 0.7)]]
    rows += [dict(dataset="BA-Shapes", seed=0, protocol="paper", method="Grad", pooled_auc=0.9,
                  per_node_auc=0.8)]
    out = summarize(rows)
    assert [(r["protocol"], r["seeds"]) for r in out] == [("all", 2), ("paper", 1)]
    assert out[0]["pooled_auc_mean"] == pytest.approx(0.6) and out[0]["paper_auc"] == 0.882
