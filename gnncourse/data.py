"""Loading the book's real datasets safely, offline or online.

Every loader returns PyG's own dataset object (``Planetoid``, ``TUDataset``, ...), so the
rest of the book works with ``data.x``, ``data.edge_index``, ``data.y`` and the masks.

Where the files live
    The data root is ``$GNNCOURSE_DATA`` if set, else ``~/.cache/gnncourse/data``. Under it
    the layout is PyG's own: ``Planetoid/Cora/raw/ind.cora.x``,
    ``TUDataset/MUTAG/raw/MUTAG_A.txt``, ... A folder in that layout (such as the course's
    offline mirror) works as a data root as it is.

What is checked
    Before PyG reads a raw file, its SHA-256 is compared with the value published for the
    dataset. A missing dataset is downloaded by PyG into a temporary folder beside its final
    place and moved there only once complete and verified, so an interrupted download is
    never trusted later. Every failure raises :class:`DatasetError`, which names the
    dataset, the path and what to do.

The processed cache heals itself
    PyG turns the raw files into ``processed/`` files once. Beside them this module writes
    a fingerprint: the dataset's name, its raw files' published hashes, the PyG version and
    the hashes of the processed files themselves. A processed folder that is missing its
    fingerprint, does not match it (stale, swapped with another dataset's, truncated) or
    cannot be read is rebuilt from the verified raw files, with one line on stderr saying
    so; only if the rebuild fails too is there a :class:`DatasetError`. A file lock per
    dataset makes loads from several processes at once safe.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional

import torch_geometric
from filelock import FileLock
from torch_geometric.datasets import KarateClub, Planetoid, TUDataset

__all__ = [
    "DatasetError",
    "data_root",
    "verify_raw_files",
    "load_karate_club",
    "load_planetoid",
    "load_cora",
    "load_citeseer",
    "load_tu",
    "load_mutag",
    "load_mutagenicity",
    "MUTAG_ATOMS",
    "MUTAG_VALENCY",
    "MUTAGENICITY_ATOMS",
]

ENV_VAR = "GNNCOURSE_DATA"

# SHA-256 of the raw files, as published with the datasets (the files PyG downloads).
# Files marked optional are extras that not every source ships; they are checked when present.
SHA256: Dict[str, str] = {
    "Planetoid/Cora/raw/ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "Planetoid/Cora/raw/ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "Planetoid/Cora/raw/ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "Planetoid/Cora/raw/ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "Planetoid/Cora/raw/ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "Planetoid/Cora/raw/ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "Planetoid/Cora/raw/ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "Planetoid/Cora/raw/ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    "Planetoid/CiteSeer/raw/ind.citeseer.allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    "Planetoid/CiteSeer/raw/ind.citeseer.ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    "Planetoid/CiteSeer/raw/ind.citeseer.graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    "Planetoid/CiteSeer/raw/ind.citeseer.test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    "Planetoid/CiteSeer/raw/ind.citeseer.tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    "Planetoid/CiteSeer/raw/ind.citeseer.ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    "Planetoid/CiteSeer/raw/ind.citeseer.x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    "Planetoid/CiteSeer/raw/ind.citeseer.y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    "TUDataset/MUTAG/raw/MUTAG_A.txt": "d9656ca7493f3445d737c711710bb36fd432dddd1c0ea32e1d4713c86ebd28e2",
    "TUDataset/MUTAG/raw/MUTAG_edge_labels.txt": "4669ce755075ff86c3240709345745886400908fa637a49310459b9c267b3e56",
    "TUDataset/MUTAG/raw/MUTAG_graph_indicator.txt": "7d520a4d6c7961c0cdeabe076d8fe27e795b6d373485c9a2b744987e560a2056",
    "TUDataset/MUTAG/raw/MUTAG_graph_labels.txt": "a1518ea39ba3426bd42f57396b9c4baffe68e9adc718caeeab0119c6591a5f2c",
    "TUDataset/MUTAG/raw/MUTAG_node_labels.txt": "678f429965490e84dd27713017538c995fc05d1621beac910848b600015ee863",
    "TUDataset/MUTAG/raw/README.txt": "66de65e4826e112482ec680bbbdf7c0af56d826ce935c110786d130b79b76b06",
    "TUDataset/Mutagenicity/raw/Mutagenicity_A.txt": "ae85e22b4b898ebd819d2ed3adc8f06a7bf1cda746b333086472d19b36711145",
    "TUDataset/Mutagenicity/raw/Mutagenicity_edge_gt.txt": "d520a35eb480a94a36ff257d9a653d9bcd1fb8adae7698bfe72cc2c101cbce01",
    "TUDataset/Mutagenicity/raw/Mutagenicity_edge_labels.txt": "bf8e783386ac22e6033bbce56d765c0a4336649bd590a6f1e467b27b549f2114",
    "TUDataset/Mutagenicity/raw/Mutagenicity_graph_indicator.txt": "88b2d83ff10fad75b3280654061e965976f74e75620058c371ed23567236b4bc",
    "TUDataset/Mutagenicity/raw/Mutagenicity_graph_labels.txt": "b604c7dcbfdf89193901e32abdcbf9b5b92137414ce22231f00ed65d48ec48f9",
    "TUDataset/Mutagenicity/raw/Mutagenicity_label_readme.txt": "c541748300783c98d53c2bb473faaa38b66f9c0ed6d520e0233672635e173f01",
    "TUDataset/Mutagenicity/raw/Mutagenicity_node_labels.txt": "b429ec418c831d02dc3088b2fe08d11214627850d2bbdacfa9797c0510e70ae7",
}
OPTIONAL = {
    "TUDataset/MUTAG/raw/README.txt",
    "TUDataset/Mutagenicity/raw/Mutagenicity_edge_gt.txt",
    "TUDataset/Mutagenicity/raw/Mutagenicity_label_readme.txt",
}

#: Atom symbol of each one-hot position of ``x`` (from the datasets' READMEs).
MUTAG_ATOMS = ["C", "N", "O", "F", "I", "Cl", "Br"]
#: Maximum number of bonds per atom of MUTAG, in the order of :data:`MUTAG_ATOMS`. Every
#: molecule of MUTAG respects it (``tests/test_data.py`` and the XGNN chapter check this).
MUTAG_VALENCY = [4, 3, 2, 1, 1, 1, 1]
MUTAGENICITY_ATOMS = ["C", "O", "Cl", "H", "N", "F", "Br", "S", "P", "I", "Na", "K", "Li", "Ca"]


class DatasetError(RuntimeError):
    """A dataset could not be provided; the message says which, where and what to do."""


def data_root() -> Path:
    """The folder holding the datasets: ``$GNNCOURSE_DATA`` or ``~/.cache/gnncourse/data``."""
    root = os.environ.get(ENV_VAR)
    if root:
        return Path(root).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "gnncourse" / "data"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _expected_files(group: str, name: str) -> Dict[str, str]:
    prefix = f"{group}/{name}/raw/"
    return {k[len(prefix):]: v for k, v in SHA256.items() if k.startswith(prefix)}


def verify_raw_files(raw_dir: Path, group: str, name: str) -> None:
    """Compare every raw file of a dataset with its published SHA-256.

    Raises:
        DatasetError: a required file is missing, or any file's content differs.
    """
    raw_dir = Path(raw_dir)
    for fname, digest in _expected_files(group, name).items():
        path = raw_dir / fname
        if not path.exists():
            if f"{group}/{name}/raw/{fname}" in OPTIONAL:
                continue
            raise DatasetError(
                f"{name}: the raw file {path} is missing. Delete the folder {raw_dir.parent} "
                f"so that it is downloaded again, or point ${ENV_VAR} at a complete copy."
            )
        actual = _sha256(path)
        if actual != digest:
            raise DatasetError(
                f"{name}: the file {path} is corrupt or has been altered (sha256 {actual[:12]}..., "
                f"expected {digest[:12]}...). Delete the folder {raw_dir.parent} so that it is "
                f"downloaded again, or copy the file anew from the course's data mirror."
            )


def _check_writable(folder: Path, name: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise DatasetError(
            f"{name}: cannot write to the data root {folder} ({err.strerror or err}). "
            f"PyG needs to write its processed files there: set ${ENV_VAR} to a writable folder "
            f"(a copy of the data mirror works)."
        ) from None


FINGERPRINT = "gnncourse-fingerprint.json"


def _processed_dirs(dataset_dir: Path):
    return sorted(p for p in dataset_dir.glob("processed*") if p.is_dir())


def _fingerprint(group: str, name: str, raw_dir: Path, processed: Path) -> dict:
    """What a processed folder was made from, and what it holds."""
    raw = {f: d for f, d in _expected_files(group, name).items() if (raw_dir / f).exists()}
    files = {p.name: _sha256(p) for p in sorted(processed.iterdir()) if p.is_file() and p.name != FINGERPRINT}
    return {"dataset": f"{group}/{name}", "raw_sha256": raw,
            "torch_geometric": torch_geometric.__version__, "processed_sha256": files}


def _stale_reason(group: str, name: str, raw_dir: Path, processed: Path) -> Optional[str]:
    """Why the processed folder cannot be trusted, or ``None`` if it matches its fingerprint."""
    stamp = processed / FINGERPRINT
    if not stamp.exists():
        return "it has no fingerprint (made by another program, or interrupted)"
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return "its fingerprint is unreadable"
    now = _fingerprint(group, name, raw_dir, processed)
    for key, what in (("dataset", "another dataset"), ("raw_sha256", "other raw files"),
                      ("torch_geometric", "another PyG version"), ("processed_sha256", "files changed since")):
        if recorded.get(key) != now[key]:
            return f"it does not match its fingerprint ({what})"
    return None


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load(group: str, name: str, factory: Callable[[str], object], verify: bool = True):
    """Verify (or fetch, then verify) the raw files of ``group/name``, then let PyG load them.

    ``factory(root)`` builds PyG's dataset object for the folder ``root/group``. The whole
    load holds a lock on the dataset, so that concurrent loads wait for each other.
    """
    root = data_root()
    created = [d for d in (root, root / group) if not d.exists()]
    _check_writable(root / group, name)
    lock = FileLock(str(root / group / f".{name}.lock"), timeout=600)
    try:
        with lock:
            return _load_locked(root, group, name, factory, verify)
    except DatasetError:
        # a mistyped data root must not stay behind as an empty folder tree
        for d in reversed(created):
            if d == root / group:
                Path(lock.lock_file).unlink(missing_ok=True)
            try:
                d.rmdir()
            except OSError:
                pass
        raise


def _load_locked(root: Path, group: str, name: str, factory: Callable[[str], object], verify: bool):
    dataset_dir = root / group / name
    raw_dir = dataset_dir / "raw"
    expected = _expected_files(group, name)
    required = [f for f in expected if f"{group}/{name}/raw/{f}" not in OPTIONAL]
    have_raw = all((raw_dir / f).exists() for f in required)

    if not have_raw:
        _check_writable(root / group, name)
        # Download into a private temporary folder; only a complete, verified copy moves in.
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=root / group))
        try:
            try:
                factory(str(tmp))
            except Exception as err:  # no network, server down, ...
                raise DatasetError(
                    f"{name} is not in the data root {root} and could not be downloaded "
                    f"({type(err).__name__}: {err}). Connect to the internet, or set ${ENV_VAR} "
                    f"to a folder holding {group}/{name}/raw/ (for example a copy of the course's "
                    f"data mirror)."
                ) from None
            if verify:
                verify_raw_files(tmp / name / "raw", group, name)
            if raw_dir.exists():  # an incomplete earlier copy: keep it aside, never delete it
                raw_dir.rename(raw_dir.with_name(f"raw.incomplete-{os.getpid()}"))
            dataset_dir.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / name / "raw", raw_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    elif verify:
        verify_raw_files(raw_dir, group, name)

    trusted = set()  # processed folders that matched their fingerprint: no need to stamp again
    for processed in _processed_dirs(dataset_dir):
        why = _stale_reason(group, name, raw_dir, processed)
        if why is None:
            trusted.add(processed)
        else:
            _note(f"gnncourse: rebuilding {processed} from the verified raw files: {why}")
            shutil.rmtree(processed)
    if not _processed_dirs(dataset_dir):
        _check_writable(dataset_dir, name)
    for attempt in (1, 2):
        try:
            dataset = factory(str(root / group))
            break
        except PermissionError as err:
            raise DatasetError(
                f"{name}: PyG could not write its processed files under {dataset_dir} ({err}). "
                f"Set ${ENV_VAR} to a writable folder."
            ) from None
        except Exception as err:  # an unreadable processed file: rebuild once from the raw files
            if attempt == 2 or not _processed_dirs(dataset_dir):
                raise DatasetError(
                    f"{name}: PyG could not build or read the processed files under {dataset_dir} "
                    f"({type(err).__name__}: {err}). Delete that folder's processed* folders and load "
                    f"again; if it persists, copy the raw files anew from the course's data mirror."
                ) from None
            _note(f"gnncourse: rebuilding the processed files of {name} under {dataset_dir}: "
                  f"they could not be read ({type(err).__name__})")
            for processed in _processed_dirs(dataset_dir):
                shutil.rmtree(processed)
            trusted.clear()
    for processed in _processed_dirs(dataset_dir):
        if processed not in trusted:  # built (or rebuilt) by this load
            stamp = _fingerprint(group, name, raw_dir, processed)
            tmp = processed / f".{FINGERPRINT}.{os.getpid()}"
            tmp.write_text(json.dumps(stamp, indent=1))
            os.replace(tmp, processed / FINGERPRINT)
    return dataset


def load_karate_club():
    """Zachary's karate club (34 members, 78 friendships, 4 communities); built in, no files."""
    return KarateClub()


