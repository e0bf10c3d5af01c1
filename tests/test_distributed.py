"""Data-parallel training (gnncourse.distributed): sharding, the all-reduce equivalence, and
two real processes under torchrun (gloo, 127.0.0.1) against one process."""
import pytest
import torch
from torch_geometric.data import Data

from gnncourse.distributed import (DDPConfig, build_model, global_batches, launch, merge_subgraphs,
                                   rank_batches, shard_generator, shard_seeds, train_data_parallel)
from gnncourse.sampling import in_csr, sample_neighbors
from gnncourse.train import seed_node_classification_step


def toy_graph(n: int = 240, classes: int = 3, features: int = 16, seed: int = 0) -> Data:
    """A small homophilous graph: features carry a class signal, most edges stay in a class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(n, features, generator=g)
    x[torch.arange(n), y] += 2.0
    src = torch.randint(0, n, (6 * n,), generator=g)
    # each source links to a random node of its own class (80%) or any node (20%);
    # the nodes of class c are c, c + classes, c + 2 * classes, ...
    dst_same = y[src] + classes * torch.randint(0, n // classes, (6 * n,), generator=g)
    dst_any = torch.randint(0, n, (6 * n,), generator=g)
    dst = torch.where(torch.rand(6 * n, generator=g) < 0.8, dst_same, dst_any)
    keep = src != dst
    edge_index = torch.stack([torch.cat([src[keep], dst[keep]]), torch.cat([dst[keep], src[keep]])])
    train_mask = torch.zeros(n, dtype=torch.bool)
    train_mask[: 2 * n // 3] = True
    return Data(x=x, edge_index=edge_index, y=y, train_mask=train_mask, test_mask=~train_mask)


@pytest.fixture(scope="module")
def graph() -> Data:
    return toy_graph()


def test_config_refuses_unequal_shards_and_unknown_optimizer():
    with pytest.raises(ValueError, match="multiple of shards"):
        DDPConfig(batch_size=10, shards=3)
    with pytest.raises(ValueError, match="optimizer"):
        DDPConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="positive int"):
        DDPConfig(epochs=0)


def test_global_batches_are_full_disjoint_and_reproducible(graph):
    nodes = graph.train_mask.nonzero().flatten()
    a = global_batches(nodes, 32, seed=0, epoch=1)
    assert len(a) == nodes.numel() // 32 and all(b.numel() == 32 for b in a)
    flat = torch.cat(a)
    assert flat.unique().numel() == flat.numel() and torch.isin(flat, nodes).all()
    assert all(torch.equal(x, y) for x, y in zip(a, global_batches(nodes, 32, seed=0, epoch=1)))
    assert not torch.equal(a[0], global_batches(nodes, 32, seed=0, epoch=2)[0])
    with pytest.raises(ValueError, match="at least batch_size"):
        global_batches(nodes[:5], 32, seed=0, epoch=1)


def test_shards_and_their_generators():
    seeds = torch.arange(12)
    assert [s.tolist() for s in shard_seeds(seeds, 3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    with pytest.raises(ValueError, match="equal shards"):
        shard_seeds(seeds, 5)
    draw = lambda *k: torch.rand(3, generator=shard_generator(*k))  # noqa: E731
    assert torch.equal(draw(0, 1, 2, 3), draw(0, 1, 2, 3))
    assert not torch.equal(draw(0, 1, 2, 3), draw(0, 1, 2, 4))
    assert not torch.equal(draw(0, 1, 2, 3), draw(0, 1, 3, 3))


def test_merged_subgraphs_give_each_seed_its_own_output(graph):
    rowptr, col = in_csr(graph.edge_index, graph.num_nodes)
    model = build_model(graph, DDPConfig()).eval()
    # overlapping seed sets: shared nodes must still be sampled independently per subgraph
    subs = [sample_neighbors(rowptr, col, s, [4, 3], generator=torch.Generator().manual_seed(i))
            for i, s in enumerate([torch.tensor([0, 1, 2]), torch.tensor([2, 3, 4, 5])])]
    nodes, edge_index, num_seeds = merge_subgraphs(subs)
    assert num_seeds == 7 and nodes[:7].tolist() == [0, 1, 2, 2, 3, 4, 5]  # seeds first
    assert nodes.numel() == sum(s.num_nodes for s in subs)
    # the same edges, in global ids, as the two subgraphs together
    merged_edges = sorted(map(tuple, nodes[edge_index].t().tolist()))
    own_edges = sorted(e for s in subs for e in map(tuple, s.global_edge_index().t().tolist()))
    assert merged_edges == own_edges
    merged = model(graph.x[nodes], edge_index)[:num_seeds]
    alone = torch.cat([model(graph.x[s.nodes], s.edge_index)[: s.num_seeds] for s in subs])
    assert torch.allclose(merged, alone, atol=1e-6)


def test_ranks_split_the_global_batch_of_one_process(graph):
    cfg = DDPConfig(batch_size=40, shards=4, epochs=1)
    rowptr, col = in_csr(graph.edge_index, graph.num_nodes)
    model = build_model(graph, cfg).eval()
    whole = list(rank_batches(graph, rowptr, col, cfg, epoch=1))
    parts = [list(rank_batches(graph, rowptr, col, cfg, epoch=1, rank=r, world_size=2)) for r in range(2)]
    assert len(whole) == len(parts[0]) == len(parts[1]) == 160 // 40
    for step, batch in enumerate(whole):
        both = [parts[0][step], parts[1][step]]
        assert batch.batch_size == 40 and all(b.batch_size == 20 for b in both)
        # one process holds exactly the two processes' seeds and subgraphs, in rank order
        assert torch.equal(batch.n_id[:40], torch.cat([b.n_id[:20] for b in both]))
        assert batch.num_nodes == sum(b.num_nodes for b in both)
        assert torch.allclose(model(batch.x, batch.edge_index)[:40],
                              torch.cat([model(b.x, b.edge_index)[:20] for b in both]), atol=1e-6)
    with pytest.raises(ValueError, match="multiple of the number of processes"):
        next(rank_batches(graph, rowptr, col, cfg, epoch=1, rank=0, world_size=3))


def test_average_of_process_gradients_is_the_global_batch_gradient(graph):
    """What DDP's all-reduce computes equals the gradient of one process on the global batch."""
    cfg = DDPConfig(batch_size=60, shards=2, epochs=1)
    rowptr, col = in_csr(graph.edge_index, graph.num_nodes)
    model = build_model(graph, cfg)

    def grads(batch):
        model.zero_grad()
        seed_node_classification_step(model, batch).backward()
        return [p.grad.clone() for p in model.parameters()]

    whole = grads(next(rank_batches(graph, rowptr, col, cfg, epoch=1)))
    per_rank = [grads(next(rank_batches(graph, rowptr, col, cfg, epoch=1, rank=r, world_size=2))) for r in range(2)]
    for g, g0, g1 in zip(whole, *per_rank):
        assert torch.allclose(g, (g0 + g1) / 2, atol=1e-6)
        assert not torch.allclose(g, g0 + g1, atol=1e-6) or g.abs().max() == 0  # an average, not a sum


