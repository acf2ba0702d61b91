"""One artist-name matcher for search, "did you mean", name resolution and history import.

Every interface (CLI, API, web app, listening-history import) asks the same :class:`NameIndex`,
built once per data set from the artist names and their popularity (listener counts):

- :func:`fold_name` is the comparison key: compatibility-normalised (full-width ``ＲＥＤ`` ->
  ``red``), Latin diacritics dropped (``Björk`` -> ``bjork``), case-folded, ``&`` read as
  ``and``, a ``$`` inside a word read as ``s`` (``Ke$ha``), apostrophes and dots deleted
  (``R.E.M.`` -> ``rem``, ``Guns N' Roses`` -> ``guns n roses``) and every other punctuation
  mark a word break (``Jay-Z`` -> ``jay z``). Each name is also indexed by its *compact* key
  (the folded key without spaces: ``jayz``), its transliteration into Latin letters
  (``소녀시대`` -> ``sonyeosidae``, ``Ария`` -> ``ariya``, ``MØ`` -> ``mo``) and, for names
  starting with "The", the key without it.
- Transliteration uses ``anyascii`` rather than ``unidecode``: anyascii is ISC-licensed (the
  project is MIT; unidecode is GPL), covers more scripts, and romanises Hangul syllable by
  syllable (``sonyeosidae``, the spelling fans type) where unidecode's tables are older.
- Fuzzy matching scores candidates with rapidfuzz's normalised Indel similarity over the compact
  keys. Candidates come from a character-trigram inverted index (postings in popularity order),
  and at most :data:`POSTINGS_BUDGET` postings and :data:`MAX_CANDIDATES` candidates are looked at
  per query, so one query costs the same on 17K or 160K names. A fuzzy score blends spelling and
  popularity (:data:`POPULARITY_WEIGHT`): a one-letter slip of a famous name (``eminen``) beats a
  literal prefix of an obscure one (``Eminence Symphony Orchestra``).

Indices are positions in the ``names`` sequence the index was built from (a data set's artist
column indices); the index holds no artist ids and knows nothing of models or the service.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from anyascii import anyascii
from rapidfuzz import fuzz, process

MatchKind = Literal["exact", "folded", "fuzzy", "mbid"]

#: Share of a fuzzy score that comes from popularity (log listeners / log max listeners).
POPULARITY_WEIGHT = 0.15
#: A fuzzy hit at or above this score is what a typed name means (:meth:`NameIndex.resolve`).
RESOLVE_SCORE = 80.0
#: A fuzzy hit at or above this score is offered as "did you mean" (:meth:`NameIndex.suggest`).
SUGGEST_SCORE = 60.0
#: Queries are cut to this many characters for fuzzy and substring matching (exact and folded
#: lookups always use the whole text); no artist name in HetRec is longer than 114.
MAX_QUERY_CHARS = 300
#: At most this many postings (name, trigram) pairs are counted per query, rarest trigrams
#: first; a posting list longer than the budget is cut to its most popular names.
POSTINGS_BUDGET = 20_000
#: At most this many names (most shared trigrams, then most popular) are scored per query.
MAX_CANDIDATES = 256

# Search tiers: the match quality of a non-fuzzy hit, blended with popularity like fuzzy scores.
_PREFIX_QUALITY = 90.0
_WORD_QUALITY = 86.0
_SUBSTRING_QUALITY = 76.0

_DIACRITICS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_DELETED = re.compile("[.'`\u00b4\u2018\u2019\u02bc\u2032]")
_DOLLAR = re.compile(r"(?<=\w)\$|\$(?=\w)")
_SEPARATORS = re.compile(r"[\W_]+")
_BOS, _EOS = "\x02", "\x03"  # trigram padding: marks where a compact key starts and ends


def fold_name(text: str) -> str:
    """The comparison key of an artist name (see the module docstring); ``""`` for blank text.

    Only marks from the combining-diacritics blocks are dropped, so Hangul syllables and kana
    voicing marks survive (the text is recomposed after the marks are removed). A name made
    only of punctuation (``!!!``) keeps its punctuation rather than folding to nothing.
    """
    s = str(text)
    if not s.isascii():
        s = unicodedata.normalize("NFC", _DIACRITICS.sub("", unicodedata.normalize("NFKD", s)))
    s = s.casefold()
    s = _DELETED.sub("", _DOLLAR.sub("s", s.replace("&", " and ")))
    out = " ".join(_SEPARATORS.sub(" ", s).split())
    if out:
        return out
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def _compact(key: str) -> str:
    return key.replace(" ", "")


def _transliterated(text: str, folded: str) -> str:
    """The folded Latin transliteration of ``text`` ("" when it adds nothing)."""
    if folded.isascii():
        return ""
    t = fold_name(anyascii(unicodedata.normalize("NFKC", str(text))))
    return "" if t == folded else t


def _name_keys(text: str) -> tuple[str, str, list[str]]:
    """(folded key, folded transliteration or "", compact keys: the name's own first, then
    the transliterated one and the ones without a leading "the")."""
    f = fold_name(text)
    t = _transliterated(text, f)
    spaced = [f, t] if t else [f]
    for k in list(spaced):
        if k.startswith("the ") and len(k) > 4:
            spaced.append(k[4:])
    compacts = list(dict.fromkeys(_compact(k) for k in spaced if k))
    return f, t, compacts


def _trigram_codes(keys: Sequence[str], padded: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(code, key position) of every character trigram of ``keys``, vectorised.

    A trigram's code packs its three code points (21 bits each) into one int64; ``padded``
    adds start and end marks so the first and last letters weigh like the middle ones.
    """
    if padded:
        keys = [_BOS + k + _EOS for k in keys]
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    cps = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    m = np.maximum(lengths - 2, 0)  # trigrams per key
    starts = np.cumsum(lengths) - lengths
    pos = np.repeat(starts - np.cumsum(m) + m, m) + np.arange(int(m.sum()), dtype=np.int64)
    codes = (cps[pos] << 42) | (cps[pos + 1] << 21) | cps[pos + 2]
    return codes, np.repeat(np.arange(len(keys), dtype=np.int64), m)


