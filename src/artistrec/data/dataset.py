"""The one :class:`Dataset` object: interactions, id maps, artists, tags and the friend graph.

Ids are mapped to contiguous indices exactly once, here (:class:`IdMap`); every model artifact
stores these maps, so training and serving can never encode ids differently. Formats without
tags or friends (Last.fm-360K, generic logs) get empty tables of the right shape, and
:attr:`Dataset.has_tags` / :attr:`Dataset.has_friends` say so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from artistrec.data.loader import RawTables
from artistrec.data.scale import to_levels


class UnknownIdError(KeyError):
    """One or more ids are not in an :class:`IdMap`."""

    def __init__(self, kind: str, unknown: np.ndarray) -> None:
        self.kind = kind
        self.unknown = unknown
        shown = ", ".join(str(v) for v in unknown[:5])
        more = f" and {unknown.size - 5} more" if unknown.size > 5 else ""
        super().__init__(f"unknown {kind} id(s): {shown}{more}")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def _as_ids(ids: npt.ArrayLike, kind: str) -> np.ndarray:
    """``ids`` as int64; non-whole numbers are an error, not silently truncated."""
    arr = np.asarray(ids)
    if arr.dtype.kind == "f" and arr.size and not np.all(arr == np.round(arr)):
        raise ValueError(f"{kind} ids must be whole numbers")
    if arr.dtype.kind not in "iuf" and arr.size:
        try:
            return _as_ids(arr.astype(np.float64), kind)
        except (TypeError, ValueError):
            raise ValueError(f"{kind} ids must be integers, got {arr.dtype} values") from None
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class IdMap:
    """Bijection between original integer ids (sorted ascending) and indices 0..n-1."""

    ids: np.ndarray
    kind: str = "item"

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids, dtype=np.int64)
        if ids.ndim != 1 or (ids.size > 1 and not np.all(ids[1:] > ids[:-1])):
            raise ValueError(f"{self.kind} ids must be a 1-D strictly increasing array")
        object.__setattr__(self, "ids", ids)
        # Ids first..first+n-1 (formats numbered 1..n): index = id - first, no search.
        contiguous = ids.size > 0 and int(ids[-1]) - int(ids[0]) == ids.size - 1
        object.__setattr__(self, "_first", int(ids[0]) if contiguous else None)

    def __len__(self) -> int:
        return int(self.ids.size)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and np.array_equal(self.ids, other.ids)

    def __hash__(self) -> int:
        return hash((self.kind, self.ids.size, self.ids[:8].tobytes()))

    def contains(self, ids: npt.ArrayLike) -> np.ndarray:
        """Boolean mask: which of ``ids`` are known."""
        q = _as_ids(ids, self.kind)
        first = getattr(self, "_first", None)
        if first is not None:
            return (q >= first) & (q < first + len(self))
        pos = np.clip(np.searchsorted(self.ids, q), 0, max(len(self) - 1, 0))
        return (len(self) > 0) & (self.ids[pos] == q) if len(self) else np.zeros(q.shape, bool)

    def index(self, ids: npt.ArrayLike) -> np.ndarray:
        """Indices of original ``ids``; raises :class:`UnknownIdError` for unknown ones."""
        q = _as_ids(ids, self.kind)
        known = self.contains(q)
        if not np.all(known):
            raise UnknownIdError(self.kind, np.unique(q[~known]))
        first = getattr(self, "_first", None)
        if first is not None:
            return q - first
        return np.searchsorted(self.ids, q).astype(np.int64)

    def to_ids(self, indices: npt.ArrayLike) -> np.ndarray:
        """Original ids of ``indices`` (raises IndexError when out of range)."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"{self.kind} index out of range 0..{len(self) - 1}")
        return self.ids[idx]


