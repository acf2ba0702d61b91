"""Fast binary cache of a parsed :class:`Dataset` of any format (one npz file, no pickle).

Parsing the text files takes about a second; loading this cache takes a fraction of that. The
cache is keyed by the raw files' fingerprint, so changed files are parsed again.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset, IdMap

CACHE_VERSION = 3


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
    """Strings as one UTF-8 byte array joined by newlines (compact; no fixed-width padding).

    Names come from newline-separated files, so they never contain a newline themselves.
    """
    joined = "\n".join(str(v) for v in np.asarray(values, dtype=object))
    return np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)


def _untext(blob: np.ndarray, n: int) -> np.ndarray:
    if n == 0:
        return np.empty(0, dtype=object)
    out = np.asarray(blob.tobytes().decode("utf-8").split("\n"), dtype=object)
    if out.size != n:
        raise ValueError(f"cached text has {out.size} entries, expected {n}")
    return out


def save_parsed(ds: Dataset, path: Path) -> None:
    """Write ``ds`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ta = ds.tag_assignments
    arrays = {
        "version": np.asarray([CACHE_VERSION]),
        "fingerprint": np.asarray(ds.fingerprint),
        "findings": _text(ds.findings),
        "n_findings": np.asarray([len(ds.findings)]),
        "n_artists": np.asarray([ds.n_artists]),
        "n_tags": np.asarray([ds.n_tags]),
        "user_ids": ds.user_ids,
        "artist_ids": ds.artist_ids,
        "artist_name": _text(ds.artists["name"]),
        "artist_url": _text(ds.artists["url"]),
        "artist_picture_url": _text(ds.artists["picture_url"]),
        "artist_mbid": _text(ds.artists["mbid"]),
        "format": np.asarray(ds.format),
        "user_keys": _text(ds.user_keys),
        "artist_keys": _text(ds.artist_keys),
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
    if ds.user_profiles is not None:
        prof = ds.user_profiles
        arrays["profile_gender"] = _text(prof["gender"])
        arrays["profile_age"] = prof["age"].to_numpy(np.float32)
        arrays["profile_country"] = _text(prof["country"])
        arrays["profile_signup"] = prof["signup"].to_numpy().astype("datetime64[D]").view(np.int64)
    if "timestamp" in ta:
        arrays["ta_timestamp"] = ta["timestamp"].to_numpy().astype("datetime64[ms]").view(np.int64)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_parsed(path: Path, fingerprint: str | None = None) -> Dataset | None:
    """Load a cached dataset, or None when absent, stale (other fingerprint) or unreadable.

    The cache is only an optimisation: any failure to read it (truncated or corrupt file,
    older format) returns None so the caller parses the text files again and rewrites it.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return _read(path, fingerprint)
    except Exception as exc:  # noqa: BLE001 - any unreadable cache means "parse again"
        warnings.warn(f"ignoring unreadable data cache {path}: {exc}", stacklevel=2)
        return None


def _read(path: Path, fingerprint: str | None) -> Dataset | None:
    with np.load(path, allow_pickle=False) as z:
        if int(z["version"][0]) != CACHE_VERSION:
            return None
        fp = str(z["fingerprint"])
        if fingerprint is not None and fp != fingerprint:
            return None
        n_artists, n_tags = int(z["n_artists"][0]), int(z["n_tags"][0])
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
            ta["timestamp"] = z["ta_timestamp"].view("datetime64[ms]")
        artists = pd.DataFrame(
            {
                "id": z["artist_ids"],
                "name": _untext(z["artist_name"], n_artists),
                "url": _untext(z["artist_url"], n_artists),
                "picture_url": _untext(z["artist_picture_url"], n_artists),
                "mbid": _untext(z["artist_mbid"], n_artists),
            }
        )
        inter = _csr_from("inter", z)
        n_users = int(z["user_ids"].size)
        profiles = None
        if "profile_age" in z:
            profiles = pd.DataFrame(
                {
                    "id": z["user_ids"],
                    "gender": _untext(z["profile_gender"], n_users),
                    "age": z["profile_age"],
                    "country": _untext(z["profile_country"], n_users),
                    "signup": z["profile_signup"].view("datetime64[D]"),
                }
            )
        return Dataset(
            interactions=inter,
            user_map=IdMap(z["user_ids"], "user"),
            artist_map=IdMap(z["artist_ids"], "artist"),
            artists=artists,
            tag_ids=z["tag_ids"],
            tag_names=_untext(z["tag_names"], n_tags),
            tag_assignments=ta,
            friends=_csr_from("friends", z),
            fingerprint=fp,
            findings=tuple(str(s) for s in _untext(z["findings"], int(z["n_findings"][0]))),
            source_interactions=inter,
            format=str(z["format"]),
            user_keys=_untext(z["user_keys"], n_users),
            artist_keys=_untext(z["artist_keys"], n_artists),
            user_profiles=profiles,
        )
