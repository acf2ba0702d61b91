"""Fast binary cache of a parsed :class:`Dataset` (one npz file, no pickle).

Parsing the text files takes about a second; loading this cache takes a fraction of that. The
cache is keyed by the raw files' fingerprint, so changed files are parsed again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset, IdMap

CACHE_VERSION = 1


def _csr_arrays(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_data": m.data.astype(np.float32),
        f"{prefix}_indices": m.indices,
        f"{prefix}_indptr": m.indptr,
        f"{prefix}_shape": np.asarray(m.shape, dtype=np.int64),
    }


def _csr_from(prefix: str, z: np.lib.npyio.NpzFile) -> sp.csr_matrix:
    shape = tuple(int(x) for x in z[f"{prefix}_shape"])
    return sp.csr_matrix(
        (z[f"{prefix}_data"], z[f"{prefix}_indices"], z[f"{prefix}_indptr"]), shape=shape
    )


def _text(values: object) -> np.ndarray:
    return np.asarray([str(v) for v in np.asarray(values, dtype=object)], dtype=np.str_)


def save_parsed(ds: Dataset, path: Path) -> None:
    """Write ``ds`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ta = ds.tag_assignments
    arrays = {
        "version": np.asarray([CACHE_VERSION]),
        "fingerprint": np.asarray(ds.fingerprint),
        "findings": np.asarray(list(ds.findings) or [""], dtype=np.str_),
        "n_findings": np.asarray([len(ds.findings)]),
        "user_ids": ds.user_ids,
        "artist_ids": ds.artist_ids,
        "artist_name": _text(ds.artists["name"]),
        "artist_url": _text(ds.artists["url"]),
        "artist_picture_url": _text(ds.artists["picture_url"]),
        "tag_ids": ds.tag_ids,
        "tag_names": _text(ds.tag_names),
        "ta_user_id": ta["user_id"].to_numpy(np.int64),
        "ta_artist_id": ta["artist_id"].to_numpy(np.int64),
        "ta_tag_id": ta["tag_id"].to_numpy(np.int64),
        "ta_user_index": ta["user_index"].to_numpy(np.int64),
        "ta_artist_index": ta["artist_index"].to_numpy(np.int64),
        "ta_tag_index": ta["tag_index"].to_numpy(np.int64),
        "ta_date": ta["date"].to_numpy().astype("datetime64[D]").astype(np.int64),
        **_csr_arrays("inter", ds.interactions),
        **_csr_arrays("friends", ds.friends),
    }
    if "timestamp" in ta:
        arrays["ta_timestamp"] = ta["timestamp"].to_numpy(np.float64)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_parsed(path: Path, fingerprint: str | None = None) -> Dataset | None:
    """Load a cached dataset, or None when absent, stale (other fingerprint) or unreadable."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"][0]) != CACHE_VERSION:
                return None
            fp = str(z["fingerprint"])
            if fingerprint is not None and fp != fingerprint:
                return None
            n_find = int(z["n_findings"][0])
            ta = pd.DataFrame(
                {
                    "user_id": z["ta_user_id"],
                    "artist_id": z["ta_artist_id"],
                    "tag_id": z["ta_tag_id"],
                    "user_index": z["ta_user_index"],
                    "artist_index": z["ta_artist_index"],
                    "tag_index": z["ta_tag_index"],
                    "date": z["ta_date"].astype("datetime64[D]"),
                }
            )
            if "ta_timestamp" in z:
                ta["timestamp"] = z["ta_timestamp"]
            artists = pd.DataFrame(
                {
                    "id": z["artist_ids"],
                    "name": z["artist_name"].astype(object),
                    "url": z["artist_url"].astype(object),
                    "picture_url": z["artist_picture_url"].astype(object),
                }
            )
            inter = _csr_from("inter", z)
            return Dataset(
                interactions=inter,
                user_map=IdMap(z["user_ids"], "user"),
                artist_map=IdMap(z["artist_ids"], "artist"),
                artists=artists,
                tag_ids=z["tag_ids"],
                tag_names=z["tag_names"].astype(object),
                tag_assignments=ta,
                friends=_csr_from("friends", z),
                fingerprint=fp,
                findings=tuple(str(s) for s in z["findings"][:n_find]),
                source_interactions=inter,
            )
    except (OSError, KeyError, ValueError, EOFError):
        return None
