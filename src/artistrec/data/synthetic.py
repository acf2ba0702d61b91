"""Synthetic listening data at any size and in every format the loader reads.

Presets give HetRec's size (1x), 10x and 100x of it, and Last.fm-360K's published size
(:data:`PRESETS`). In the HetRec format it writes the same six files as GroupLens (``artists.dat`` UTF-8 with accented and quoted names,
``tags.dat`` latin-1, the rest ASCII), with power-law artist popularity, listen counts spanning
all five levels, genre structure that models can learn (users prefer a few genres; tags follow
genres; friends mostly share a genre), and the real data's quirks: non-contiguous ids,
per-user top-``max_per_user`` truncation, a few tag assignments of artist ids that are not
in ``artists.dat`` and, optionally (``old_tag_dates``), a few tag dates before 2002. In the
Last.fm-360K format it writes sha1 user keys, MBIDs (some artists without one, some with and
without), heavy-tailed plays, a profile file with empty fields and, optionally, malformed lines;
the generic format is ``interactions.csv`` (user, artist id, plays) and ``artists.csv``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm


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
    old_tag_dates: int = 0
    seed: int = 0
    #: Exponent of the Zipf-like artist popularity (p ~ 1 / rank**exponent).
    popularity_exponent: float = 0.9
    #: Sigma of a log-normal play multiplier per user (0: off): heavy-tailed plays per user.
    user_activity_sigma: float = 0.0
    #: Last.fm-360K format only: share of artists written without an MBID (identified by
    #: name), share of MBID artists that also appear without it on some rows, and the number
    #: of malformed lines mixed into the file (the loader skips and reports them).
    no_mbid_share: float = 0.1
    mixed_mbid_share: float = 0.02
    malformed_lines: int = 0


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


def _ascii_ints(columns: list[np.ndarray]) -> bytes:
    """Non-negative integer columns as tab-separated ASCII lines, built with numpy.

    Digits are written into a (rows x width) byte matrix one digit position at a time (a loop
    over at most 19 positions, never over rows); zero bytes mark padding and are dropped.
    """
    n = int(columns[0].size)
    blocks: list[np.ndarray] = []
    for j, col in enumerate(columns):
        v = np.asarray(col, dtype=np.int64)
        if n and v.min() < 0:
            raise ValueError("only non-negative integers are written")
        width = len(str(int(v.max()))) if n else 1
        ndig = np.ones(n, dtype=np.int64)
        for k in range(1, width):
            ndig += v >= 10**k
        digits = np.empty((n, width), dtype=np.uint8)
        x = v.copy()
        for k in range(width - 1, -1, -1):
            digits[:, k] = 48 + x % 10
            x //= 10
        digits[np.arange(width)[None, :] < (width - ndig)[:, None]] = 0
        blocks.append(digits)
        sep = 10 if j == len(columns) - 1 else 9
        blocks.append(np.full((n, 1), sep, dtype=np.uint8))
    flat = np.concatenate(blocks, axis=1).ravel()
    return flat[flat != 0].tobytes()


def _write_ints(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write a header and integer columns, tab-separated, ASCII."""
    with open(path, "wb") as fh:
        fh.write(("\t".join(columns) + "\n").encode("ascii"))
        fh.write(_ascii_ints(list(columns.values())))


