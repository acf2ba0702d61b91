"""Deterministic integer ids for string keys, and the artist identity rule (MBID, else name).

The code base works with integer original ids (:class:`~artistrec.data.dataset.IdMap` over
int64). Formats whose users and artists are strings (sha1 user keys, MusicBrainz ids, names)
get ids 1..n in the sorted order of their keys, so the same file always gives the same ids.

The artist identity rule (Last.fm-360K, and generic logs that name artists):

1. A row with an MBID belongs to the artist of that MBID (compared case-insensitively). Its
   display name is the spelling most rows give it (ties: the first in sorted order).
2. A row without an MBID is identified by its name, compared after stripping surrounding
   whitespace and Unicode case folding (``"the beatles"`` = ``"The Beatles"``).
3. A name without an MBID that exactly one MBID artist also goes by (compared as in 2) is that
   artist: the same artist listed with and without its MBID is one artist, and a user's plays
   of both are summed. When two or more MBID artists share the name, the rows without an MBID
   cannot be attributed and stay a separate, name-identified artist.

Keys are ``"mbid:<mbid>"`` and ``"name:<folded name>"``; ids follow their sorted order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MBID_PREFIX = "mbid:"
NAME_PREFIX = "name:"


def sorted_ids(values: np.ndarray, used: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ids for distinct string ``values``: (sorted keys, index into them per value, -1 unused).

    ``values`` may repeat (e.g. two byte spellings that decode to the same text): equal
    values get the same index. The id of ``keys[i]`` is ``i + 1``.
    """
    values = np.asarray(values, dtype=object)
    used = np.ones(values.size, dtype=bool) if used is None else np.asarray(used, dtype=bool)
    keys, inverse = np.unique(values[used].astype(str), return_inverse=True)
    index = np.full(values.size, -1, dtype=np.int64)
    index[used] = inverse.ravel()
    return keys.astype(object), index


def fold_names(names: pd.Series) -> pd.Series:
    """Names as compared for identity: surrounding whitespace stripped, Unicode casefolded."""
    return names.astype(str).str.strip().str.casefold()


@dataclass(frozen=True)
class Artists:
    """Artists resolved from distinct (mbid, name) pairs.

    ``keys``, ``names`` and ``mbids`` are by artist index (id = index + 1); ``of_pair`` gives
    each input pair's artist index (-1: neither an MBID nor a name). ``matched_by_name``
    counts pairs without an MBID attributed to an MBID artist by rule 3, ``ambiguous`` the
    names without an MBID that several MBID artists share.
    """

    keys: np.ndarray
    names: np.ndarray
    mbids: np.ndarray
    of_pair: np.ndarray
    matched_by_name: int
    ambiguous: int


def resolve_artists(mbid: np.ndarray, name: np.ndarray, weight: np.ndarray) -> Artists:
    """Apply the identity rule to distinct (mbid, name) pairs; ``weight`` = rows per pair.

    ``mbid`` and ``name`` are stripped strings ("" when absent). Vectorised over pairs.
    """
    df = pd.DataFrame(
        {
            "mbid": pd.Series(mbid, dtype=object).astype(str).str.lower(),
            "name": pd.Series(name, dtype=object).astype(str),
            "w": np.asarray(weight, dtype=np.int64),
        }
    )
    df["fold"] = fold_names(df["name"])
    has_mbid = (df["mbid"] != "").to_numpy()
    has_name = (df["fold"] != "").to_numpy()
    with_mbid = df.loc[has_mbid & has_name, ["fold", "mbid"]].drop_duplicates()
    per_name = with_mbid.groupby("fold")["mbid"].agg(["nunique", "min"])
    unique_mbid = per_name.loc[per_name["nunique"] == 1, "min"]
    no_mbid = ~has_mbid & has_name
    matched = df["fold"].where(no_mbid).map(unique_mbid)
    by_name = no_mbid & matched.notna().to_numpy()
    key = np.full(len(df), "", dtype=object)
    key[has_mbid] = MBID_PREFIX + df["mbid"].to_numpy(object)[has_mbid]
    key[by_name] = MBID_PREFIX + matched.to_numpy(object)[by_name]
    own_name = no_mbid & ~by_name
    key[own_name] = NAME_PREFIX + df["fold"].to_numpy(object)[own_name]
    ambiguous_names = set(per_name.index[per_name["nunique"] > 1])
    ambiguous = int(df.loc[own_name, "fold"].isin(ambiguous_names).sum())

    valid = key != ""
    keys, of_pair = sorted_ids(key, valid)
    # Display name: the spelling with the most rows per artist (ties: first in sorted order).
    spell = pd.DataFrame({"a": of_pair[valid], "name": df["name"].to_numpy(object)[valid]})
    spell["w"] = df["w"].to_numpy()[valid]
    spell = spell[spell["name"] != ""]
    best = (
        spell.groupby(["a", "name"], sort=False)["w"]
        .sum()
        .reset_index()
        .sort_values(["a", "w", "name"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("a")
    )
    key_series = pd.Series(keys, dtype=object).astype(str)
    is_mbid = key_series.str.startswith(MBID_PREFIX).to_numpy()
    mbids = np.where(is_mbid, key_series.str.slice(len(MBID_PREFIX)).to_numpy(object), "")
    names = mbids.copy()  # an MBID artist listed without any name is shown by its MBID
    names[best["a"].to_numpy()] = best["name"].to_numpy(object)
    return Artists(
        keys=keys,
        names=names,
        mbids=mbids,
        of_pair=of_pair,
        matched_by_name=int(df.loc[by_name, "w"].sum()),
        ambiguous=ambiguous,
    )
