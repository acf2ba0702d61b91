"""Validation: every malformed input gets a specific error; findings are counted, not fatal."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hetrec_fixtures import MINI, write_mini

from artistrec.data import DataError, Dataset, MissingDataError, load_dataset
from artistrec.data.loader import REQUIRED_FILES


def _load(tmp_path: Path, overrides: dict[str, str | bytes | None]) -> Dataset:
    return load_dataset(write_mini(tmp_path / "bad", overrides), use_cache=False, download=False)


def _replace(name: str, old: str, new: str) -> dict[str, str | bytes | None]:
    assert old in MINI[name], old
    return {name: MINI[name].replace(old, new, 1)}


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_missing_file_is_named(tmp_path: Path, name: str) -> None:
    with pytest.raises(MissingDataError, match=rf"missing file\(s\) in .*: {re.escape(name)}$"):
        _load(tmp_path, {name: None})


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(
        MissingDataError,
        match=r"data directory .*nowhere \(given by --data-dir / data_dir\) does not exist",
    ):
        load_dataset(tmp_path / "nowhere", download=False)


def _drop_pictures() -> dict[str, str | bytes | None]:
    text = "".join(
        "\t".join(line.split("\t")[:3]) + "\n" for line in MINI["artists.dat"].splitlines()
    )
    return {"artists.dat": text}


def _colour_column() -> dict[str, str | bytes | None]:
    text = "".join(line + "\tx\n" for line in MINI["tags.dat"].splitlines())
    return {"tags.dat": text.replace("tagValue\tx", "tagValue\tcolour", 1)}


def _append(name: str, text: str) -> dict[str, str | bytes | None]:
    return {name: MINI[name] + text}


#: (id, files that differ from MINI, the error the loader must raise). One row per rule the
#: loader enforces; each message names the file, the problem, counts and example lines.
INVALID_CASES: list[tuple[str, dict[str, str | bytes | None], str]] = [
    (
        "missing-column",
        _drop_pictures(),
        r"^artists\.dat: missing column\(s\) pictureURL; header is 'id\\tname\\turl'",
    ),
    ("extra-column", _colour_column(), r"^tags\.dat: unexpected column\(s\) colour;"),
    (
        "columns-out-of-order",
        _replace("user_friends.dat", "userID\tfriendID", "friendID\tuserID"),
        r"user_friends\.dat: columns out of order",
    ),
    (
        "non-integer-id",
        _replace("user_artists.dat", "4\t1\t1\n", "x4\t1\t1\n"),
        r"^user_artists\.dat: column 'userID' has 1 non-integer value\(s\), e\.g\. 'x4' on line\(s\) 4$",
    ),
    (
        "non-integer-weight",
        _replace("user_artists.dat", "4\t1\t1\n", "4\t1\t1.5\n"),
        r"column 'weight' has 1 non-integer value\(s\), e\.g\. '1\.5'",
    ),
    (
        "negative-weight",
        _replace("user_artists.dat", "2\t3\t20000", "2\t3\t-20000"),
        r"^user_artists\.dat: listen counts \(weight\) must be positive, found 0 zero and 1 negative weight\(s\), e\.g\. line\(s\) 3$",
    ),
    (
        "zero-weight",
        _replace("user_artists.dat", "2\t1\t500", "2\t1\t0"),
        r"found 1 zero and 0 negative weight\(s\), e\.g\. line\(s\) 2$",
    ),
    (
        "negative-id",
        _replace("artists.dat", "5\tBjörk", "-5\tBjörk"),
        r"^artists\.dat: column 'id' has 1 negative id\(s\), e\.g\. -5",
    ),
    (
        "duplicate-user-artist",
        _append("user_artists.dat", "2\t1\t7\n"),
        r"^user_artists\.dat: 1 duplicate \(user, artist\) row\(s\), e\.g\. line 7: userID=2, artistID=1$",
    ),
    (
        "duplicate-artist-id",
        _append("artists.dat", "5\tBjork again\thttp://x\thttp://y\n"),
        r"^artists\.dat: 1 duplicate artist id row\(s\)",
    ),
    (
        "unknown-artist-in-listens",
        _append("user_artists.dat", "6\t42\t10\n6\t43\t10\n2\t42\t5\n"),
        r"^user_artists\.dat: 3 row\(s\) refer to 2 artist id\(s\) in column 'artistID' that are not defined, e\.g\. 42, 43$",
    ),
    (
        "unknown-user-in-friends",
        _append("user_friends.dat", "8\t2\n"),
        r"^user_friends\.dat: 1 row\(s\) refer to 1 user id\(s\) in column 'userID' that are not defined, e\.g\. 8$",
    ),
    (
        "unknown-friend-in-friends",
        _append("user_friends.dat", "2\t10\n4\t12\n"),
        r"2 row\(s\) refer to 2 user id\(s\) in column 'friendID'.*e\.g\. 10, 12$",
    ),
    (
        "unknown-user-in-tagging",
        _append("user_taggedartists.dat", "9\t1\t1\t1\t1\t2009\n"),
        r"^user_taggedartists\.dat: 1 row\(s\) refer to 1 user id\(s\) in column 'userID'.*e\.g\. 9$",
    ),
    (
        "unknown-tag-in-tagging",
        _append("user_taggedartists.dat", "2\t1\t3\t1\t1\t2009\n4\t5\t3\t1\t1\t2009\n"),
        r"^user_taggedartists\.dat: 2 row\(s\) refer to 1 tag id\(s\) in column 'tagID' that are not defined, e\.g\. 3$",
    ),
    (
        "truncated-line",
        _replace("user_artists.dat", "4\t5\t70000", "4\t5"),
        r"^user_artists\.dat: 1 truncated \(too few fields\) line\(s\) without exactly 3 tab-separated fields, e\.g\. line\(s\) 5$",
    ),
    (
        "over-long-line",
        _replace("tags.dat", "música brasileira", "música\tbrasileira"),
        r"tags\.dat: 1 over-long \(too many fields\) line\(s\).*line\(s\) 3$",
    ),
    (
        "empty-file",
        {"user_friends.dat": ""},
        r"^user_friends\.dat: file is empty \(expected header 'userID\\tfriendID'\)$",
    ),
    (
        "header-only-listens",
        {"user_artists.dat": "userID\tartistID\tweight\n"},
        r"^user_artists\.dat: file has a header but no data rows$",
    ),
    (
        "invalid-date",
        _replace("user_taggedartists.dat", "3\t7\t2010", "31\t2\t2010"),
        r"^user_taggedartists\.dat: 1 row\(s\) with an invalid day/month/year date, e\.g\. line\(s\) 4$",
    ),
    (
        "duplicate-tag-assignment",
        _append("user_taggedartists.dat", "2\t1\t2\t9\t9\t2009\n"),
        r"1 duplicate \(user, artist, tag\) row\(s\), e\.g\. line 8",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "message"), [pytest.param(o, m, id=i) for i, o, m in INVALID_CASES]
)
def test_invalid_data_gets_a_specific_error(
    tmp_path: Path, overrides: dict[str, str | bytes | None], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        _load(tmp_path, overrides)


def test_header_only_friends_file_is_fine(tmp_path: Path) -> None:
    ds = _load(tmp_path, {"user_friends.dat": "userID\tfriendID\n"})
    assert ds.friends.nnz == 0 and ds.friends.shape == (3, 3)


# ---------------------------------------------------------------------------- findings
def test_findings_on_mini_are_not_fatal(mini_dir: Path) -> None:
    ds = load_dataset(mini_dir, use_cache=False)
    assert len(ds.findings) == 2
    dangling, old = ds.findings
    assert dangling.startswith(
        "user_taggedartists.dat: 1 row(s) refer to 1 artist id(s) in column 'artistID' that are not defined, e.g. 99"
    )
    assert old.startswith(
        "user_taggedartists.dat: 1 tag assignment(s) dated before 2002 (years 1956)"
    )
    ta = ds.tag_assignments
    assert ta.loc[ta.artist_id == 99, "artist_index"].tolist() == [-1]
    assert ds.artist_tags.sum() == len(ta) - 1  # the dangling row is left out


def test_self_and_duplicate_friendships_are_findings(tmp_path: Path) -> None:
    ds = _load(tmp_path, {"user_friends.dat": MINI["user_friends.dat"] + "2\t2\n2\t4\n"})
    assert "user_friends.dat: 1 self-friendship row(s) ignored" in ds.findings
    assert "user_friends.dat: 1 duplicate row(s) ignored" in ds.findings
    assert ds.friends.diagonal().sum() == 0


@pytest.mark.integration
def test_real_data_findings(real_ds: Dataset) -> None:
    assert len(real_ds.findings) == 2
    dangling = next(f for f in real_ds.findings if "not defined" in f)
    assert "1538 row(s) refer to 390 artist id(s) in column 'artistID'" in dangling
    old = next(f for f in real_ds.findings if "before 2002" in f)
    assert "5 tag assignment(s) dated before 2002 (years 1956, 1957, 1979)" in old
    ta = real_ds.tag_assignments
    is_dangling = ta["artist_index"].to_numpy() < 0
    assert ta.loc[is_dangling, "artist_id"].nunique() == 390
    assert not np.isin(ta.loc[is_dangling, "artist_id"], real_ds.artist_ids).any()
    assert real_ds.artist_tags.sum() == len(ta) - is_dangling.sum() == 186479 - 1538
    years = ta["date"].dt.year
    assert sorted(years[years < 2002].unique().tolist()) == [1956, 1957, 1979]