class _Sampler:
    """Draws artists with probability popularity x genre affinity, vectorised over draws.

    p(a | u) is proportional to popularity[a] * (``boost`` if genre[a] is one of u's genres
    else 1), i.e. a mixture of "any artist by popularity" (mass P) and "an artist of genre g by
    popularity" (mass (boost - 1) * P_g) for each of u's genres: pick a component, then invert
    the component's cumulative popularity with ``searchsorted``.
    """

    def __init__(self, popularity: np.ndarray, genre: np.ndarray, n_genres: int, boost: float):
        self.by_genre = np.argsort(genre, kind="stable")
        cum_sorted = np.cumsum(popularity[self.by_genre])
        self.cum_sorted = cum_sorted
        self.cum_all = np.cumsum(popularity)
        counts = np.bincount(genre, minlength=n_genres)
        self.g_end = np.cumsum(counts)
        self.g_start = self.g_end - counts
        before = np.concatenate([[0.0], cum_sorted])
        self.g_base = before[self.g_start]
        self.g_mass = before[self.g_end] - self.g_base
        self.total = float(self.cum_all[-1])
        self.extra = boost - 1.0

    def draw(self, genres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One artist per row of ``genres`` (n, 2): that draw's user's two preferred genres."""
        g1, g2 = genres[:, 0], genres[:, 1]
        w0 = np.full(g1.shape, self.total)
        w1 = self.extra * self.g_mass[g1]
        w2 = np.where(g2 != g1, self.extra * self.g_mass[g2], 0.0)
        pick = rng.random(g1.size) * (w0 + w1 + w2)
        comp_genre = np.where(pick < w0 + w1, g1, g2)
        in_genre = pick >= w0
        r = rng.random(g1.size)
        out = np.empty(g1.size, dtype=np.int64)
        n_all = self.cum_all.size
        out[~in_genre] = np.minimum(
            np.searchsorted(self.cum_all, r[~in_genre] * self.total, side="right"), n_all - 1
        )
        g = comp_genre[in_genre]
        pos = np.searchsorted(
            self.cum_sorted, self.g_base[g] + r[in_genre] * self.g_mass[g], side="right"
        )
        pos = np.clip(pos, self.g_start[g], self.g_end[g] - 1)
        out[in_genre] = self.by_genre[pos]
        return out


def _rank_within(groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of each element within its group, for ``groups`` sorted ascending."""
    starts = np.concatenate([[0], np.cumsum(np.bincount(groups, minlength=n_groups))[:-1]])
    return np.arange(groups.size) - starts[groups]


def _sample_listens(
    sampler: _Sampler,
    user_genres: np.ndarray,
    wanted: np.ndarray,
    n_artists: int,
    rng: np.random.Generator,
    max_rounds: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """Per user ``u``, ``wanted[u]`` distinct artists drawn without replacement (vectorised).

    Drawing with replacement and dropping repeats is exactly sequential sampling without
    replacement; users short of distinct artists draw again (a few rounds at most).
    """
    keys = np.empty(0, dtype=np.int64)  # user * n_artists + artist, first-drawn order per user
    have = np.zeros(wanted.size, dtype=np.int64)
    for _ in range(max_rounds):
        need = wanted - have
        users = np.flatnonzero(need > 0)
        if users.size == 0:
            break
        n_draw = np.ceil(need[users] * 1.3).astype(np.int64) + 2
        du = np.repeat(users, n_draw)
        da = sampler.draw(user_genres[du], rng)
        keys = np.concatenate([keys, du * n_artists + da])
        _, first = np.unique(keys, return_index=True)
        first.sort()  # keep draw order: earlier draws win
        keys = keys[first]
        keys = keys[np.argsort(keys // n_artists, kind="stable")]
        u = keys // n_artists
        rank = _rank_within(u, wanted.size)
        keys = keys[rank < wanted[u]]
        have = np.bincount(keys // n_artists, minlength=wanted.size)
    return keys // n_artists, keys % n_artists


def _artist_names(n: int) -> list[str]:
    """Synthetic artist names: accented parts, and every 7th a literal ``"Quoted"`` name."""
    parts = _NAME_PARTS
    return [f"{parts[i % len(parts)]} {i}" if i % 7 else f'"Quoted" Artist {i}' for i in range(n)]


@dataclass(frozen=True)
class Listens:
    """The sampled listening data every output format is written from (indices, not ids)."""

    user_ids: np.ndarray  # original (non-contiguous) user ids, HetRec style
    artist_ids: np.ndarray
    tag_ids: np.ndarray
    artist_genre: np.ndarray
    user_genres: np.ndarray
    rows: np.ndarray  # user index per pair, sorted; within a user by plays, descending
    cols: np.ndarray  # artist index per pair
    plays: np.ndarray  # int64 play count per pair


def sample_listens(spec: SyntheticSpec, rng: np.random.Generator) -> Listens:
    """Draw the user-artist pairs and play counts of ``spec`` (vectorised)."""
    nu, na, nt, ng = spec.n_users, spec.n_artists, spec.n_tags, spec.n_genres
    # Non-contiguous ids, as in the real data.
    artist_ids = np.sort(rng.choice(na * 2 + 9, size=na, replace=False) + 1)
    user_ids = np.sort(rng.choice(nu * 2 + 8, size=nu, replace=False) + 2)
    tag_ids = np.sort(rng.choice(nt * 2 + 9, size=nt, replace=False) + 1)

    artist_genre = rng.integers(0, ng, size=na)
    popularity = 1.0 / np.arange(1, na + 1) ** spec.popularity_exponent  # Zipf-like
    popularity = popularity[rng.permutation(na)]
    user_genres = rng.integers(0, ng, size=(nu, 2))

    # Listens: each user samples artists weighted by popularity x genre affinity.
    sizes = np.minimum(np.clip(rng.poisson(spec.mean_per_user, size=nu), 3, None), na)
    sampler = _Sampler(popularity, artist_genre, ng, boost=6.0)
    r, c = _sample_listens(sampler, user_genres, sizes.astype(np.int64), na, rng)
    # Listen counts: heavy-tailed, with all five levels present.
    counts = np.maximum(1, np.round(np.exp(rng.normal(5.5, 1.8, size=r.size)))).astype(np.int64)
    counts[rng.random(r.size) < 0.02] = 1
    huge = rng.random(r.size) < 0.01
    counts[huge] = rng.integers(50_001, 200_000, size=int(huge.sum()))
    # Truncate each user's list to their top max_per_user artists by count.
    order = np.lexsort((-counts, r))
    r, c, counts = r[order], c[order], counts[order]
    rank = _rank_within(r, nu)
    keep = rank < spec.max_per_user
    r, c, counts = r[keep], c[keep], counts[keep]
    if spec.user_activity_sigma > 0:
        # Heavy users play everything more: a log-normal factor per user gives the
        # heavy-tailed plays per user of the real data (order within a user is unchanged).
        factor = rng.lognormal(0.0, spec.user_activity_sigma, size=nu)
        counts = np.maximum(1, np.round(counts * factor[r])).astype(np.int64)
    return Listens(user_ids, artist_ids, tag_ids, artist_genre, user_genres, r, c, counts)


#: Data-set shapes by name: HetRec's own size (``hetrec`` = ``1x``), 10x and 100x of it for the
#: scale benchmark, and the published size of Last.fm-360K (359,347 users, ~160K artists with
#: an MBID, ~17.5M user-artist pairs: about 49 artists per user, each user's top 50).
PRESETS: dict[str, SyntheticSpec] = {
    "hetrec": SyntheticSpec(n_users=1_892, n_artists=17_632, n_tags=11_755),
    "1x": SyntheticSpec(n_users=1_892, n_artists=17_632, n_tags=11_755),
    "10x": SyntheticSpec(n_users=18_920, n_artists=176_320, n_tags=117_547),
    "100x": SyntheticSpec(n_users=189_200, n_artists=1_763_200, n_tags=1_175_467),
    "lastfm360k": SyntheticSpec(
        n_users=359_347,
        n_artists=160_000,
        n_tags=20_000,
        n_genres=40,
        mean_per_user=54.0,
        user_activity_sigma=1.0,
        no_mbid_share=0.12,
        mixed_mbid_share=0.03,
        malformed_lines=25,
    ),
}

#: Output formats of :func:`generate` (the loader reads all three).
FORMATS = ("hetrec", "lastfm360k", "generic")


def generate(
    directory: str | os.PathLike[str],
    spec: SyntheticSpec | None = None,
    *,
    format: str = "hetrec",  # noqa: A002 - the CLI option's name
    progress: bool = False,
    **kw: int,
) -> Path:
    """Write a synthetic data set into ``directory`` (created) and return it.

    ``format`` is ``"hetrec"`` (the six GroupLens files), ``"lastfm360k"``
    (``usersha1-artmbid-artname-plays.tsv`` + ``usersha1-profile.tsv``) or ``"generic"``
    (``interactions.csv`` + ``artists.csv``). The same spec and seed give the same listens in
    every format. Vectorised throughout: the 360K-size preset takes well under a minute.
    """
    spec = spec or SyntheticSpec(**kw)
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if min(spec.n_users, spec.n_artists, spec.n_tags, spec.n_genres) < 1:
        raise ValueError("n_users, n_artists, n_tags and n_genres must all be at least 1")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    steps = 6 if format == "hetrec" else 3
    with tqdm(total=steps, desc="synthetic data", unit="step", disable=not progress) as bar:
        listens = sample_listens(spec, rng)
        bar.update()
        if format == "hetrec":
            _write_hetrec(out, spec, listens, rng, bar)
        elif format == "lastfm360k":
            _write_lastfm360k(out, spec, listens, bar)
        else:
            _write_generic(out, listens, bar)
    return out


def _write_hetrec(
    out: Path, spec: SyntheticSpec, listens: Listens, rng: np.random.Generator, bar: tqdm
) -> None:
    nu, nt, ng = spec.n_users, spec.n_tags, spec.n_genres
    user_ids, artist_ids, tag_ids = listens.user_ids, listens.artist_ids, listens.tag_ids
    r, c, counts = listens.rows, listens.cols, listens.plays
    user_genres, artist_genre = listens.user_genres, listens.artist_genre
    names = _artist_names(artist_ids.size)
    _write(
        out / "artists.dat",
        "id\tname\turl\tpictureURL",
        [
            f"{a}\t{name}\thttp://www.last.fm/music/a{a}\t"
            f"http://userserve-ak.last.fm/serve/252/{a}.jpg"
            for a, name in zip(artist_ids.tolist(), names, strict=True)
        ],
        "utf-8",
    )
    tag_names = [f"genre{t % ng}{'é' if t % 5 == 0 else ''} {t}" for t in range(nt)]
    _write(
        out / "tags.dat",
        "tagID\ttagValue",
        [f"{tid}\t{name}" for tid, name in zip(tag_ids.tolist(), tag_names, strict=True)],
        "latin-1",
    )
    bar.update()
    _write_ints(
        out / "user_artists.dat",
        {"userID": user_ids[r], "artistID": artist_ids[c], "weight": counts},
    )
    bar.update()

    # Friends: mostly within a shared genre.
    n_pairs = int(nu * spec.friends_per_user / 2)
    a = rng.integers(0, nu, size=n_pairs * 3)
    b = rng.integers(0, nu, size=n_pairs * 3)
    same = user_genres[a, 0] == user_genres[b, 0]
    ok = (a != b) & (same | (rng.random(a.size) < 0.2))
    a, b = a[ok][:n_pairs], b[ok][:n_pairs]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pair_keys = np.unique(lo * nu + hi)
    lo, hi = pair_keys // nu, pair_keys % nu
    x, y = np.concatenate([lo, hi]), np.concatenate([hi, lo])
    order = np.lexsort((y, x))
    _write_ints(
        out / "user_friends.dat", {"userID": user_ids[x[order]], "friendID": user_ids[y[order]]}
    )
    bar.update()

    # Tag assignments: users tag artists they listen to with tags of the artist's genre.
    n_ta = int(nu * spec.tags_per_user)
    pick = rng.integers(0, r.size, size=n_ta)
    ta_u, ta_a = r[pick], c[pick]
    g = artist_genre[ta_a]
    per_genre = (nt - np.arange(ng) + ng - 1) // ng  # tags t with t % ng == g
    n_g = per_genre[g]
    ta_t = np.where(n_g > 0, g + ng * np.floor(rng.random(n_ta) * np.maximum(n_g, 1)), 0)
    ta_t = ta_t.astype(np.int64)
    ta_artist_ids = artist_ids[ta_a]
    n_dangling = min(spec.dangling_tag_artists, n_ta)
    if n_dangling:
        ta_artist_ids[:n_dangling] = np.arange(1, n_dangling + 1) + artist_ids.max()
    trip = np.unique(np.stack([user_ids[ta_u], ta_artist_ids, tag_ids[ta_t]], axis=1), axis=0)
    day = rng.integers(1, 29, size=len(trip))
    month = rng.integers(1, 13, size=len(trip))
    year = rng.integers(2005, 2012, size=len(trip))
    n_old = min(spec.old_tag_dates, len(trip))
    if n_old:  # the real data has a few implausible dates (1956, 1957, 1979)
        year[rng.choice(len(trip), size=n_old, replace=False)] = rng.integers(1950, 1980, n_old)
    bar.update()
    _write_ints(
        out / "user_taggedartists.dat",
        {
            "userID": trip[:, 0],
            "artistID": trip[:, 1],
            "tagID": trip[:, 2],
            "day": day,
            "month": month,
            "year": year,
        },
    )
    bar.update()


# ----------------------------------------------------------------------------- other formats
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MONTHS = np.asarray(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)
_COUNTRIES = np.asarray(
    [
        "United States",
        "Germany",
        "United Kingdom",
        "Poland",
        "Brazil",
        "Russian Federation",
        "Sweden",
        "Spain",
        "Finland",
        "Japan",
        "Côte D'Ivoire",
        "Åland Islands",
    ]
)


def _hex_keys(
    rng: np.random.Generator, n: int, n_bytes: int, dashes: tuple[int, ...] = ()
) -> pa.Array:
    """``n`` random lowercase hex strings of ``n_bytes`` bytes (sha1: 20; UUID: 16 + dashes)."""
    raw = rng.integers(0, 256, size=(n, n_bytes), dtype=np.uint8)
    digits = np.empty((n, 2 * n_bytes), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    for pos in sorted(dashes, reverse=True):
        digits = np.insert(digits, pos, ord("-"), axis=1)
    width = digits.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits.tobytes()))


def _write_lines(path: Path, columns: list[pa.Array], mode: str = "wb") -> None:
    """Write string columns tab-separated, one line per row, unquoted (as Last.fm-360K is)."""
    with open(path, mode) as fh:
        step = 1 << 20  # rows per chunk: bounds the memory of the joined lines
        n = len(columns[0])
        for lo in range(0, n, step):
            part = [col.slice(lo, step) for col in columns]
            last = pc.binary_join_element_wise(part[-1], pa.scalar(""), "\n")
            lines = pc.binary_join_element_wise(*part[:-1], last, "\t")
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
                lines.offset : lines.offset + len(lines) + 1
            ]
            fh.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])


def _write_lastfm360k(out: Path, spec: SyntheticSpec, listens: Listens, bar: tqdm) -> None:
    """``usersha1-artmbid-artname-plays.tsv`` and ``usersha1-profile.tsv`` (no header, no quoting)."""
    rng = np.random.default_rng([spec.seed, 360])
    nu, na = listens.user_ids.size, listens.artist_ids.size
    r, c = listens.rows, listens.cols
    sha1 = _hex_keys(rng, nu, 20)
    mbid = _hex_keys(rng, na, 16, dashes=(8, 12, 16, 20))
    no_mbid = rng.random(na) < spec.no_mbid_share
    mixed = ~no_mbid & (rng.random(na) < spec.mixed_mbid_share)
    names = pa.array(_artist_names(na), type=pa.string())
    row_mbid = mbid.take(pa.array(c))
    # Artists without an MBID, and some rows of "mixed" artists, leave the field empty.
    drop = no_mbid[c] | (mixed[c] & (rng.random(r.size) < 0.3))
    row_mbid = pc.if_else(pa.array(drop), pa.scalar(""), row_mbid)
    columns = [
        sha1.take(pa.array(r)),
        row_mbid,
        names.take(pa.array(c)),
        pc.cast(pa.array(listens.plays), pa.string()),
    ]
    path = out / "usersha1-artmbid-artname-plays.tsv"
    _write_lines(path, columns)
    if spec.malformed_lines:
        k = spec.malformed_lines
        bad_user = sha1.take(pa.array(rng.integers(0, nu, size=k)))
        kinds = np.arange(k) % 3  # too few fields / non-numeric plays / zero plays
        texts = [
            f"{u}\tonly three\tfields"
            if kind == 0
            else f"{u}\t\tSome Artist\t{'many' if kind == 1 else 0}"
            for u, kind in zip(bad_user.to_pylist(), kinds.tolist(), strict=True)
        ]
        with open(path, "ab") as fh:
            fh.write(("\n".join(texts) + "\n").encode())
    bar.update()

    gender = np.asarray(["m", "f", ""])[rng.choice(3, size=nu, p=[0.6, 0.25, 0.15])]
    age = rng.integers(15, 70, size=nu).astype(str).astype(object)
    age[rng.random(nu) < 0.2] = ""
    country = _COUNTRIES[rng.integers(0, _COUNTRIES.size, size=nu)].astype(object)
    country[rng.random(nu) < 0.05] = ""
    day = rng.integers(1, 29, size=nu).astype(str)
    year = rng.integers(2002, 2010, size=nu).astype(str)
    signup = (pd.Series(_MONTHS[rng.integers(0, 12, size=nu)]) + " " + day + ", " + year).to_numpy(
        object
    )
    signup[rng.random(nu) < 0.02] = ""
    _write_lines(
        out / "usersha1-profile.tsv",
        [
            sha1,
            pa.array(gender),
            pa.array(age, pa.string()),
            pa.array(country, pa.string()),
            pa.array(signup, pa.string()),
        ],
    )
    bar.update()


def _write_generic(out: Path, listens: Listens, bar: tqdm) -> None:
    """``interactions.csv`` (user id, artist id, plays) and ``artists.csv`` (artist, name)."""
    r, c = listens.rows, listens.cols
    pd.DataFrame(
        {
            "user": listens.user_ids[r],
            "artist": listens.artist_ids[c],
            "plays": listens.plays,
        }
    ).to_csv(out / "interactions.csv", index=False)
    bar.update()
    pd.DataFrame(
        {"artist": listens.artist_ids, "name": _artist_names(listens.artist_ids.size)}
    ).to_csv(out / "artists.csv", index=False)
    bar.update()