def load_planetoid(name: str, verify: bool = True, **kwargs):
    """Cora or CiteSeer with the public split (``train_mask``, ``val_mask``, ``test_mask``)."""
    names = {"cora": "Cora", "citeseer": "CiteSeer"}
    if name.lower() not in names:
        raise ValueError(f"unknown Planetoid dataset {name!r}; choose one of {sorted(names.values())}")
    name = names[name.lower()]
    return _load("Planetoid", name, lambda root: Planetoid(root, name, **kwargs), verify)


def load_cora(**kwargs):
    """Cora: 2,708 papers, 10,556 directed citation edges, 1,433 word features, 7 classes."""
    return load_planetoid("Cora", **kwargs)


def load_citeseer(**kwargs):
    """CiteSeer: 3,327 papers, 9,104 directed edges, 3,703 features, 6 classes."""
    return load_planetoid("CiteSeer", **kwargs)


def load_tu(name: str, verify: bool = True, **kwargs):
    """A TUDataset graph-classification benchmark: ``'MUTAG'`` or ``'Mutagenicity'``."""
    names = {"mutag": "MUTAG", "mutagenicity": "Mutagenicity"}
    if name.lower() not in names:
        raise ValueError(f"unknown TU dataset {name!r}; choose one of {sorted(names.values())}")
    name = names[name.lower()]
    return _load("TUDataset", name, lambda root: TUDataset(root, name, **kwargs), verify)