def _csr(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    m = sp.csr_matrix(
        (vals.astype(np.float32), (rows.astype(np.int64), cols.astype(np.int64))), shape=shape
    )
    m.sum_duplicates()
    m.sort_indices()
    return m


@dataclass(frozen=True, eq=False)
class Dataset:
    """Everything the models and interfaces need, built once from the raw files.

    ``interactions`` holds raw listen counts (float32 CSR, users x artists). ``source_interactions``
    and ``source_tag_assignments`` keep the data as loaded (None: same as the current ones), so
    :meth:`with_interactions` can drop the tag assignments of held-out listens, also when
    derivations are chained.

    ``format`` names the source format (``hetrec2011``, ``lastfm360k``, ``generic``).
    ``user_keys`` / ``artist_keys`` hold each user's / artist's original key by index (the
    sha1, ``mbid:<MBID>`` or ``name:<folded name>``; for HetRec the id as text), and
    ``user_profiles`` the Last.fm-360K profile per user (id, gender, age, country, signup), or
    None where the format has none.
    """

    interactions: sp.csr_matrix
    user_map: IdMap
    artist_map: IdMap
    artists: pd.DataFrame
    tag_ids: np.ndarray
    tag_names: np.ndarray
    tag_assignments: pd.DataFrame
    friends: sp.csr_matrix
    fingerprint: str
    findings: tuple[str, ...] = ()
    source_interactions: sp.csr_matrix | None = field(default=None, repr=False)
    source_tag_assignments: pd.DataFrame | None = field(default=None, repr=False)
    _artist_tags: sp.csr_matrix | None = field(default=None, repr=False)
    format: str = "hetrec2011"
    user_keys: np.ndarray | None = field(default=None, repr=False)
    artist_keys: np.ndarray | None = field(default=None, repr=False)
    user_profiles: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name, ids in (("user_keys", self.user_map.ids), ("artist_keys", self.artist_map.ids)):
            if getattr(self, name) is None:  # the integer ids are the original keys
                object.__setattr__(self, name, ids.astype(str).astype(object))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_raw(cls, raw: RawTables) -> Dataset:
        """Build the dataset (id maps, sparse matrices) from validated raw tables."""
        artists = raw.artists.sort_values("id").reset_index(drop=True)
        artist_map = IdMap(artists["id"].to_numpy(), "artist")
        ua = raw.user_artists
        if raw.user_ids is not None:
            user_ids = np.asarray(raw.user_ids, dtype=np.int64)
        else:
            user_ids = np.unique(
                np.concatenate([ua["userID"].to_numpy(), raw.user_friends["userID"].to_numpy()])
            )
        user_map = IdMap(user_ids, "user")
        shape = (len(user_map), len(artist_map))
        inter = _csr(
            user_map.index(ua["userID"]),
            artist_map.index(ua["artistID"]),
            ua["weight"].to_numpy(np.float32),
            shape,
        )
        uf = raw.user_friends
        fr, fc = user_map.index(uf["userID"]), user_map.index(uf["friendID"])
        friends = _csr(
            np.concatenate([fr, fc]),
            np.concatenate([fc, fr]),
            np.ones(2 * fr.size),
            (shape[0],) * 2,
        )
        friends.data[:] = 1.0  # symmetric 0/1 even if the file lists both directions
        tags = raw.tags.sort_values("tagID").reset_index(drop=True)
        tag_ids = tags["tagID"].to_numpy(np.int64)
        ut = raw.tag_assignments
        known_artist = artist_map.contains(ut["artistID"])
        artist_index = np.full(len(ut), -1, dtype=np.int64)
        artist_index[known_artist] = artist_map.index(ut["artistID"].to_numpy()[known_artist])
        ta = pd.DataFrame(
            {
                "user_id": ut["userID"].to_numpy(np.int64),
                "artist_id": ut["artistID"].to_numpy(np.int64),
                "tag_id": ut["tagID"].to_numpy(np.int64),
                "user_index": user_map.index(ut["userID"]),
                "artist_index": artist_index,
                "tag_index": np.searchsorted(tag_ids, ut["tagID"].to_numpy(np.int64)),
                "date": ut["date"].to_numpy(),
            }
        )
        if "timestamp" in ut:
            ta["timestamp"] = ut["timestamp"].to_numpy()
        artists_df = pd.DataFrame(
            {
                "id": artists["id"].to_numpy(np.int64),
                "name": artists["name"].to_numpy(object),
                "url": artists["url"].to_numpy(object),
                "picture_url": artists["pictureURL"].to_numpy(object),
                "mbid": (
                    artists["mbid"].to_numpy(object)
                    if "mbid" in artists
                    else np.full(len(artists), "", dtype=object)
                ),
            }
        )
        return cls(
            interactions=inter,
            user_map=user_map,
            artist_map=artist_map,
            artists=artists_df,
            tag_ids=tag_ids,
            tag_names=tags["tagValue"].to_numpy(object),
            tag_assignments=ta,
            friends=friends,
            fingerprint=raw.fingerprint,
            findings=tuple(raw.findings),
            source_interactions=inter,
            format=raw.format,
            user_keys=raw.user_keys,
            artist_keys=(
                None
                if raw.artist_keys is None
                else np.asarray(raw.artist_keys, dtype=object)[
                    np.argsort(raw.artists["id"].to_numpy(), kind="stable")
                ]
            ),
            user_profiles=raw.user_profiles,
        )

    # ------------------------------------------------------------------ basic views
    @property
    def n_users(self) -> int:
        return len(self.user_map)

    @property
    def n_artists(self) -> int:
        return len(self.artist_map)

    @property
    def n_tags(self) -> int:
        return int(self.tag_ids.size)

    @property
    def has_tags(self) -> bool:
        """Whether the data set has tags (HetRec does; Last.fm-360K and generic logs do not)."""
        return self.n_tags > 0

    @property
    def has_friends(self) -> bool:
        """Whether the data set has a friend graph with at least one relation."""
        return self.friends.nnz > 0

    @property
    def has_profiles(self) -> bool:
        """Whether users have profiles (gender, age, country, signup: Last.fm-360K)."""
        return self.user_profiles is not None

    @property
    def parts(self) -> dict[str, bool]:
        """Which optional parts this data set has, for interfaces to say what is not available."""
        return {"tags": self.has_tags, "friends": self.has_friends, "profiles": self.has_profiles}

    @property
    def users(self) -> IdMap:
        """The user :class:`IdMap` (alias of ``user_map``, the name docs/ARCHITECTURE.md uses)."""
        return self.user_map

    @property
    def artists_map(self) -> IdMap:
        """The artist :class:`IdMap` (alias of ``artist_map``, as in docs/ARCHITECTURE.md)."""
        return self.artist_map

    @property
    def user_ids(self) -> np.ndarray:
        """Original user ids by row index."""
        return self.user_map.ids

    @property
    def artist_ids(self) -> np.ndarray:
        """Original artist ids by column index."""
        return self.artist_map.ids

    @property
    def artist_names(self) -> np.ndarray:
        """Artist names by column index."""
        return self.artists["name"].to_numpy(object)

    @property
    def artist_tags(self) -> sp.csr_matrix:
        """Artist x tag assignment counts (float32), from the current tag assignments."""
        if self._artist_tags is None:
            ta = self.tag_assignments
            ok = ta["artist_index"].to_numpy() >= 0
            m = _csr(
                ta["artist_index"].to_numpy()[ok],
                ta["tag_index"].to_numpy()[ok],
                np.ones(int(ok.sum()), dtype=np.float32),
                (self.n_artists, self.n_tags),
            )
            object.__setattr__(self, "_artist_tags", m)
        return self._artist_tags

    def known_artists(self) -> sp.csr_matrix:
        """Users x artists, 1.0 where the user listened to or tagged the artist (float32 CSR).

        HetRec lists only each user's 50 most played artists, and 99.4% of the artists users
        tagged without a listed listen belong to users whose list is full: they were mostly
        played beyond that cut. Recommendations for known users leave all of these out. Built
        from the current interactions and tag assignments, so a held-out listen (whose tags
        :meth:`with_interactions` drops) is not in it.
        """
        ta = self.tag_assignments
        u = ta["user_index"].to_numpy()
        a = ta["artist_index"].to_numpy()
        ok = (u >= 0) & (a >= 0)
        tagged = _csr(u[ok], a[ok], np.ones(int(ok.sum()), np.float32), self.interactions.shape)
        known = (self.interactions > 0).astype(np.float32) + tagged
        known.data[:] = 1.0
        return sp.csr_matrix(known, dtype=np.float32)

    def levels(self) -> sp.csr_matrix:
        """Interactions on the product's 1-5 scale (float32 CSR, same sparsity)."""
        m = self.interactions.copy()
        m.data = to_levels(m.data).astype(np.float32)
        return m

    def artist_listeners(self) -> np.ndarray:
        """Number of listeners per artist in the current interactions (int64)."""
        return np.diff(self.interactions.tocsc().indptr).astype(np.int64)

    def top_tags(self, artist: int, n: int = 5) -> list[str]:
        """The ``n`` most assigned tag names of one artist (by index)."""
        row = self.artist_tags.getrow(int(artist))
        if row.nnz == 0:
            return []
        order = np.lexsort((row.indices, -row.data))[:n]
        return [str(self.tag_names[i]) for i in row.indices[order]]

    # ------------------------------------------------------------------ derivation
    def with_interactions(self, interactions: sp.spmatrix) -> Dataset:
        """A copy holding ``interactions`` (same shape) and everything else unchanged.

        Tag assignments of (user, artist) pairs that were listened in the source data but are
        absent from ``interactions`` are dropped, so a held-out listen cannot leak through the
        user's tags. Tags on artists the user never listened to stay. Always decided against
        the data as loaded, so chained calls give the same result as one call.
        """
        if not sp.issparse(interactions):
            raise TypeError("interactions must be a scipy.sparse matrix")
        if interactions.shape != self.interactions.shape:
            raise ValueError(
                f"interactions shape {interactions.shape} != dataset shape {self.interactions.shape}"
            )
        new = sp.csr_matrix(interactions, dtype=np.float32, copy=True)  # never mutate input
        new.eliminate_zeros()
        new.sum_duplicates()
        new.sort_indices()
        if new.nnz and (new.data.min() < 0 or not np.all(np.isfinite(new.data))):
            raise ValueError("interactions must be finite and non-negative")
        source = (
            self.source_interactions if self.source_interactions is not None else self.interactions
        )
        ta = (
            self.source_tag_assignments
            if self.source_tag_assignments is not None
            else self.tag_assignments
        )
        u = ta["user_index"].to_numpy()
        a = ta["artist_index"].to_numpy()
        keep = np.ones(len(ta), dtype=bool)
        valid = a >= 0
        if valid.any():
            was_listened = np.asarray(source[u[valid], a[valid]]).ravel() > 0
            still = np.asarray(new[u[valid], a[valid]]).ravel() > 0
            keep[np.flatnonzero(valid)[was_listened & ~still]] = False
        return dataclasses.replace(
            self,
            interactions=new,
            tag_assignments=ta[keep].reset_index(drop=True),
            source_interactions=source,
            source_tag_assignments=ta,
            _artist_tags=None,
        )

    def summary(self) -> dict[str, int]:
        """The HetRec readme's statistics, computed from this dataset."""
        fr = self.friends
        return {
            "users": self.n_users,
            "artists": self.n_artists,
            "user_artist_pairs": int(self.interactions.nnz),
            "tags": self.n_tags,
            "tag_assignments": int(len(self.tag_assignments)),
            "friend_relations": int(sp.triu(fr, k=1).nnz),
            "friend_pairs_directed": int(fr.nnz),
        }
