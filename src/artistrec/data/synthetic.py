"""Synthetic HetRec-format data at any size, for tests and scale benchmarks.

Writes the same six files as GroupLens (``artists.dat`` UTF-8 with accented and quoted names,
``tags.dat`` latin-1, the rest ASCII), with power-law artist popularity, listen counts spanning
all five levels, genre structure that models can learn (users prefer a few genres; tags follow
genres; friends mostly share a genre), and the real data's quirks: non-contiguous ids,
per-user top-``max_per_user`` truncation, and a few tag assignments of artist ids that are not
in ``artists.dat``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SyntheticSpec:
    """Size and shape of a synthetic data set."""

    n_users: int = 200
    n_artists: int = 500
    n_tags: int = 60
    n_genres: int = 8
    max_per_user: int = 50
    mean_per_user: float = 30.0
    tags_per_user: float = 15.0
    friends_per_user: float = 4.0
    dangling_tag_artists: int = 3
    seed: int = 0


_NAME_PARTS = [
    "Blue",
    "Titãs",
    "Röyksopp",
    "Sigur",
    "Björk",
    "Metal",
    "Echo",
    "Ñu",
    "Café",
    "Night",
]


def _write(path: Path, header: str, rows: list[str], encoding: str) -> None:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))


def generate(
    directory: str | os.PathLike[str], spec: SyntheticSpec | None = None, **kw: int
) -> Path:
    """Write a synthetic data set into ``directory`` (created) and return it."""
    spec = spec or SyntheticSpec(**kw)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    nu, na, nt, ng = spec.n_users, spec.n_artists, spec.n_tags, spec.n_genres

    # Non-contiguous ids, as in the real data.
    artist_ids = np.sort(rng.choice(np.arange(1, na * 2 + 10), size=na, replace=False))
    user_ids = np.sort(rng.choice(np.arange(2, nu * 2 + 10), size=nu, replace=False))
    tag_ids = np.sort(rng.choice(np.arange(1, nt * 2 + 10), size=nt, replace=False))

    artist_genre = rng.integers(0, ng, size=na)
    popularity = 1.0 / np.arange(1, na + 1) ** 0.9  # Zipf-like
    popularity = popularity[rng.permutation(na)]
    user_genres = rng.integers(0, ng, size=(nu, 2))

    # Listens: each user samples artists weighted by popularity x genre affinity.
    sizes = np.clip(rng.poisson(spec.mean_per_user, size=nu), 3, None)
    rows, cols = [], []
    for u in range(nu):  # per-user sampling without replacement; sizes are small
        affinity = np.where(np.isin(artist_genre, user_genres[u]), 6.0, 1.0)
        p = popularity * affinity
        n = min(int(sizes[u]), na)
        chosen = rng.choice(na, size=n, replace=False, p=p / p.sum())
        rows.append(np.full(n, u))
        cols.append(chosen)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    # Listen counts: heavy-tailed, with all five levels present.
    counts = np.maximum(1, np.round(np.exp(rng.normal(5.5, 1.8, size=r.size)))).astype(np.int64)
    counts[rng.random(r.size) < 0.02] = 1
    counts[rng.random(r.size) < 0.01] = rng.integers(50_001, 200_000)
    # Truncate each user's list to their top max_per_user artists by count.
    order = np.lexsort((-counts, r))
    r, c, counts = r[order], c[order], counts[order]
    rank = np.arange(r.size) - np.searchsorted(r, r)
    keep = rank < spec.max_per_user
    r, c, counts = r[keep], c[keep], counts[keep]

    names = [
        f"{_NAME_PARTS[i % len(_NAME_PARTS)]} {i}" if i % 7 else f'"Quoted" Artist {i}'
        for i in range(na)
    ]
    _write(
        out / "artists.dat",
        "id\tname\turl\tpictureURL",
        [
            f"{artist_ids[i]}\t{names[i]}\thttp://www.last.fm/music/a{artist_ids[i]}\t"
            f"http://userserve-ak.last.fm/serve/252/{artist_ids[i]}.jpg"
            for i in range(na)
        ],
        "utf-8",
    )
    tag_names = [f"genre{t % ng}{'é' if t % 5 == 0 else ''} {t}" for t in range(nt)]
    _write(
        out / "tags.dat",
        "tagID\ttagValue",
        [f"{tag_ids[t]}\t{tag_names[t]}" for t in range(nt)],
        "latin-1",
    )
    _write(
        out / "user_artists.dat",
        "userID\tartistID\tweight",
        [f"{u}\t{a}\t{w}" for u, a, w in zip(user_ids[r], artist_ids[c], counts, strict=True)],
        "ascii",
    )

    # Friends: mostly within a shared genre.
    n_pairs = int(nu * spec.friends_per_user / 2)
    a = rng.integers(0, nu, size=n_pairs * 3)
    b = rng.integers(0, nu, size=n_pairs * 3)
    same = user_genres[a, 0] == user_genres[b, 0]
    ok = (a != b) & (same | (rng.random(a.size) < 0.2))
    a, b = a[ok][:n_pairs], b[ok][:n_pairs]
    pairs = np.unique(np.sort(np.stack([a, b], axis=1), axis=1), axis=0)
    both = np.concatenate([pairs, pairs[:, ::-1]])
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    _write(
        out / "user_friends.dat",
        "userID\tfriendID",
        [f"{user_ids[x]}\t{user_ids[y]}" for x, y in both],
        "ascii",
    )

    # Tag assignments: users tag artists (mostly ones they listen to) with genre tags.
    n_ta = int(nu * spec.tags_per_user)
    pick = rng.integers(0, r.size, size=n_ta)
    ta_u, ta_a = r[pick], c[pick]
    genre_tags = [np.flatnonzero(np.arange(nt) % ng == g) for g in range(ng)]
    ta_t = np.array(
        [rng.choice(genre_tags[g]) if len(genre_tags[g]) else 0 for g in artist_genre[ta_a]]
    )
    ta_artist_ids = artist_ids[ta_a]
    if spec.dangling_tag_artists:
        dangling = np.arange(1, spec.dangling_tag_artists + 1) + artist_ids.max()
        ta_artist_ids[: spec.dangling_tag_artists] = dangling
    trip = np.unique(np.stack([user_ids[ta_u], ta_artist_ids, tag_ids[ta_t]], axis=1), axis=0)
    day = rng.integers(1, 29, size=len(trip))
    month = rng.integers(1, 13, size=len(trip))
    year = rng.integers(2005, 2012, size=len(trip))
    _write(
        out / "user_taggedartists.dat",
        "userID\tartistID\ttagID\tday\tmonth\tyear",
        [
            f"{x}\t{y}\t{z}\t{d}\t{m}\t{yy}"
            for (x, y, z), d, m, yy in zip(trip, day, month, year, strict=True)
        ],
        "ascii",
    )
    return out