def load_mutag(**kwargs):
    """MUTAG: 188 nitroaromatic molecules, 7 atom types, mutagenic (1) or not (0)."""
    return load_tu("MUTAG", **kwargs)


def _split_ground_truth(data):
    # edge_attr column 0 is the ground-truth mask; the rest is the bond one-hot
    data.edge_gt = data.edge_attr[:, 0].round().long()
    data.edge_attr = data.edge_attr[:, 1:]
    return data


def load_mutagenicity(ground_truth: bool = False, verify: bool = True, **kwargs):
    """Mutagenicity: 4,337 molecules, 14 atom types; class 0 = mutagen, 1 = non-mutagen.

    Args:
        ground_truth: also give every graph ``edge_gt``, a 0/1 tensor aligned with
            ``edge_index`` marking bonds inside NO2 and NH2 groups (the explanation ground
            truth shipped as ``Mutagenicity_edge_gt.txt``). PyG sorts the edges while
            processing, so the mask is carried through PyG as an extra edge attribute column
            rather than read line by line.
    """
    if not ground_truth:
        return load_tu("Mutagenicity", verify=verify, **kwargs)
    load_tu("Mutagenicity", verify=verify)  # make sure the verified raw files are there
    src = data_root() / "TUDataset" / "Mutagenicity" / "raw"
    gt_file = src / "Mutagenicity_edge_gt.txt"
    if not gt_file.exists():
        raise DatasetError(
            f"Mutagenicity: the ground-truth file {gt_file} is missing. The standard download "
            f"does not ship it; copy it from the course's data mirror (TUDataset/Mutagenicity/raw/)."
        )
    # A separate folder, so the plain dataset's processed files stay as PyG made them.
    group = "TUDataset-ground-truth"
    dst = data_root() / group / "Mutagenicity" / "raw"
    _check_writable(dst.parent.parent, "Mutagenicity")
    with FileLock(str(dst.parent.parent / ".Mutagenicity-raw.lock"), timeout=600):
        if not (dst / "Mutagenicity_edge_attributes.txt").exists():
            tmp = Path(tempfile.mkdtemp(prefix=".raw-", dir=dst.parent.parent))
            try:
                for f in src.iterdir():
                    if f.name.startswith("Mutagenicity_"):
                        shutil.copy2(f, tmp / f.name)
                shutil.copy2(gt_file, tmp / "Mutagenicity_edge_attributes.txt")
                dst.parent.mkdir(parents=True, exist_ok=True)
                if dst.exists():  # an incomplete earlier copy: keep it aside, never delete it
                    dst.rename(dst.with_name(f"raw.incomplete-{os.getpid()}"))
                os.replace(tmp, dst)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    expected = SHA256["TUDataset/Mutagenicity/raw/Mutagenicity_edge_gt.txt"]
    if _sha256(dst / "Mutagenicity_edge_attributes.txt") != expected:
        raise DatasetError(
            f"Mutagenicity: the ground-truth copy in {dst} is corrupt; delete {dst.parent} "
            f"and load again."
        )
    return _load(group, "Mutagenicity", lambda root: TUDataset(
        root, "Mutagenicity", use_edge_attr=True, transform=_split_ground_truth, **kwargs), verify=False)
