"""Recognising and parsing listening-history exports (generated samples of every format)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from artistrec.history import formats as fmt
from artistrec.history import samples
from artistrec.history.formats import (
    HistoryFormatError,
    HistoryTooLargeError,
    UnrecognisedFormatError,
    parse_bytes,
    parse_entries,
    read_sources,
)

ARTISTS = ["Metallica", "Björk", "Guns N' Roses", "소녀시대", "Sigur Rós"]


@pytest.fixture(scope="module")
def streams() -> samples.Streams:
    return samples.generate_streams(ARTISTS, 600, seed=3)


def as_dict(parsed) -> dict[str, int]:  # noqa: ANN001
    df = parsed.plays()
    return dict(zip(df["artist"], df["plays"].astype(int), strict=True))


def test_spotify_extended_counts_plays_skips_podcasts_and_short_streams(streams) -> None:  # noqa: ANN001
    parts = samples.spotify_extended(streams, parts=3)
    parsed = read_sources([(f"part{i}.json", b) for i, b in enumerate(parts)])
    assert [f.format for f in parsed.files] == ["spotify-extended"] * 3
    assert as_dict(parsed) == streams.plays()
    n_podcast = sum(a is None for a in streams.artist)
    n_short = sum(
        a is not None and ms < 30_000
        for a, ms in zip(streams.artist, streams.ms_played, strict=True)
    )
    assert parsed.rows == 600 and parsed.skipped_rows == n_podcast > 0
    assert parsed.short_streams == n_short > 0


def test_min_play_ms_is_a_parameter(streams) -> None:  # noqa: ANN001
    data = samples.spotify_extended(streams)[0]
    everything = read_sources([("x.json", data)], min_play_ms=0)
    assert as_dict(everything) == streams.plays(min_play_ms=0)
    assert everything.short_streams == 0
    with pytest.raises(ValueError, match="min_play_ms"):
        read_sources([("x.json", data)], min_play_ms=-1)


def test_spotify_account_format(streams) -> None:  # noqa: ANN001
    parsed = read_sources([("StreamingHistory0.json", samples.spotify_account(streams)[0])])
    assert parsed.files[0].format == "spotify-account"
    assert as_dict(parsed) == streams.plays()
    assert parsed.skipped_rows == sum(a is None for a in streams.artist)


@pytest.mark.parametrize("bom", [False, True])
def test_lastfm_csv_with_header_and_bom(streams, bom: bool) -> None:  # noqa: ANN001
    data = samples.lastfm_csv(
        streams, mbids={"Metallica": "65f4f0c5-ef9e-490c-aee3-909e7ae6b2ab"}, bom=bom
    )
    parsed = read_sources([("scrobbles.csv", data)])
    assert parsed.files[0].format == "lastfm-csv"
    assert as_dict(parsed) == streams.plays()
    df = parsed.plays().set_index("artist")
    assert df.loc["Metallica", "mbid"] == "65f4f0c5-ef9e-490c-aee3-909e7ae6b2ab"
    assert df.loc["Björk", "mbid"] is None


def test_lastfm_headerless(streams) -> None:  # noqa: ANN001
    parsed = read_sources([("export", samples.lastfm_headerless(streams))])
    assert parsed.files[0].format == "lastfm-headerless"
    assert as_dict(parsed) == streams.plays()


@pytest.mark.parametrize(
    ("header", "sep"), [(True, ","), (False, ","), (True, "\t"), (False, "\t")]
)
def test_plays_table(header: bool, sep: str) -> None:
    plays = {"Metallica": 120, "Björk": 3, "Sigur Rós": 1}
    parsed = read_sources([("t", samples.plays_table(plays, header=header, sep=sep))])
    assert parsed.files[0].format == "plays-table"
    assert as_dict(parsed) == plays


def test_plays_table_with_any_header_and_utf16() -> None:
    text = "Band,Times\nMetallica,12\nBjörk,3\n"
    assert as_dict(read_sources([("t", text.encode())])) == {"Metallica": 12, "Björk": 3}
    utf16 = "artist\tplays\nMetallica\t5\n".encode("utf-16")  # Excel's "Unicode text"
    assert as_dict(read_sources([("t", utf16)])) == {"Metallica": 5}


def test_zip_with_folder_pdf_and_split_files(streams) -> None:  # noqa: ANN001
    parts = samples.spotify_extended(streams, parts=2)
    files = {f"Streaming_History_Audio_{i}.json": p for i, p in enumerate(parts)}
    files["Streaming_History_Video_2023.json"] = json.dumps(
        [
            {
                "ts": "2023-01-01T00:00:00Z",
                "ms_played": 90_000,
                "master_metadata_album_artist_name": None,
            }
        ]
    ).encode()
    files["Userdata.json"] = b'{"username": "x"}'
    parsed = read_sources([("my_spotify_data.zip", samples.zipped(files))])
    assert as_dict(parsed) == streams.plays()
    reasons = {i["file"].rsplit("/", 1)[-1]: i["reason"] for i in parsed.ignored}
    assert set(reasons) == {"ReadMeFirst_ExtendedStreamingHistory.pdf", "Userdata.json"}
    assert parsed.skipped_rows == sum(a is None for a in streams.artist) + 1  # + the video row


def test_several_files_of_different_formats_add_up(streams) -> None:  # noqa: ANN001
    parsed = read_sources(
        [
            ("a.json", samples.spotify_extended(streams)[0]),
            ("b.csv", samples.plays_table({"Metallica": 1000})),
        ]
    )
    expected = streams.plays()
    expected["Metallica"] += 1000
    assert as_dict(parsed) == expected


def test_paths_are_read(tmp_path, streams) -> None:  # noqa: ANN001
    p = tmp_path / "history.json"
    p.write_bytes(samples.spotify_account(streams)[0])
    assert as_dict(read_sources([p])) == streams.plays()
    with pytest.raises(HistoryFormatError, match="no such file"):
        read_sources([tmp_path / "missing.json"])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"just one line of text\nand another\n", "1 column"),
        (b'{"username": "x"}', "JSON object"),
        (b'[{"name": "x"}]', "keys name"),
        (b"[1, 2]", "not objects"),
        (b"a,b,c\n1,2,3\n", "3 column"),
        (b"Metallica,heavy\nBjork,pop\n", "second column is not a play count"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\x00\x01\x02binary", "binary"),
    ],
)
def test_unrecognised_format_names_the_understood_ones(data: bytes, why: str) -> None:
    with pytest.raises(UnrecognisedFormatError, match=why) as e:
        read_sources([("upload.bin", data)])
    msg = str(e.value)
    assert msg.startswith("upload.bin: ")
    for desc in fmt.FORMATS.values():
        assert desc in msg


def test_corrupt_json_says_where() -> None:
    data = (
        b'[\n  {"ts": "2023", "ms_played": 1,\n   "master_metadata_album_artist_name": "A"\n  ,\n]'
    )
    with pytest.raises(HistoryFormatError, match=r"h\.json: not valid JSON: .* line 5, column 1"):
        read_sources([("h.json", data)])


def test_corrupt_csv_says_where() -> None:
    data = b"artist,album,track,date\nA,B,C,1 Jan 2020 10:00\nA,B,C,D,E,F\n"
    with pytest.raises(HistoryFormatError, match=r"s\.csv: not a valid CSV/TSV file: .*line 3"):
        read_sources([("s.csv", data)])


def test_bad_play_count_names_the_line() -> None:
    with pytest.raises(HistoryFormatError, match=r"line 3: the play count must be a whole number"):
        read_sources([("t.csv", b"artist,plays\nMetallica,4\nBjork,lots\n")])
    with pytest.raises(HistoryFormatError, match=r"line 3"):
        read_sources([("t.csv", b"Metallica,4\nBjork,2\nSigur Ros,x\n")])
    with pytest.raises(HistoryFormatError, match=r"line 2: .* from 0 to 1,000,000,000"):
        read_sources([("t.csv", b"artist,plays\nMetallica,99999999999999999999\n")])
    with pytest.raises(HistoryFormatError, match=r"line 1: .* from 0 to 1,000,000,000"):
        read_sources([("t.csv", b"Metallica,99999999999999999999\nBjork,2\n")])


def test_bad_stream_item_is_named() -> None:
    doc = [{"ts": "t", "ms_played": 40_000, "master_metadata_album_artist_name": "A"}, "oops"]
    with pytest.raises(HistoryFormatError, match="item 2 of the list is not an object"):
        read_sources([("h.json", json.dumps(doc).encode())])
    doc[1] = {"ts": "t", "ms_played": "long", "master_metadata_album_artist_name": "B"}
    with pytest.raises(HistoryFormatError, match="item 2 has no valid ms_played"):
        read_sources([("h.json", json.dumps(doc).encode())])


def test_size_limits(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setattr(fmt, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(fmt, "MAX_TOTAL_BYTES", 1500)
    with pytest.raises(HistoryTooLargeError, match=r"big\.csv: the file is .* MB; files over"):
        read_sources([("big.csv", b"a,1\n" * 300)])
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,1\n" * 300)
    with pytest.raises(HistoryTooLargeError, match="files over"):
        read_sources([big])
    with pytest.raises(HistoryTooLargeError, match="add up to more than"):
        read_sources([("a.csv", b"a,1\n" * 200), ("b.csv", b"a,1\n" * 200)])


def test_zip_bomb_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.csv", b"a" * 5_000_000)  # ~5 MB of one byte compresses ~1000:1
    with pytest.raises(HistoryTooLargeError, match="zip bomb"):
        read_sources([("x.zip", buf.getvalue())])


def test_too_many_zip_members_is_a_size_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "MAX_ZIP_MEMBERS", 2)
    data = samples.zipped({f"p{i}.csv": b"a,1\n" for i in range(2)})  # + the PDF = 3 files
    with pytest.raises(HistoryTooLargeError, match="the archive has 3 files; at most 2"):
        read_sources([("h.zip", data)])
    # a size error is still a format error for callers that catch only that
    assert issubclass(HistoryTooLargeError, HistoryFormatError)


def test_zip_in_zip_is_not_opened_and_empty_zip_is_explained() -> None:
    inner = samples.zipped({"a.csv": b"Metallica,3\n"})
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("inner.zip", inner)
    with pytest.raises(UnrecognisedFormatError, match="a zip inside a zip is not opened"):
        read_sources([("outer.zip", outer.getvalue())])
    with pytest.raises(HistoryFormatError, match="not a readable zip"):
        read_sources([("broken.zip", b"PK\x03\x04garbage")])


def test_no_files() -> None:
    with pytest.raises(HistoryFormatError, match="no files were given"):
        read_sources([])


def test_parse_bytes_placeholder_artists_are_skipped() -> None:
    parsed = parse_bytes("t.csv", b"artist,plays\nUnknown Artist,5\n[unknown],2\nMetallica,1\n")
    assert parsed.skipped_rows == 2 and parsed.plays["artist"].tolist() == ["Metallica"]


def test_parse_entries() -> None:
    df = parse_entries([{"name": " Metallica ", "plays": 3}, {"artist_id": 289, "plays": 1}])
    assert df["artist"].tolist() == ["Metallica", None]
    assert df["artist_id"].tolist() == [-1, 289] and df["plays"].tolist() == [3, 1]
    for bad, msg in [
        ({"name": "A"}, "entry 1: plays must be a whole number from 1 to 1,000,000,000"),
        ({"name": "A", "plays": 2**63}, "plays must be"),  # would overflow int64
        ({"artist_id": 2**63, "plays": 1}, "unknown artist id 9223372036854775808"),
        ({"name": "A", "plays": True}, "plays must be"),
        ({"name": "A", "plays": 0}, "plays must be"),
        ({"name": "A", "artist_id": 1, "plays": 1}, "exactly one of name or artist_id"),
        ({"artist_id": "1", "plays": 1}, "artist_id must be an integer"),
        ({"name": " ", "plays": 1}, "name must be a non-empty string"),
        ("x", "must be an object"),
    ]:
        with pytest.raises(ValueError, match=msg):
            parse_entries([bad])
    with pytest.raises(ValueError, match="must be a list"):
        parse_entries({"name": "A", "plays": 1})  # type: ignore[arg-type]


def test_single_source_and_progress(tmp_path, streams) -> None:  # noqa: ANN001
    p = tmp_path / "history.json"
    p.write_bytes(samples.spotify_account(streams)[0])
    assert as_dict(read_sources(p)) == streams.plays()  # one path, not an iterable of them
    assert as_dict(read_sources(str(p))) == streams.plays()
    one = ("h.json", samples.spotify_account(streams)[0])
    assert as_dict(read_sources(one)) == streams.plays()  # one (name, bytes) upload
    calls: list[tuple[int, int]] = []
    read_sources([one, one, p], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize(
    "text",
    [
        '[1, 2, {"a": [1, 2]}, "x"]',
        " [ ] ",
        "[1 2]",
        "[1,]",
        "[1,2",
        "[1,2] x",
        "[",
        '[{"a":1,}]',
        '\n[\n {"a": 1},\n {"b": tru}\n]\n',
        "[1]\n\n",
        '{"a": 1}',
        "[,1]",
        "[1,,2]",
        "[1]]",
    ],
)
def test_itemwise_json_is_json_loads(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Long lists are decoded item by item (the GIL is given up between items): same values,
    same errors at the same places."""

    def outcome(loads):  # noqa: ANN001, ANN202
        try:
            return "ok", loads(text)
        except json.JSONDecodeError as e:
            return "error", e.msg, e.lineno, e.colno

    monkeypatch.setattr(fmt, "JSON_ITEMWISE_CHARS", 0)
    assert outcome(fmt.loads_json) == outcome(json.loads)


def test_a_long_spotify_file_is_read_itemwise(streams, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    data = samples.spotify_extended(streams)[0]
    whole = parse_bytes("h.json", data)
    monkeypatch.setattr(fmt, "JSON_ITEMWISE_CHARS", 1000)
    calls = []
    real = fmt._DECODER.raw_decode

    class Spy:
        def raw_decode(self, s, idx=0):  # noqa: ANN001, ANN201
            calls.append(idx)
            return real(s, idx)

    monkeypatch.setattr(fmt, "_DECODER", Spy())
    itemwise = parse_bytes("h.json", data)
    assert len(calls) == len(streams.artist)  # one call per stream

    def plays(f) -> dict[str, int]:  # noqa: ANN001
        return dict(zip(f.plays["artist"], f.plays["plays"].astype(int), strict=True))

    assert plays(itemwise) == plays(whole) == streams.plays()
    assert (itemwise.rows, itemwise.skipped_rows, itemwise.short_streams) == (
        whole.rows,
        whole.skipped_rows,
        whole.short_streams,
    )
    with pytest.raises(HistoryFormatError, match=r"h\.json: not valid JSON: Expecting .* line"):
        parse_bytes("h.json", data[: len(data) // 2])
