"""`artistrec recommend --history`: every export format, the JSON object, the human summary,
exclusions and errors (generated exports on the synthetic data)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from artistrec.cli import app
from artistrec.data import Dataset
from artistrec.history import HistoryImporter, samples
from artistrec.service import history as service_history

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, all output with whitespace collapsed)."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.output.split())


def _popular(ds: Dataset, n: int) -> list[str]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [str(ds.artist_names[i]) for i in order]


@pytest.fixture(scope="module")
def streams(synthetic_ds: Dataset) -> samples.Streams:
    names = _popular(synthetic_ds, 6)
    # one spelling folded (upper case), one name the catalogue does not have
    return samples.generate_streams([names[0], names[1].upper(), *names[2:], "Zz Nobody"], 900)


#: format -> files (name, bytes) written from the streams
EXPORTS: dict[str, Callable[[samples.Streams], dict[str, bytes]]] = {
    "spotify-extended": lambda s: {
        f"Streaming_History_Audio_{i}.json": b for i, b in enumerate(samples.spotify_extended(s, 3))
    },
    "spotify-account": lambda s: {
        f"StreamingHistory{i}.json": b for i, b in enumerate(samples.spotify_account(s, 2))
    },
    "lastfm-csv": lambda s: {"scrobbles.csv": samples.lastfm_csv(s, bom=True)},
    "lastfm-headerless": lambda s: {"scrobbles.csv": samples.lastfm_headerless(s)},
    "plays-table": lambda s: {"plays.tsv": samples.plays_table(s.plays(), sep="\t")},
    "zip": lambda s: {"my_spotify_data.zip": samples.zipped(EXPORTS["spotify-extended"](s))},
}


def _write(tmp_path: Path, files: dict[str, bytes]) -> list[str]:
    args = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        args += ["--history", str(path)]
    return args


@pytest.mark.parametrize("fmt", list(EXPORTS))
def test_every_format_json(
    fmt: str, streams: samples.Streams, synthetic_dir: Path, synthetic_ds: Dataset, tmp_path: Path
) -> None:
    files = EXPORTS[fmt](streams)
    code, out, text = _run(
        "recommend",
        *_write(tmp_path, files),
        "--k",
        "4",
        "--model",
        "popularity",
        "--json",
        "--data-dir",
        str(synthetic_dir),
    )
    assert code == 0, text
    body = json.loads(out)  # exactly one JSON object on stdout
    assert set(body) >= {"read", "ratings", "unmatched", "to_confirm", "recommendations"}
    expected = streams.plays()
    read = body["read"]
    assert read["plays"] == sum(expected.values())
    formats = {f["format"] for f in read["files"]}
    assert formats == {"spotify-extended" if fmt == "zip" else fmt}
    if fmt.startswith("spotify"):  # podcast rows and skips are counted, not errors
        assert read["skipped_rows"] == sum(a is None for a in streams.artist)
        assert read["short_streams"] > 0
    names = _popular(synthetic_ds, 6)
    rated = {r["name"]: r for r in body["ratings"]}
    assert set(rated) == set(names)
    assert rated[names[1]]["match"] == "folded" and rated[names[1]]["query"] == names[1].upper()
    assert rated[names[0]]["plays"] == expected[names[0]]
    assert body["unmatched"] == [{"name": "Zz Nobody", "plays": expected["Zz Nobody"]}]
    recs = body["recommendations"]
    assert len(recs) == 4 and set(recs[0]) == {
        "artist_id",
        "name",
        "url",
        "score",
        "tags",
        "reason",
    }
    # the popularity model would recommend exactly these artists: none of them comes back
    assert not set(names) & {r["name"] for r in recs}
    assert [r["name"] for r in recs] == _popular(synthetic_ds, 10)[6:]


def test_human_summary(
    synthetic_dir: Path, synthetic_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _popular(synthetic_ds, 3)
    unknown = {f"Unknown Band {i:02d}": 100 + i for i in range(25)}
    plays = {names[0]: 20_000, names[1].lower(): 300, names[2] + "q": 7, **unknown}
    # every fuzzy match waits for confirmation
    monkeypatch.setattr(
        service_history,
        "HistoryImporter",
        functools.partial(HistoryImporter, confident_score=100),
    )
    code, out, text = _run(
        "recommend",
        *_write(tmp_path, {"mine.csv": samples.plays_table(plays)}),
        "--k",
        "5",
        "--data-dir",
        str(synthetic_dir),
    )
    assert code == 0, text
    total = sum(plays.values())
    assert f"Read {total:,} plays of 28 artists from 1 file (plays-table)." in text
    share = f"{20_300 / total:.0%}"
    assert f"Matched 2 artists to the catalogue (20,300 plays, {share}): 1 exact, 1 folded." in text
    # unmatched: the most played first, the first 20 and a count
    listed = [f"Unknown Band {i:02d} ({100 + i})" for i in range(24, 4, -1)]
    assert "Not in the catalogue: 25 names, most played first: " + ", ".join(listed) in text
    assert "and 5 more." in text and "Unknown Band 04" not in text
    assert "Close matches to confirm" in text and f"{names[2]}q" in text
    assert "Recommendations from your listening history (hybrid)" in text
    assert text.count("because you rated") >= 1


def test_errors(synthetic_dir: Path, synthetic_ds: Dataset, tmp_path: Path) -> None:
    d = ("--data-dir", str(synthetic_dir))
    code, _, text = _run("recommend", "--history", str(tmp_path / "missing.json"), *d)
    assert code == 2 and "missing.json does not exist" in text, text
    code, _, text = _run("recommend", "--history", str(tmp_path), *d)
    assert code == 2 and "is a folder, not a file" in text, text
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\nworld\n")
    code, _, text = _run("recommend", "--history", str(bad), *d)
    assert code == 2 and "not a listening history" in text and "Understood formats" in text
    broken = tmp_path / "h.json"
    broken.write_text('[{"ts": "2020", "ms_played": 1')
    code, _, text = _run("recommend", "--history", str(broken), *d)
    assert code == 2 and "not valid JSON" in text and "line 1" in text, text
    name = _popular(synthetic_ds, 1)[0]
    table = tmp_path / "t.csv"
    table.write_bytes(samples.plays_table({name: 3}))
    code, _, text = _run("recommend", "--history", str(table), "--rate", f"{name}=3", *d)
    assert code == 2 and "cannot be combined" in text
    code, _, text = _run("recommend", "--history", str(table), "--k", "0", *d)
    assert code == 2 and "k must be" in text
    assert "Traceback" not in text


def test_lastfm_mbids_match_a_lastfm360k_catalogue(tmp_path: Path) -> None:
    """On a catalogue with MusicBrainz ids, a scrobble's artist_mbid decides the match, however
    the name is written; and the data set has no tags or friends: the import still works."""
    from artistrec.data import load_dataset
    from artistrec.data.synthetic import SyntheticSpec, generate

    data = generate(
        tmp_path / "d360", SyntheticSpec(n_users=120, n_artists=300, seed=1), format="lastfm360k"
    )
    ds = load_dataset(data, use_cache=False)
    with_mbid = [i for i, m in enumerate(ds.artists["mbid"].tolist()) if isinstance(m, str) and m]
    i = max(with_mbid, key=lambda j: ds.artist_listeners()[j])
    name, mbid = str(ds.artist_names[i]), str(ds.artists["mbid"].iat[i])
    streams = samples.generate_streams(["Somebody Else Entirely"], 40, seed=3)
    csv = samples.lastfm_csv(streams, mbids={"Somebody Else Entirely": mbid})
    code, out, text = _run(
        "recommend",
        *_write(tmp_path, {"scrobbles.csv": csv}),
        "--k",
        "3",
        "--json",
        "--data-dir",
        str(data),
    )
    assert code == 0, text
    body = json.loads(out)
    [rated] = body["ratings"]
    assert (rated["name"], rated["match"], rated["query"]) == (
        name,
        "mbid",
        "Somebody Else Entirely",
    )
    assert len(body["recommendations"]) == 3
    assert rated["artist_id"] not in {r["artist_id"] for r in body["recommendations"]}
