"""Encodings are decided from the bytes: UTF-8 first, latin-1 fallback; no quoting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hetrec_fixtures import MINI, write_mini

from artistrec.data import Dataset, load_dataset
from artistrec.data.decode import decode_lines
from artistrec.data.loader import decode_bytes
from artistrec.data.synthetic import SyntheticSpec, generate


def _names(ds: Dataset, artist_ids: list[int]) -> list[str]:
    return [str(n) for n in ds.artist_names[ds.artist_map.index(artist_ids)]]


def _tag(ds: Dataset, tag_id: int) -> str:
    return str(ds.tag_names[int(np.searchsorted(ds.tag_ids, tag_id))])


def test_decode_bytes_prefers_utf8_and_falls_back_to_latin1() -> None:
    assert decode_bytes("Titãs".encode()) == ("Titãs", "utf-8")
    assert decode_bytes("Titãs".encode("latin-1")) == ("Titãs", "latin-1")
    assert decode_bytes(b"\xef\xbb\xbfid") == ("id", "utf-8")  # BOM dropped


def test_decode_lines_reads_only_the_bad_lines_as_latin1() -> None:
    raw = "id\nBjörk\n".encode() + "Motörhead\n".encode("latin-1") + "Sigur Rós\n".encode()
    decoded = decode_lines(raw)
    assert decoded.text == "id\nBjörk\nMotörhead\nSigur Rós\n"
    assert decoded.encoding == "mixed"
    assert decoded.latin1_lines.tolist() == [3]
    assert decoded.finding("a.dat") == (
        "a.dat: 1 line is not UTF-8 and was read as latin-1: line 3"
    )


def test_decode_lines_whole_latin1_file_is_not_a_finding() -> None:
    decoded = decode_lines("tag\ntropicália\nfußball\n".encode("latin-1"))
    assert (decoded.text, decoded.encoding) == ("tag\ntropicália\nfußball\n", "latin-1")
    assert decoded.finding("tags.dat") is None


def test_decode_lines_lists_many_latin1_lines() -> None:
    raw = "Björk\n".encode() + "é\n".encode("latin-1") * 7
    decoded = decode_lines(raw)
    assert decoded.latin1_lines.tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert decoded.finding("x") == (
        "x: 7 lines are not UTF-8 and were read as latin-1: lines 2, 3, 4, 5, 6 and 2 more"
    )


def test_one_latin1_line_in_a_utf8_artists_file(tmp_path: Path) -> None:
    """Issue 12.18: one latin-1 line must not turn every other name into mojibake."""
    raw = MINI["artists.dat"].encode() + "9\tMotörhead\thttp://m\thttp://p\n".encode("latin-1")
    ds = load_dataset(write_mini(tmp_path / "d", {"artists.dat": raw}), use_cache=False)
    assert _names(ds, [1, 5, 9]) == ["Titãs", "Björk", "Motörhead"]
    assert "artists.dat: 1 line is not UTF-8 and was read as latin-1: line 6" in ds.findings


def test_mini_names_keep_accents_and_quotes(mini_dir: Path) -> None:
    ds = load_dataset(mini_dir, use_cache=False)
    assert _names(ds, [1, 3, 5]) == ["Titãs", '"Weird Al" Yankovic', "Björk"]
    assert _tag(ds, 2) == "música brasileira"  # tags.dat is latin-1 here
    assert _tag(ds, 4) == "fußball"


def test_reencoded_copies_load_to_the_same_names(tmp_path: Path) -> None:
    """artists.dat as latin-1 and tags.dat as UTF-8 (the opposite of GroupLens) decode the same."""
    original = load_dataset(write_mini(tmp_path / "orig"), use_cache=False)
    swapped = load_dataset(
        write_mini(tmp_path / "swap", encodings={"artists.dat": "latin-1", "tags.dat": "utf-8"}),
        use_cache=False,
    )
    assert (tmp_path / "swap" / "artists.dat").read_bytes() != (
        tmp_path / "orig" / "artists.dat"
    ).read_bytes()
    assert list(swapped.artist_names) == list(original.artist_names)
    assert list(swapped.tag_names) == list(original.tag_names)
    assert "Titãs" in list(swapped.artist_names)


def test_reencoded_synthetic_copy_loads_to_the_same_names(tmp_path: Path) -> None:
    src = generate(tmp_path / "src", SyntheticSpec(n_users=30, n_artists=80, n_tags=20, seed=4))
    dst = tmp_path / "dst"
    dst.mkdir()
    for p in src.iterdir():
        data = p.read_bytes()
        if p.name == "artists.dat":
            data = data.decode("utf-8").encode("latin-1")  # every synthetic name fits latin-1
        elif p.name == "tags.dat":
            data = data.decode("latin-1").encode("utf-8")
        (dst / p.name).write_bytes(data)
    a, b = load_dataset(src, use_cache=False), load_dataset(dst, use_cache=False)
    assert list(a.artist_names) == list(b.artist_names)
    assert list(a.tag_names) == list(b.tag_names)
    assert any("ö" in str(n) for n in b.artist_names)
    assert any("é" in str(t) for t in b.tag_names)


def test_latin1_byte_0x85_does_not_split_a_line(tmp_path: Path) -> None:
    """\\x85 (NEL) is a line break for str.splitlines but a character inside a latin-1 name."""
    tags = MINI["tags.dat"].replace("rock", "rock\x85n roll")
    ds = load_dataset(write_mini(tmp_path / "d", {"tags.dat": tags}), use_cache=False)
    assert _tag(ds, 1) == "rock\x85n roll"
    assert ds.n_tags == 3


def test_crlf_line_endings_load_the_same(tmp_path: Path) -> None:
    crlf = {name: text.replace("\n", "\r\n") for name, text in MINI.items()}
    a = load_dataset(write_mini(tmp_path / "lf"), use_cache=False)
    b = load_dataset(write_mini(tmp_path / "crlf", crlf), use_cache=False)
    assert list(b.artist_names) == list(a.artist_names)
    assert list(b.tag_names) == list(a.tag_names)
    assert (b.interactions != a.interactions).nnz == 0


@pytest.mark.integration
def test_real_names_and_tags_decode(real_ds: Dataset) -> None:
    assert _names(real_ds, [725, 1686]) == ["Titãs", '"Weird Al" Yankovic']
    # tags.dat is latin-1 in the GroupLens files
    assert _tag(real_ds, 2863) == "tropicália"
    assert _tag(real_ds, 7982) == "fußball"
    assert "die Ärzte" in set(real_ds.tag_names.tolist())
