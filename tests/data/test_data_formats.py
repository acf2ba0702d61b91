"""Last.fm-360K and generic (CSV / Parquet) formats behind load_dataset, with their quirks."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import artistrec.data.fingerprint as fingerprint_mod
from artistrec.data import DataError, MissingDataError, detect_format, load_dataset
from artistrec.data.dataset import Dataset
from artistrec.data.synthetic import PRESETS, SyntheticSpec, generate
from artistrec.data.tabular import MAX_MALFORMED_ALWAYS_SKIPPED

PLAYS = "usersha1-artmbid-artname-plays.tsv"
PROFILE = "usersha1-profile.tsv"
U1, U2, U3 = "a" * 40, "b" * 40, "c" * 40
M_BJORK = "87c5dedd-371d-4a53-9f7f-80522fb7f3cb"
M_RED1 = "11111111-1111-1111-1111-111111111111"
M_RED2 = "22222222-2222-2222-2222-222222222222"


def _write(directory: Path, files: dict[str, str | bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (directory / name).write_bytes(data)
    return directory


def _load(directory: Path) -> Dataset:
    return load_dataset(directory, use_cache=False, download=False)


def _plays(ds: Dataset, user_key: str, artist_name: str) -> float:
    u = int(np.flatnonzero(ds.user_keys == user_key)[0])
    a = int(np.flatnonzero(ds.artist_names == artist_name)[0])
    return float(ds.interactions[u, a])


#: Users U1..U3; Björk with an MBID on one row and without on others ("björk " spelled
#: differently); "Name Only" never has an MBID; "Red" is the name of two MBID artists.
TSV = (
    f"{U2}\t{M_BJORK}\tBjörk\t100\n"
    f"{U1}\t{M_BJORK}\tBjörk\t10\n"
    f"{U1}\t\tbjörk \t5\n"  # same artist without MBID: summed with the line above
    f"{U3}\t\tBjörk\t7\n"  # only ever without MBID for this user: still Björk
    f"{U1}\t\tName Only\t3\n"
    f"{U2}\t\tname only\t4\n"
    f"{U1}\t{M_RED1}\tRed\t1\n"
    f"{U2}\t{M_RED2.upper()}\tRed\t2\n"  # MBIDs compare case-insensitively
    f"{U3}\t\tRed\t9\n"  # two MBID artists are called Red: cannot be attributed
    f"{U3}\t{M_RED1}\tRed\t6\n"
    f"{U3}\t{M_RED1}\tRed\t6\n"  # an exact duplicate row: summed
)


def test_lastfm360k_artist_identity_and_sums(tmp_path: Path) -> None:
    ds = _load(_write(tmp_path / "d", {PLAYS: TSV}))
    assert ds.format == "lastfm360k" and detect_format(tmp_path / "d") == "lastfm360k"
    # users get ids 1..n in sorted sha1 order
    assert ds.user_ids.tolist() == [1, 2, 3]
    assert ds.user_keys.tolist() == [U1, U2, U3]
    assert sorted(ds.artist_names.tolist()) == ["Björk", "Name Only", "Red", "Red", "Red"]
    assert ds.artist_ids.tolist() == [1, 2, 3, 4, 5]
    assert _plays(ds, U1, "Björk") == 15  # with and without MBID, summed
    assert _plays(ds, U3, "Björk") == 7
    assert _plays(ds, U2, "Name Only") == 4  # names compare case-insensitively
    keys = ds.artist_keys.tolist()
    assert keys == sorted(keys)  # ids follow the sorted keys
    assert f"mbid:{M_BJORK}" in keys and "name:name only" in keys and "name:red" in keys
    bjork = ds.artists.loc[ds.artists["name"] == "Björk"].iloc[0]
    assert bjork["mbid"] == M_BJORK
    assert bjork["url"] == "https://www.last.fm/music/Bj%C3%B6rk"
    name_red = int(np.flatnonzero(ds.artist_keys == "name:red")[0])
    u3 = int(np.flatnonzero(ds.user_keys == U3)[0])
    assert ds.interactions[u3, name_red] == 9
    red1 = int(np.flatnonzero(ds.artist_keys == f"mbid:{M_RED1}")[0])
    assert ds.interactions[u3, red1] == 12  # the duplicate row is summed
    assert ds.artists.loc[red1, "mbid"] == M_RED1
    findings = " | ".join(ds.findings)
    assert "2 duplicate (user, artist) row(s) summed" in findings
    assert "2 row(s) without an MBID were matched" in findings
    assert "1 artist name(s) without an MBID are shared by several MBID artists" in findings


def test_lastfm360k_same_file_same_ids(tmp_path: Path) -> None:
    a = _load(_write(tmp_path / "a", {PLAYS: TSV}))
    b = _load(_write(tmp_path / "b", {PLAYS: "".join(reversed(TSV.splitlines(True)))}))
    assert a.artist_keys.tolist() == b.artist_keys.tolist()
    assert a.user_keys.tolist() == b.user_keys.tolist()
    assert (a.interactions != b.interactions).nnz == 0


def _valid_lines(n: int) -> list[str]:
    return [f"{i:040x}\t\tArtist {i % 7}\t{i + 1}\n" for i in range(n)]


def test_malformed_lines_under_the_threshold_are_skipped_and_reported(tmp_path: Path) -> None:
    lines = _valid_lines(300)
    lines.insert(2, "\n")  # blank lines are ignored (line 3)
    lines.insert(3, "\r\n")  # line 4
    lines.insert(9, f"{U1}\tonly three\tfields\n")  # line 10
    lines.insert(20, f"{U1}\t\tX\tlots\n")  # line 21
    lines.insert(30, f"{U1}\t\tX\t0\n")  # line 31
    ds = _load(_write(tmp_path / "d", {PLAYS: "".join(lines)}))
    assert ds.interactions.nnz == 300
    (finding,) = [f for f in ds.findings if "malformed" in f]
    assert finding.startswith(
        f"{PLAYS}: 3 malformed lines skipped (1 without 4 tab-separated fields, "
        "1 with plays that are not a whole number, 1 with zero or negative plays), e.g. line 10:"
    )
    assert "line 21: " in finding and "line 31: " in finding and "lots" in finding


def test_a_few_malformed_lines_in_a_small_file_are_not_fatal(tmp_path: Path) -> None:
    lines = _valid_lines(20) + [f"{U1}\t\tX\tnone\n"] * MAX_MALFORMED_ALWAYS_SKIPPED
    ds = _load(_write(tmp_path / "d", {PLAYS: "".join(lines)}))
    assert ds.interactions.nnz == 20
    assert any("10 malformed lines skipped" in f for f in ds.findings)


def test_malformed_lines_over_the_threshold_are_fatal(tmp_path: Path) -> None:
    n_bad = MAX_MALFORMED_ALWAYS_SKIPPED + 1  # 11 of 111 lines: over 1% and over 10
    lines = _valid_lines(100) + [f"{U1}\t\tX\t-{i + 1}\n" for i in range(n_bad)]
    with pytest.raises(
        DataError,
        match=rf"^{PLAYS}: {n_bad} of {100 + n_bad} lines .* are malformed, more than the 1% a Last.fm-360K plays file may have",
    ):
        _load(_write(tmp_path / "d", {PLAYS: "".join(lines)}))


def test_bom_crlf_and_a_latin1_line(tmp_path: Path) -> None:
    raw = (
        b"\xef\xbb\xbf"
        + TSV.replace("\n", "\r\n").encode()
        + f"{U1}\t\tMot".encode()
        + "örhead\t3\r\n".encode("latin-1")
    )
    ds = _load(_write(tmp_path / "d", {PLAYS: raw}))
    assert ds.user_keys.tolist() == [U1, U2, U3]  # no BOM in the first key
    assert "Motörhead" in ds.artist_names.tolist() and "Björk" in ds.artist_names.tolist()
    assert f"{PLAYS}: 1 line is not UTF-8 and was read as latin-1: line 12" in ds.findings


def test_profiles_optional_and_empty_fields(tmp_path: Path) -> None:
    d = _write(tmp_path / "d", {PLAYS: TSV})
    assert not _load(d).has_profiles  # a missing profile file is fine
    _write(
        d,
        {
            PROFILE: (
                f"{U1}\tf\t22\tGermany\tFeb 1, 2007\n"
                f"{U2}\t\t\t\t\n"
                f"{'d' * 40}\tm\t30\tPoland\tMar 3, 2006\n"  # no listening data
                f"{U1}\tm\t99\tSpain\tJan 1, 2005\n"  # repeated: first row wins
            )
        },
    )
    ds = _load(d)
    assert ds.has_profiles
    prof = ds.user_profiles.set_index("id")
    assert prof.loc[1, "gender"] == "f" and prof.loc[1, "age"] == 22
    assert prof.loc[1, "country"] == "Germany"
    assert prof.loc[1, "signup"] == pd.Timestamp("2007-02-01")
    assert prof.loc[2, "gender"] == "" and np.isnan(prof.loc[2, "age"])
    assert pd.isna(prof.loc[3, "signup"])  # U3 has no profile row
    assert f"{PROFILE}: 1 profile row(s) of users without listening data ignored" in ds.findings
    assert f"{PROFILE}: 1 repeated profile row(s) ignored (first one kept)" in ds.findings


def test_no_tags_no_friends_everything_still_works(tmp_path: Path) -> None:
    ds = _load(_write(tmp_path / "d", {PLAYS: TSV}))
    assert not ds.has_tags and not ds.has_friends
    assert ds.parts == {"tags": False, "friends": False, "profiles": False}
    assert ds.artist_tags.shape == (ds.n_artists, 0) and ds.artist_tags.dtype == np.float32
    assert ds.friends.shape == (ds.n_users, ds.n_users) and ds.friends.nnz == 0
    assert ds.top_tags(0) == []
    known = ds.known_artists()
    assert known.shape == ds.interactions.shape and known.nnz == ds.interactions.nnz
    held = ds.interactions.copy()
    held.data[0] = 0
    smaller = ds.with_interactions(held)
    assert smaller.interactions.nnz == ds.interactions.nnz - 1
    assert smaller.summary()["tags"] == 0 and smaller.summary()["friend_relations"] == 0
    assert ds.tag_assignments.empty and list(ds.tag_assignments.columns)[:3] == [
        "user_id",
        "artist_id",
        "tag_id",
    ]


def test_lastfm360k_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import artistrec.data as data_mod

    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(tmp_path / "cache"))
    d = _write(tmp_path / "d", {PLAYS: TSV, PROFILE: f"{U1}\tf\t22\tGermany\tFeb 1, 2007\n"})
    fresh = load_dataset(d)

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again despite a valid cache")

    monkeypatch.setattr(data_mod, "read_raw", boom)
    cached = load_dataset(d)
    assert cached.format == "lastfm360k" and cached.fingerprint == fresh.fingerprint
    assert (cached.interactions != fresh.interactions).nnz == 0
    assert cached.user_keys.tolist() == fresh.user_keys.tolist()
    assert cached.artist_keys.tolist() == fresh.artist_keys.tolist()
    pd.testing.assert_frame_equal(cached.artists, fresh.artists)
    pd.testing.assert_frame_equal(cached.user_profiles, fresh.user_profiles)
    assert cached.findings == fresh.findings
    assert cached.artist_tags.shape == (cached.n_artists, 0)


# ----------------------------------------------------------------------------- generic
def test_generic_csv_with_ids_and_artists_file(tmp_path: Path) -> None:
    d = _write(
        tmp_path / "g",
        {
            "interactions.csv": "\ufeffUser, Artist ,plays,when\n"  # BOM, spacing, case, extra
            "10,7,5,2020\n\n10,9,3,2021\n12,7,2,2020\n10,7,4,2022\n",
            "artists.csv": 'artist,name,genre\n7,"Crosby, Stills & Nash",folk\n9,Björk,x\n11,Nobody,y\n',
        },
    )
    ds = _load(d)
    assert ds.format == "generic"
    assert ds.user_ids.tolist() == [10, 12]  # whole numbers are the ids
    assert ds.artist_ids.tolist() == [7, 9, 11]  # 11 has no listeners but is in artists.csv
    assert ds.artist_names.tolist() == ["Crosby, Stills & Nash", "Björk", "Nobody"]
    assert ds.interactions[0, 0] == 9  # duplicate rows summed
    assert "interactions.csv: 1 duplicate (user, artist) line(s) summed" in ds.findings


def test_generic_csv_with_names_and_string_users(tmp_path: Path) -> None:
    d = _write(
        tmp_path / "g",
        {
            "interactions.csv": "user,artist,plays\nann,Björk,5\nbob,björk,2\nann,Guns N' Roses,1\n"
            "bob,,3\nann,Sigur Rós,1.5\n",
        },
    )
    ds = _load(d)
    assert ds.user_keys.tolist() == ["ann", "bob"] and ds.user_ids.tolist() == [1, 2]
    assert sorted(ds.artist_names.tolist()) == ["Björk", "Guns N' Roses"]
    assert _plays(ds, "bob", "Björk") == 2
    (finding,) = [f for f in ds.findings if "malformed" in f]
    assert "2 malformed lines skipped" in finding and "line 6: 'ann,Sigur Rós,1.5'" in finding


def test_generic_names_without_artists_file_get_lastfm_urls(tmp_path: Path) -> None:
    d = _write(tmp_path / "g", {"interactions.csv": "user,artist,plays\n1,AC/DC,3\n"})
    ds = _load(d)
    assert ds.artists["url"].tolist() == ["https://www.last.fm/music/AC%2FDC"]


def test_generic_ids_without_names_are_shown_by_id(tmp_path: Path) -> None:
    ds = _load(_write(tmp_path / "g", {"interactions.csv": "user,artist,plays\n1,5,3\n"}))
    assert ds.artist_names.tolist() == ["5"]
    assert any("1 artist id(s) have no name (no artists.csv)" in f for f in ds.findings)


@pytest.mark.parametrize("as_strings", [False, True], ids=["int-columns", "string-columns"])
def test_generic_parquet(tmp_path: Path, as_strings: bool) -> None:
    d = tmp_path / "p"
    d.mkdir()
    users, artists = [3, 3, 4], [8, 9, 8]
    table = pa.table(
        {
            "user": [str(u) for u in users] if as_strings else users,
            "artist": [str(a) for a in artists] if as_strings else artists,
            "plays": [5, 6, 0],
        }
    )
    pq.write_table(table, d / "interactions.parquet")
    _write(d, {"artists.csv": "artist,name\n8,Eight\n9,Nine\n"})
    ds = _load(d)
    assert ds.user_ids.tolist() == [3] and ds.artist_ids.tolist() == [8, 9]
    assert ds.artist_names.tolist() == ["Eight", "Nine"]
    assert any("1 malformed row skipped" in f and "row 3" in f for f in ds.findings)


def test_csv_and_parquet_load_the_same(tmp_path: Path) -> None:
    frame = pd.DataFrame({"user": [1, 1, 2], "artist": ["A", "B", "A"], "plays": [3, 4, 5]})
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    frame.to_csv(a / "interactions.csv", index=False)
    frame.to_parquet(b / "interactions.parquet", index=False)
    x, y = _load(a), _load(b)
    assert (x.interactions != y.interactions).nnz == 0
    assert x.artist_names.tolist() == y.artist_names.tolist() == ["A", "B"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"interactions.csv": "user,artist,count\n1,2,3\n"},
            r"^interactions\.csv: missing column\(s\) plays; the header is 'user,artist,count'",
        ),
        (
            {"interactions.csv": "user,artist,plays\n1,2,3\n", "interactions.parquet": b"x"},
            r"holds both interactions\.csv and interactions\.parquet",
        ),
        ({"interactions.csv": "user,artist,plays\n"}, r"header but no data lines"),
        ({"interactions.parquet": b"not parquet"}, r"not a readable Parquet file"),
    ],
    ids=["missing-column", "both-files", "header-only", "bad-parquet"],
)
def test_generic_errors(tmp_path: Path, files: dict[str, str | bytes], message: str) -> None:
    with pytest.raises(DataError, match=message):
        _load(_write(tmp_path / "g", files))


def test_unknown_directory_names_every_format(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    with pytest.raises(
        MissingDataError,
        match=r"no data set found in .*HetRec 2011 files.*usersha1-artmbid-artname-plays\.tsv.*interactions\.csv",
    ):
        _load(tmp_path / "e")


# ----------------------------------------------------------------------------- hashing
def test_large_files_are_hashed_once_then_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fingerprint_mod, "FULL_HASH_LIMIT", 10)
    calls: list[Path] = []
    real = fingerprint_mod.sha256_file

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(fingerprint_mod, "sha256_file", counting)
    f = tmp_path / "big.tsv"
    f.write_bytes(b"x" * 5000)
    index = tmp_path / "idx.json"
    first = fingerprint_mod.file_hash(f, index)
    assert fingerprint_mod.file_hash(f, index) == first and len(calls) == 1
    f.write_bytes(b"y" + b"x" * 4999)  # same size, new content and mtime: hashed again
    second = fingerprint_mod.file_hash(f, index)
    assert second != first and len(calls) == 2
    st = f.stat()
    f.write_bytes(b"z" + b"x" * 4999)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: samples differ
    assert fingerprint_mod.file_hash(f, index) != second and len(calls) == 3


# ----------------------------------------------------------------------------- synthetic
def test_presets_have_the_published_shapes() -> None:
    assert (PRESETS["hetrec"].n_users, PRESETS["hetrec"].n_artists) == (1892, 17632)
    assert (PRESETS["10x"].n_users, PRESETS["10x"].n_artists) == (18920, 176320)
    assert (PRESETS["100x"].n_users, PRESETS["100x"].n_artists) == (189200, 1763200)
    assert PRESETS["lastfm360k"].n_users == 359347


def test_synthetic_lastfm360k_format_loads_with_its_quirks(tmp_path: Path) -> None:
    spec = SyntheticSpec(
        n_users=80,
        n_artists=300,
        seed=2,
        no_mbid_share=0.2,
        mixed_mbid_share=0.3,
        malformed_lines=3,
        user_activity_sigma=1.0,
    )
    d = generate(tmp_path / "s", spec, format="lastfm360k")
    hetrec = load_dataset(generate(tmp_path / "h", spec), use_cache=False)
    ds = _load(d)
    assert ds.format == "lastfm360k" and ds.has_profiles
    assert ds.n_users == 80
    # the same listens as the HetRec-format output of the same spec (artists with listeners)
    assert ds.interactions.nnz == hetrec.interactions.nnz
    assert ds.n_artists == int((hetrec.artist_listeners() > 0).sum())
    assert np.isclose(ds.interactions.sum(), hetrec.interactions.sum())
    assert (ds.artists["mbid"] == "").sum() > 0  # name-identified artists
    assert any("3 malformed lines skipped" in f for f in ds.findings)
    assert any("without an MBID were matched" in f for f in ds.findings)


def test_synthetic_generic_format_loads(tmp_path: Path) -> None:
    spec = SyntheticSpec(n_users=40, n_artists=100, seed=3)
    ds = _load(generate(tmp_path / "g", spec, format="generic"))
    hetrec = load_dataset(generate(tmp_path / "h", spec), use_cache=False)
    assert ds.format == "generic"
    np.testing.assert_array_equal(ds.user_ids, hetrec.user_ids)
    np.testing.assert_array_equal(ds.artist_ids, hetrec.artist_ids)
    assert ds.artist_names.tolist() == hetrec.artist_names.tolist()
    assert (ds.interactions != hetrec.interactions).nnz == 0


def test_parquet_names_with_line_breaks_and_dotted_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name with a newline (possible in Parquet) stays one line of text, so the cache
    round-trips; a user called "v1.0" is not mistaken for the number 1."""
    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(tmp_path / "cache"))
    d = tmp_path / "p"
    d.mkdir()
    pq.write_table(
        pa.table({"user": ["v1.0", "v2"], "artist": ["Two\nLines", "Solo"], "plays": [1, 2]}),
        d / "interactions.parquet",
    )
    fresh = load_dataset(d)
    assert fresh.user_keys.tolist() == ["v1.0", "v2"]
    assert sorted(fresh.artist_names.tolist()) == ["Solo", "Two Lines"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached = load_dataset(d)
    assert cached.artist_names.tolist() == fresh.artist_names.tolist()


def test_lastfm_urls_match_urllib() -> None:
    import urllib.parse

    from artistrec.data.lastfm360k import LASTFM_URL, lastfm_urls

    names = [
        "Björk",
        "AC/DC",
        "Guns N' Roses",
        '"Weird Al" Yankovic',
        "소녀시대",
        "a+b~c_d.e-f",
        "x  y",
    ]
    assert lastfm_urls(np.asarray(names + [""], dtype=object)).tolist() == [
        LASTFM_URL + urllib.parse.quote_plus(n) for n in names
    ] + [""]