@dataclass(frozen=True)
class Match:
    """What a typed name was taken to mean.

    ``kind`` says how: ``exact`` (same spelling), ``folded`` (equal after folding case, accents,
    punctuation or script, or without a leading "The"), ``mbid`` (same MusicBrainz id) or
    ``fuzzy`` (close spelling). ``score`` is 100 for the first three; for ``fuzzy`` it is the
    spelling similarity (0-100) blended with the artist's popularity (:data:`POPULARITY_WEIGHT`).
    """

    index: int
    kind: MatchKind
    score: float
    query: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "score": self.score, "query": self.query}


class NameIndex:
    """Search, resolve and suggest artist names (build once per data set with :meth:`build`).

    Read-only after :meth:`build`, so one index can serve concurrent requests (threads).
    """

    def __init__(self) -> None:
        self._n = 0  # state is set by build(); an unbuilt index matches nothing

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(
        cls,
        names: Sequence[str],
        popularity: npt.ArrayLike,
        mbids: Sequence[str | None] | None = None,
    ) -> NameIndex:
        """Index ``names`` (position = index) with ``popularity`` (e.g. listeners, >= 0).

        ``mbids`` (MusicBrainz ids, ``None``/"" where unknown) lets :meth:`resolve_many` match
        by id when the query side has ids too.
        """
        names = [str(n) for n in names]
        pop = np.asarray(popularity, dtype=np.float64).ravel()
        if pop.shape != (len(names),):
            raise ValueError(f"popularity has {pop.size} values for {len(names)} names")
        if pop.size and (not np.all(np.isfinite(pop)) or pop.min() < 0):
            raise ValueError("popularity must be finite and non-negative")
        if mbids is not None and len(mbids) != len(names):
            raise ValueError(f"mbids has {len(mbids)} values for {len(names)} names")
        self = cls()
        n = len(names)
        self._n = n
        self._names = names
        # rank = position in popularity order (most listened first, ties by index); every
        # internal array is in rank order so "first" means "most popular"
        order = np.argsort(-pop, kind="stable").astype(np.int64)
        self._order = order
        logp = np.log1p(pop)
        top = float(logp.max(initial=0.0))
        self._pop = (logp[order] / top if top > 0 else np.zeros(n)).astype(np.float32)

        # one row per (compact key, name): the name's own key first, then its aliases
        key_text: list[str] = []
        key_rank: list[int] = []
        key_primary: list[bool] = []
        word_text: list[str] = []  # non-initial word suffixes ("n roses", "roses")
        word_rank: list[int] = []
        for rank, idx in enumerate(order.tolist()):
            f, t, compacts = _name_keys(names[idx])
            key_text.extend(compacts)
            key_rank.extend([rank] * len(compacts))
            key_primary.append(True)
            key_primary.extend([False] * (len(compacts) - 1))
            for k in (f, t) if t else (f,):
                words = k.split(" ")
                for i in range(1, len(words)):
                    word_text.append(" ".join(words[i:]))
                    word_rank.append(rank)
        rank_of = np.empty(n, dtype=np.int64)
        rank_of[order] = np.arange(n)
        self._rank = rank_of
        ranks = np.asarray(key_rank, dtype=np.int64)
        primary = np.asarray(key_primary, dtype=bool)
        # compact key -> most popular index (dict() keeps the LAST value, so feed it reversed)
        own = np.flatnonzero(primary)[::-1]
        self._primary: dict[str, int] = dict(
            zip([key_text[i] for i in own], order[ranks[own]].tolist(), strict=True)
        )
        self._any: dict[str, int] = dict(
            zip(reversed(key_text), order[ranks[::-1]].tolist(), strict=True)
        )
        self._fuzzy_keys = np.asarray(key_text, dtype=object)
        self._fuzzy_owner = ranks
        # keys of rank r: _fuzzy_keys[_key_ptr[r]:_key_ptr[r + 1]] (ranks are ascending)
        self._key_ptr = np.concatenate([[0], np.cumsum(np.bincount(ranks, minlength=n))])

        # sorted prefix table: whole compact keys and word suffixes, for bisect
        text = key_text + word_text
        by = np.asarray(sorted(range(len(text)), key=text.__getitem__), dtype=np.int64)
        self._prefix_text = [text[i] for i in by.tolist()]
        self._prefix_rank = np.concatenate([ranks, np.asarray(word_rank, np.int64)])[by]
        whole = np.concatenate([np.ones(ranks.size, bool), np.zeros(len(word_text), bool)])
        self._prefix_whole = whole[by]

        # trigram postings over the padded compact keys: for trigram g (codes sorted in
        # _gram_codes), the names having it are _post[_post_ptr[g]:_post_ptr[g + 1]], by rank
        codes, key_pos = _trigram_codes(key_text)
        owner = ranks[key_pos]
        by = np.lexsort((owner, codes))
        codes, owner = codes[by], owner[by]
        keep = np.ones(codes.size, dtype=bool)
        keep[1:] = (codes[1:] != codes[:-1]) | (owner[1:] != owner[:-1])
        codes, owner = codes[keep], owner[keep]
        first = np.ones(codes.size, dtype=bool)
        first[1:] = codes[1:] != codes[:-1]
        self._gram_codes = codes[first]
        self._post = owner.astype(np.int32)
        self._post_ptr = np.r_[np.flatnonzero(first), codes.size].astype(np.int64)

        self._mbid: dict[str, int] = {}
        if mbids is not None:
            for idx in order.tolist():
                m = mbids[idx]
                if isinstance(m, str) and m.strip():
                    self._mbid.setdefault(m.strip().lower(), idx)
        return self

    @classmethod
    def from_dataset(cls, dataset: Any) -> NameIndex:
        """The index of a :class:`artistrec.data.Dataset`'s artists (listeners as popularity;
        the ``mbid`` column of ``dataset.artists`` when the data set has one)."""
        artists = dataset.artists
        mbids = None
        if "mbid" in artists.columns:
            mbids = [m if isinstance(m, str) else None for m in artists["mbid"].tolist()]
        return cls.build(dataset.artist_names, dataset.artist_listeners(), mbids)

    def __len__(self) -> int:
        return self._n

    @property
    def has_mbids(self) -> bool:
        """Whether any indexed artist has a MusicBrainz id."""
        return bool(self._n and self._mbid)

    # ------------------------------------------------------------------ exact lookups
    def _lookup(self, query: str) -> Match | None:
        """Folded equality (case, accents, punctuation, spacing, width), the most listened of
        the names that fold alike ("Red" for "ＲＥＤ"); else a transliteration or "the"-less
        alias. ``exact`` when the chosen name is spelled as typed; None when nothing is equal."""
        if len(query) > 4 * MAX_QUERY_CHARS:
            return None  # longer than any name: not worth folding
        _, _, compacts = _name_keys(query)
        if not compacts:
            return None
        hits = [self._primary[k] for k in compacts[:1] if k in self._primary]
        if not hits:
            hits = [self._any[k] for k in compacts if k in self._any]
        if not hits:
            return None
        idx = self._best_ranked(hits)
        kind: MatchKind = "exact" if self._names[idx] == query else "folded"
        return Match(idx, kind, 100.0, query)

    def _best_ranked(self, indices: list[int]) -> int:
        """The most popular of some indices."""
        if len(indices) == 1:
            return indices[0]
        return min(indices, key=lambda i: self._rank[i])

    # ------------------------------------------------------------------ fuzzy core
    def _query_compacts(self, query: str) -> list[str]:
        q = query[:MAX_QUERY_CHARS]
        f = fold_name(q)
        out = [_compact(f)] if f else []
        t = _transliterated(q, f)
        if t:
            out.append(_compact(t))
        return [c for c in out if c]

    def _candidates(self, compacts: list[str]) -> np.ndarray:
        """Ranks of the names sharing the most trigrams with the query (bounded work)."""
        gids = self._gram_ids(compacts, padded=True)
        if gids.size == 0:
            return np.empty(0, dtype=np.int64)
        ptr = self._post_ptr
        ids = gids[np.argsort(ptr[gids + 1] - ptr[gids], kind="stable")].tolist()  # rarest first
        parts, used = [], 0
        for g in ids:
            lo, hi = int(ptr[g]), int(ptr[g + 1])
            take = min(hi - lo, POSTINGS_BUDGET - used)
            if take <= 0:
                break
            parts.append(self._post[lo : lo + take])  # postings are in popularity order
            used += take
        counts = np.bincount(np.concatenate(parts), minlength=self._n)
        cand = np.flatnonzero(counts)
        if cand.size > MAX_CANDIDATES:
            # most shared trigrams first, then most popular (lower rank)
            key = counts[cand].astype(np.int64) * (self._n + 1) - cand
            cand = cand[np.argpartition(-key, MAX_CANDIDATES - 1)[:MAX_CANDIDATES]]
        return cand

    def _fuzzy(self, query: str, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """(ranks, blended scores) of fuzzy hits >= ``min_score``, best first."""
        compacts = self._query_compacts(query)
        cand = self._candidates(compacts)
        if cand.size == 0:
            return cand, np.empty(0, dtype=np.float32)
        # every fuzzy key of every candidate (a name has 1-6 keys)
        pos = self._key_positions(cand)
        sims = process.cdist(
            compacts, self._fuzzy_keys[pos].tolist(), scorer=fuzz.ratio, dtype=np.float32
        ).max(axis=0)
        owner = self._fuzzy_owner[pos]
        best = np.zeros(self._n, dtype=np.float32)
        np.maximum.at(best, owner, sims)
        ranks = np.unique(owner)
        w = POPULARITY_WEIGHT
        scores = (1.0 - w) * best[ranks] + 100.0 * w * self._pop[ranks]
        keep = scores >= min_score
        ranks, scores = ranks[keep], scores[keep]
        order = np.lexsort((ranks, -scores))
        return ranks[order], scores[order].astype(np.float32)

    def _gram_ids(self, compacts: Sequence[str], padded: bool) -> np.ndarray:
        """Distinct ids of the query trigrams that occur in the index."""
        codes, _ = _trigram_codes(compacts, padded)
        codes = np.unique(codes)
        at = np.minimum(np.searchsorted(self._gram_codes, codes), self._gram_codes.size - 1)
        return at[self._gram_codes[at] == codes] if self._gram_codes.size else at[:0]

    def _key_positions(self, ranks: np.ndarray) -> np.ndarray:
        """Positions in ``_fuzzy_keys`` of every key of the names at ``ranks``."""
        lo, hi = self._key_ptr[ranks], self._key_ptr[ranks + 1]
        lengths = hi - lo
        starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        return starts + np.arange(int(lengths.sum()))

    # ------------------------------------------------------------------ public API
    def lookup(self, query: str) -> Match | None:
        """The artist a typed name means WITHOUT guessing: the name as spelled or folded alike
        (the most listened of those), or a transliteration / "the"-less alias; None otherwise
        (no fuzzy matching: a near miss is for :meth:`suggest`)."""
        if not self._n or not isinstance(query, str):
            return None
        return self._lookup(query)

    def resolve(self, query: str, min_score: float = RESOLVE_SCORE) -> Match | None:
        """The artist a typed name means, or None.

        Names that fold alike (case, accents, punctuation, spacing, full-width letters) are
        one spelling, and the most listened of them is meant: "ＲＥＤ" and "red" both mean
        "Red" (kind ``exact`` when that name is spelled as typed, else ``folded``). Then a
        transliteration or "the"-less alias (``folded``), then the best fuzzy hit whose blended
        score is at least ``min_score``.
        """
        if not self._n or not isinstance(query, str):
            return None
        hit = self._lookup(query)
        if hit is not None:
            return hit
        ranks, scores = self._fuzzy(query, min_score)
        if ranks.size == 0:
            return None
        return Match(int(self._order[ranks[0]]), "fuzzy", round(float(scores[0]), 1), query)

    def suggest(self, query: str, n: int = 5) -> list[int]:
        """ "Did you mean": up to ``n`` indices of names close to ``query``, best first.

        Close spellings (blended score >= :data:`SUGGEST_SCORE`) come first, then names that
        start with or contain the query; names that fold alike appear once (the most
        listened); empty when nothing reasonable is close.
        """
        if not self._n or not isinstance(query, str) or n < 1:
            return []
        out: list[int] = []
        hit = self._lookup(query)
        if hit is not None:
            out.append(hit.index)
        ranks, _ = self._fuzzy(query, SUGGEST_SCORE)
        out.extend(int(i) for i in self._order[ranks[: n + 1]])
        if len(out) < n and len(_compact(fold_name(query[:MAX_QUERY_CHARS]))) >= 3:
            out.extend(i for i, _ in self._literal_hits(query, n))
        # one suggestion per spelling: "Britney Spears⊼" is no second guess after "Britney Spears"
        by_key: dict[str, int] = {}
        for i in out:
            by_key.setdefault(self._fuzzy_keys[self._key_ptr[self._rank[i]]], i)
        return list(by_key.values())[:n]

    def search(self, query: str, limit: int = 20) -> list[tuple[int, float]]:
        """Type-ahead: (index, score) of names matching ``query``, best first.

        Names that fold to the query (score 100, most listened first) come first; then prefix
        hits (of the name or of any word), names containing the query and, when those are
        fewer than ``limit``, fuzzy hits, ranked together by match quality blended with
        popularity. An empty query lists the most listened artists.
        """
        if not self._n or not isinstance(query, str) or limit < 1:
            return []
        _, _, compacts = _name_keys(query[:MAX_QUERY_CHARS])
        if not compacts:
            return [(int(i), 0.0) for i in self._order[:limit]]
        scored: dict[int, float] = {}
        literal = self._literal_hits(query, limit)
        for idx, s in literal:
            scored[idx] = max(scored.get(idx, 0.0), s)
        if len(literal) < limit:
            ranks, scores = self._fuzzy(query, SUGGEST_SCORE)
            for r, s in zip(ranks[:limit].tolist(), scores[:limit].tolist(), strict=True):
                idx = int(self._order[r])
                scored[idx] = max(scored.get(idx, 0.0), float(s))
        for idx in self._equal(compacts):
            scored[idx] = 100.0
        items = sorted(scored.items(), key=lambda kv: (-kv[1], self._rank[kv[0]]))
        return [(i, round(s, 1)) for i, s in items[:limit]]

    def _equal(self, compacts: list[str]) -> list[int]:
        """Indices of every name with a key equal to the query's own compact key (else to one
        of its aliases), most popular first."""
        for keys in (compacts[:1], compacts[1:]):
            ranks: list[int] = []
            for k in keys:
                lo = bisect.bisect_left(self._prefix_text, k)
                hi = bisect.bisect_right(self._prefix_text, k, lo)
                r = self._prefix_rank[lo:hi]
                ranks.extend(r[self._prefix_whole[lo:hi]].tolist())
            if ranks:
                return [int(self._order[r]) for r in sorted(set(ranks))]
        return []

    def _literal_hits(self, query: str, limit: int) -> list[tuple[int, float]]:
        """Prefix, word-prefix and substring hits with their blended scores (top ``limit`` each)."""
        q = query[:MAX_QUERY_CHARS]
        f = fold_name(q)
        if not f:
            return []
        t = _transliterated(q, f)
        keys = {f, _compact(f)} | ({t, _compact(t)} if t else set())
        whole = np.zeros(self._n, dtype=bool)
        word = np.zeros(self._n, dtype=bool)
        for k in keys:
            lo = bisect.bisect_left(self._prefix_text, k)
            hi = bisect.bisect_left(self._prefix_text, k + "\U0010ffff", lo)
            r = self._prefix_rank[lo:hi]
            w = self._prefix_whole[lo:hi]
            whole[r[w]] = True
            word[r[~w]] = True
        word &= ~whole
        sub = np.zeros(self._n, dtype=bool)
        compacts = {_compact(k) for k in keys}
        for c in compacts:
            if len(c) < 3:
                continue
            n_grams = np.unique(_trigram_codes([c], padded=False)[0]).size
            gids = self._gram_ids([c], padded=False)
            if gids.size < n_grams:  # a trigram no name has: no name contains the query
                continue
            ptr = self._post_ptr
            gids = gids[np.argsort(ptr[gids + 1] - ptr[gids], kind="stable")].tolist()
            cand = self._post[ptr[gids[0]] : ptr[gids[0] + 1]]
            for g in gids[1:]:  # intersect: binary search of the (shrinking) candidates
                if cand.size == 0:
                    break
                post = self._post[ptr[g] : ptr[g + 1]]
                at = np.minimum(np.searchsorted(post, cand), post.size - 1)
                cand = cand[post[at] == cand]
            sub[cand] = True
        sub &= ~(whole | word)
        out: list[tuple[int, float]] = []
        w = POPULARITY_WEIGHT
        for mask, quality, verify in (
            (whole, _PREFIX_QUALITY, False),
            (word, _WORD_QUALITY, False),
            (sub, _SUBSTRING_QUALITY, True),
        ):
            ranks = np.flatnonzero(mask)  # rank order: most popular first
            if verify:  # trigram hits are rarely false; look a bounded way further
                ranks = np.array(
                    [r for r in ranks[: 8 * limit].tolist() if self._contains(r, compacts)],
                    dtype=np.int64,
                )
            ranks = ranks[:limit]
            scores = (1.0 - w) * quality + 100.0 * w * self._pop[ranks].astype(np.float64)
            out.extend(zip(self._order[ranks].tolist(), scores.tolist(), strict=True))
        return out

    def _contains(self, rank: int, compacts: set[str]) -> bool:
        """Whether a name's compact keys contain one of ``compacts`` (trigram hits can be false)."""
        keys = self._fuzzy_keys[self._key_ptr[rank] : self._key_ptr[rank + 1]]
        return any(c in k for k in keys for c in compacts)

    def resolve_many(
        self,
        names: Sequence[str],
        mbids: Sequence[str | None] | None = None,
        min_score: float = RESOLVE_SCORE,
        fuzzy: bool = True,
    ) -> list[Match | None]:
        """:meth:`resolve` for many names at once; MBIDs first where both sides have them.

        MBID, exact and folded matches are dictionary lookups (one pass, no per-name search);
        only the names left over get a fuzzy search (none with ``fuzzy=False``), each distinct
        name once.
        """
        if mbids is not None and len(mbids) != len(names):
            raise ValueError(f"mbids has {len(mbids)} values for {len(names)} names")
        out: list[Match | None] = [None] * len(names)
        if not self._n:
            return out
        use_mbids = mbids is not None and bool(self._mbid)
        memo: dict[str, Match | None] = {}
        for i, raw in enumerate(names):
            name = "" if raw is None else str(raw)
            if use_mbids:
                m = mbids[i]  # type: ignore[index]
                idx = self._mbid.get(m.strip().lower()) if isinstance(m, str) else None
                if idx is not None:
                    out[i] = Match(idx, "mbid", 100.0, name)
                    continue
            if name not in memo:
                memo[name] = self._lookup(name)
            out[i] = memo[name]
        if not fuzzy:
            return out
        fuzzy_memo: dict[str, Match | None] = {}
        for i, raw in enumerate(names):
            if out[i] is not None:
                continue
            name = "" if raw is None else str(raw)
            if name not in fuzzy_memo:
                ranks, scores = self._fuzzy(name, min_score)
                fuzzy_memo[name] = (
                    Match(int(self._order[ranks[0]]), "fuzzy", round(float(scores[0]), 1), name)
                    if ranks.size
                    else None
                )
            out[i] = fuzzy_memo[name]
        return out

    def name(self, index: int) -> str:
        """The indexed name at ``index``."""
        return self._names[int(index)]
