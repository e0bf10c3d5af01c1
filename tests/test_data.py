import os
import socket
import stat

import pytest

from gnncourse import data
from gnncourse.data import DatasetError


def test_data_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.data_root() == tmp_path.resolve()
    monkeypatch.delenv(data.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "gnncourse" / "data"


def test_mutag_loads_from_verified_copy(mutag_root):
    ds = data.load_mutag()
    assert len(ds) == 188 and ds.num_classes == 2
    assert ds.num_node_features == len(data.MUTAG_ATOMS) == 7
    assert (mutag_root / "TUDataset" / "MUTAG" / "processed").exists()


def test_tampered_file_is_refused(mutag_root):
    target = mutag_root / "TUDataset" / "MUTAG" / "raw" / "MUTAG_graph_labels.txt"
    text = target.read_text()
    target.write_text(text.replace("-1", "1", 1))  # flip one label
    with pytest.raises(DatasetError) as err:
        data.load_mutag()
    msg = str(err.value)
    assert "MUTAG" in msg and str(target) in msg and "corrupt" in msg


def test_truncated_file_is_refused(mutag_root):
    target = mutag_root / "TUDataset" / "MUTAG" / "raw" / "MUTAG_A.txt"
    target.write_bytes(target.read_bytes()[:1000])  # as after an interrupted copy
    with pytest.raises(DatasetError, match="MUTAG_A.txt"):
        data.load_mutag()


def test_missing_dataset_without_network_says_what_to_do(fresh_root, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(DatasetError) as err:
        data.load_cora()
    msg = str(err.value)
    assert "Cora" in msg and str(fresh_root) in msg and data.ENV_VAR in msg
    # nothing half-written is left behind to be trusted later, not even an empty folder
    assert list(fresh_root.iterdir()) == []


def test_interrupted_download_leaves_no_trusted_file(fresh_root, monkeypatch):
    """A download that dies halfway leaves only its private temporary folder, then nothing."""
    from torch_geometric.datasets import Planetoid

    def dies_halfway(self):
        os.makedirs(self.raw_dir, exist_ok=True)
        with open(os.path.join(self.raw_dir, "ind.cora.x"), "wb") as f:
            f.write(b"partial")
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(Planetoid, "download", dies_halfway)
    with pytest.raises(DatasetError, match="could not be downloaded"):
        data.load_cora()
    assert list(fresh_root.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_root_is_reported(fresh_root):
    fresh_root.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(DatasetError, match="cannot write"):
            data.load_cora()
    finally:
        fresh_root.chmod(stat.S_IRWXU)


def test_read_only_root_is_reported_even_as_root(fresh_root, monkeypatch):
    """Simulate a read-only file system (root ignores permission bits)."""
    import tempfile

    def read_only(*args, **kwargs):
        raise PermissionError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)
    with pytest.raises(DatasetError) as err:
        data.load_cora()
    assert "Cora" in str(err.value) and "writable" in str(err.value)


def test_existing_files_are_never_overwritten(mutag_root):
    raw = mutag_root / "TUDataset" / "MUTAG" / "raw"
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    data.load_mutag()
    data.load_mutag()
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="Cora"):
        data.load_planetoid("PubMed")
    with pytest.raises(ValueError, match="MUTAG"):
        data.load_tu("PROTEINS")


def test_karate_club():
    g = data.load_karate_club()[0]
    assert g.num_nodes == 34 and g.num_edges == 156
    assert int(g.y.max()) + 1 == 4


def test_checksum_table_matches_mirror_format():
    for key, digest in data.SHA256.items():
        assert len(digest) == 64 and int(digest, 16) >= 0
        group, name, raw, fname = key.split("/")
        assert raw == "raw" and group in {"Planetoid", "TUDataset"}
    assert data.OPTIONAL <= set(data.SHA256)


def test_mutagenicity_ground_truth_is_aligned(tmp_path):
    """edge_gt survives PyG's edge sorting: it marks exactly the N-O and N-H bonds of NO2/NH2."""
    ds = data.load_mutagenicity(ground_truth=True)
    atoms = data.MUTAGENICITY_ATOMS
    n_gt = 0
    for g in ds[:300]:
        assert g.edge_gt.shape == (g.num_edges,) and g.edge_attr.size(1) == 3
        z = g.x.argmax(1)
        for (u, v), gt in zip(g.edge_index.t().tolist(), g.edge_gt.tolist()):
            if gt:
                n_gt += 1
                pair = {atoms[z[u]], atoms[z[v]]}
                assert pair in ({"N", "O"}, {"N", "H"}), pair
    assert n_gt > 0


def _processed(root):
    return root / "TUDataset" / "MUTAG" / "processed"


def test_truncated_processed_file_is_rebuilt_with_one_message(mutag_root, capsys):
    """A damaged processed/data.pt used to break the dataset for good (raw torch errors)."""
    data.load_mutag()
    target = _processed(mutag_root) / "data.pt"
    target.write_bytes(target.read_bytes()[:1000])
    capsys.readouterr()
    ds = data.load_mutag()
    assert len(ds) == 188
    err = capsys.readouterr().err
    assert err.count("gnncourse: rebuilding") == 1 and "fingerprint" in err
    data.load_mutag()                                   # healed: no message the next time
    assert "rebuilding" not in capsys.readouterr().err


def test_unreadable_processed_file_without_fingerprint_is_rebuilt(mutag_root, capsys):
    data.load_mutag()
    processed = _processed(mutag_root)
    (processed / data.FINGERPRINT).unlink()
    (processed / "data.pt").write_bytes(b"\\x00" * 50)     # random bytes, no fingerprint to compare
    assert len(data.load_mutag()) == 188
    assert "rebuilding" in capsys.readouterr().err


def test_processed_files_of_another_dataset_are_not_served(planetoid_raw, fresh_root, capsys):
    """Copying CiteSeer's processed/data.pt over Cora's used to return CiteSeer silently."""
    import shutil
    for name in ("Cora", "CiteSeer"):
        shutil.copytree(planetoid_raw / name / "raw", fresh_root / "Planetoid" / name / "raw")
    data.load_citeseer()
    data.load_cora()
    shutil.copy(fresh_root / "Planetoid/CiteSeer/processed/data.pt", fresh_root / "Planetoid/Cora/processed/data.pt")
    capsys.readouterr()
    cora = data.load_cora()[0]
    assert (cora.num_nodes, cora.num_features) == (2708, 1433)
    assert "does not match its fingerprint" in capsys.readouterr().err


def test_concurrent_loads_into_an_empty_cache_all_succeed(mutag_root):
    """4 processes loading into an empty processed/ used to fail in 2 of 4 (a race in PyG)."""
    import subprocess
    import sys
    code = "from gnncourse import data; print(len(data.load_mutag()))"
    env = {**os.environ, data.ENV_VAR: str(mutag_root)}
    for _ in range(2):
        shutil_rmtree = __import__("shutil").rmtree
        shutil_rmtree(_processed(mutag_root), ignore_errors=True)
        procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, [e[-500:] for _, e in outs]
        assert all(o.strip() == "188" for o, _ in outs)


def test_a_mistyped_data_root_leaves_no_folder_tree(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    typo = tmp_path / "dtaa"
    monkeypatch.setenv(data.ENV_VAR, str(typo))
    with pytest.raises(DatasetError):
        data.load_cora()
    assert not typo.exists()