def test_two_processes_under_torchrun_equal_one_process(graph, tmp_path):
    # plain SGD: its update scales with the gradient, so a sum instead of an average would show
    cfg = DDPConfig(batch_size=40, shards=2, fanouts=(5, 3), hidden_channels=16, epochs=3, optimizer="sgd", lr=0.5)
    path = tmp_path / "toy.pt"
    torch.save(graph, path)
    one = train_data_parallel(graph, cfg)
    two = launch(2, cfg, data=str(path), timeout=300)
    assert two["world_size"] == 2 and two["steps"] == one.steps == 3 * (160 // 40)
    start = build_model(graph, cfg).state_dict()
    for name, p1 in one.model.state_dict().items():
        p2 = two["model"].state_dict()[name]
        assert torch.allclose(p1, p2, atol=1e-5, rtol=1e-4), f"{name}: max diff {(p1 - p2).abs().max():.2e}"
        assert not torch.allclose(p1, start[name]), f"{name} did not train"
    assert one.losses[-1] < one.losses[0]


def test_bad_calls_say_what_to_do(graph, tmp_path):
    from gnncourse.distributed import load_graph

    with pytest.raises(ValueError, match="cora"):
        load_graph(str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="positive int"):
        launch(0)
    with pytest.raises(ValueError, match="init_process_group"):
        train_data_parallel(graph, DDPConfig(batch_size=40), rank=0, world_size=2)
    with pytest.raises(ValueError, match="rank must lie"):
        train_data_parallel(graph, DDPConfig(batch_size=40), rank=2, world_size=2)


def test_cli_checks_the_output_folder_before_training(capsys):
    from gnncourse.distributed import main
    with pytest.raises(SystemExit):
        main(["--data", "cora", "--out", "/nonexistent-folder/result.pt"])
    assert "does not exist or is not writable" in capsys.readouterr().err


def test_a_silent_command_is_stopped_at_its_timeout():
    import subprocess
    import sys
    import time

    from gnncourse.distributed import run_forwarding
    # the old loop only looked at the clock when the child printed: a silent child ran forever
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not finish within 1 s"):
        run_forwarding([sys.executable, "-c", "import time; time.sleep(60)"], {}, timeout=1)
    assert time.monotonic() - started < 10
    code, tail = run_forwarding([sys.executable, "-c", "print('hello'); raise SystemExit(3)"], {}, timeout=30)
    assert code == 3 and "hello" in tail
    assert subprocess.run(["pgrep", "-f", "time.sleep(60)"], capture_output=True).returncode == 1  # no orphan
