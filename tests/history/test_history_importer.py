"""Importing a history: plays summed, artists matched (and how), levels, the result's shape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from artistrec.data.names import NameIndex
from artistrec.history import (
    EmptyHistoryError,
    HistoryImport,
    HistoryImporter,
    samples,
)

CATALOGUE = {  # name -> (artist id, listeners)
    "Metallica": (289, 220),
    "Björk": (111, 170),
    "Guns N' Roses": (55, 160),
    "R.E.M.": (4, 96),
    "Eminem": (475, 200),
    "Red": (900, 24),
    "ＲＥＤ": (901, 1),
    "소녀시대": (1200, 24),
    "Nirvana": (72, 300),
}


@pytest.fixture(scope="module")
def importer() -> HistoryImporter:
    names = list(CATALOGUE)
    ids = [CATALOGUE[n][0] for n in names]
    pop = [CATALOGUE[n][1] for n in names]
    return HistoryImporter(NameIndex.build(names, pop), ids)


def plays_csv(plays: dict[str, int]) -> list[tuple[str, bytes]]:
    return [("plays.csv", samples.plays_table(plays))]


def by_name(result: HistoryImport) -> dict[str, tuple[int, int, str, str]]:
    return {r.name: (r.plays, r.level, r.match, r.query) for r in result.ratings}


def test_matching_kinds_and_summed_plays(importer: HistoryImporter) -> None:
    res = importer.from_files(
        plays_csv(
            {
                "Metallica": 20_000,  # exact
                "metallica": 500,  # same artist, another spelling: summed
                "Bjork": 3,  # folded
                "Guns N Roses": 1,  # folded (punctuation)
                "REM": 1500,  # folded (dots)
                "ＲＥＤ": 7,  # folds like "Red": the most listened Red
                "sonyeosidae": 60_000,  # transliteration
                "Metalica": 2,  # fuzzy, high score: applied
                "Nirvanna": 9,  # fuzzy, high score: applied
                "Emminen": 40,  # fuzzy, lower score: to confirm, not applied
                "Some Unknown Band": 12,
                "some unknown band": 3,  # folds alike: one unmatched entry
                "Another One": 30,
            }
        )
    )
    got = by_name(res)
    assert got["Metallica"] == (20_502, 4, "exact", "Metallica")
    assert got["Björk"] == (3, 2, "folded", "Bjork")
    assert got["Guns N' Roses"] == (1, 1, "folded", "Guns N Roses")
    assert got["R.E.M."] == (1500, 3, "folded", "REM")
    assert got["Red"] == (7, 2, "folded", "ＲＥＤ")
    assert got["소녀시대"] == (60_000, 5, "folded", "sonyeosidae")
    assert got["Nirvana"][2] == "fuzzy"
    assert "Eminem" not in got and "ＲＥＤ" not in got
    [confirm] = res.to_confirm
    assert confirm["name"] == "Emminen" and confirm["artist_name"] == "Eminem"
    assert confirm["artist_id"] == 475 and confirm["plays"] == 40 and confirm["level"] == 2
    assert 70 <= confirm["score"] < 90
    assert res.unmatched == [
        {"name": "Another One", "plays": 30},
        {"name": "Some Unknown Band", "plays": 15},
    ]
    plays = [r.plays for r in res.ratings]
    assert plays == sorted(plays, reverse=True)  # most played first
    fuzzy = [r for r in res.ratings if r.match == "fuzzy"]
    assert all(90 <= r.score < 100 for r in fuzzy)
    assert all(r.score == 100 for r in res.ratings if r.match != "fuzzy")


def test_read_counts_and_json_shape(importer: HistoryImporter) -> None:
    streams = samples.generate_streams(["Metallica", "Bjork", "Nobody Knows"], 300, seed=5)
    res = importer.from_files([("h.json", samples.spotify_extended(streams)[0])])
    d = json.loads(json.dumps(res.to_dict()))  # JSON-serialisable
    assert set(d) == {"read", "matched", "ratings", "unmatched", "to_confirm"}
    expected = streams.plays()
    assert d["read"]["plays"] == sum(expected.values())
    assert d["read"]["artists"] == 3
    assert d["read"]["skipped_rows"] == sum(a is None for a in streams.artist)
    assert d["read"]["short_streams"] > 0
    assert d["read"]["files"] == [{"file": "h.json", "format": "spotify-extended", "rows": 300}]
    assert set(d["ratings"][0]) == {
        "artist_id",
        "name",
        "plays",
        "level",
        "match",
        "query",
        "score",
    }
    assert [r["name"] for r in d["ratings"]] == ["Metallica", "Björk"]
    assert d["unmatched"] == [{"name": "Nobody Knows", "plays": expected["Nobody Knows"]}]
    assert d["matched"] == {
        "artists": 2,
        "plays": expected["Metallica"] + expected["Bjork"],
    }


def test_levels_follow_the_product_scale(importer: HistoryImporter) -> None:
    res = importer.from_files(
        plays_csv({"Metallica": 1, "Björk": 2, "R.E.M.": 1001, "Eminem": 10_001, "Nirvana": 50_001})
    )
    assert {r.name: r.level for r in res.ratings} == {
        "Metallica": 1,
        "Björk": 2,
        "R.E.M.": 3,
        "Eminem": 4,
        "Nirvana": 5,
    }
    assert res.levels_by_id() == {289: 1, 111: 2, 4: 3, 475: 4, 72: 5}


def test_exclusions_cover_matched_and_pending_artists(importer: HistoryImporter) -> None:
    res = importer.from_files(plays_csv({"Metallica": 5, "Emminen": 4, "Unknown": 3}))
    assert res.exclude_ids() == [289, 475]


def test_mbids_match_when_both_sides_have_them() -> None:
    ix = NameIndex.build(["Nirvana", "Nirvana (UK band)"], [300, 2], mbids=["us-id", "uk-id"])
    imp = HistoryImporter(ix, [1, 2])
    csv = (
        "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n"
        "1,x,Nirvana,uk-id,A,,T,\n"
        "2,x,Nirvana,,A,,T,\n"
    )
    res = imp.from_files([("s.csv", csv.encode())])
    # the two rows are one spelling: its first MBID decides
    assert [(r.artist_id, r.match, r.plays) for r in res.ratings] == [(2, "mbid", 2)]


def test_from_entries(importer: HistoryImporter) -> None:
    res = importer.from_entries(
        [
            {"name": "metallica", "plays": 10},
            {"artist_id": 289, "plays": 5},
            {"artist_id": 111, "plays": 2000},
        ]
    )
    got = {r.artist_id: (r.plays, r.level, r.match) for r in res.ratings}
    assert got == {289: (15, 2, "folded"), 111: (2000, 3, "id")}
    assert res.read["plays"] == 2015 and res.read["artists"] == 3  # as read, before matching
    with pytest.raises(ValueError, match="unknown artist id"):
        importer.from_entries([{"artist_id": 999_999, "plays": 1}])
    with pytest.raises(EmptyHistoryError, match="no plays"):
        importer.from_entries([])


def test_a_history_without_plays_is_explained(importer: HistoryImporter) -> None:
    streams = samples.generate_streams(["Metallica"], 50, seed=1, short_share=1.0)
    with pytest.raises(
        EmptyHistoryError, match=r"no plays were found: 50 rows read, .* shorter than 30 s"
    ):
        importer.from_files([("h.json", samples.spotify_extended(streams)[0])])


def test_fuzzy_work_is_bounded(importer: HistoryImporter) -> None:
    imp = HistoryImporter(importer.index, importer.artist_ids, max_fuzzy_names=1)
    res = imp.from_files(plays_csv({"Metalica": 50, "Nirvanna": 2}))
    assert [r.name for r in res.ratings] == ["Metallica"]  # only the most played was searched
    assert res.unmatched == [{"name": "Nirvanna", "plays": 2}]


def test_importer_validates_its_catalogue() -> None:
    ix = NameIndex.build(["A", "B"], [1, 1])
    with pytest.raises(ValueError, match="1 artist ids for an index of 2 names"):
        HistoryImporter(ix, [1])  # wrong count is caught
    with pytest.raises(ValueError, match="confirm_score"):
        HistoryImporter(ix, [1, 2], confirm_score=95, confident_score=90)


def test_from_dataset(synthetic_ds) -> None:  # noqa: ANN001
    imp = HistoryImporter.from_dataset(synthetic_ds)
    name = str(synthetic_ds.artist_names[0])
    res = imp.from_entries([{"name": name.upper(), "plays": 3}])
    assert res.ratings[0].artist_id == int(synthetic_ds.artist_ids[0])
    assert np.array_equal(imp.artist_ids, synthetic_ds.artist_ids)


@pytest.mark.integration
def test_real_catalogue_import(real_ds) -> None:  # noqa: ANN001
    imp = HistoryImporter.from_dataset(real_ds)
    streams = samples.generate_streams(
        ["Guns N Roses", "Bjork", "REM", "Metallica", "Beyonce", "Not A Real Band Xyz"],
        2000,
        seed=2,
    )
    res = imp.from_files([("h.json", samples.spotify_extended(streams)[0])])
    assert {r.name for r in res.ratings} == {
        "Guns N' Roses",
        "Björk",
        "R.E.M.",
        "Metallica",
        "Beyoncé",
    }
    assert [u["name"] for u in res.unmatched] == ["Not A Real Band Xyz"]
