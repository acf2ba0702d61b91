"""`artistrec data info|validate|download|synthetic` through Typer's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from artistrec.cli import app
from artistrec.data.synthetic import SyntheticSpec, generate

runner = CliRunner()


def _flat(text: str) -> str:
    """Collapse whitespace: rich wraps long lines at the terminal width."""
    return " ".join(text.split())


@pytest.fixture()
def small_dir(tmp_path: Path) -> Path:
    return generate(tmp_path / "small", SyntheticSpec(n_users=40, n_artists=90, n_tags=15, seed=1))


@pytest.mark.integration
def test_info_json_on_real_data(real_ds: object) -> None:
    result = runner.invoke(
        app, ["data", "info", "--json", "--data-dir", os.environ["LASTFM_DATA_DIR"]]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    stats.pop("fingerprint")
    assert stats.pop("format") == "hetrec2011"
    assert stats.pop("parts") == {"tags": True, "friends": True, "profiles": False}
    assert stats == {
        "users": 1892,
        "artists": 17632,
        "user_artist_pairs": 92834,
        "tags": 11946,
        "tag_assignments": 186479,
        "friend_relations": 12717,
        "friend_pairs_directed": 25434,
    }


@pytest.mark.integration
def test_validate_real_data_lists_findings(real_ds: object) -> None:
    result = runner.invoke(app, ["data", "validate", os.environ["LASTFM_DATA_DIR"]])
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "loads as HetRec 2011 Last.fm (1,892 users, 17,632 artists)" in out
    assert "2 finding(s):" in out
    assert "1538 row(s) refer to 390 artist id(s) in column 'artistID'" in out
    assert "5 tag assignment(s) dated before 2002 (years 1956, 1957, 1979)" in out


def test_info_table_and_json_on_synthetic(small_dir: Path) -> None:
    result = runner.invoke(app, ["data", "info", "--json", "--data-dir", str(small_dir)])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert (stats["users"], stats["artists"], stats["tags"]) == (40, 90, 15)
    table = runner.invoke(app, ["data", "info", "--data-dir", str(small_dir)])
    assert table.exit_code == 0
    assert "user-artist pairs" in table.stdout and f"{stats['user_artist_pairs']:,}" in table.stdout


def test_validate_malformed_dir_exits_1_with_the_reason(small_dir: Path) -> None:
    ua = small_dir / "user_artists.dat"
    lines = ua.read_text().splitlines()
    user, artist, _ = lines[3].split("\t")
    lines[3] = f"{user}\t{artist}\t-7"
    ua.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["data", "validate", str(small_dir)])
    assert result.exit_code == 1
    err = _flat(result.stderr)
    assert "error: invalid data: user_artists.dat: listen counts (weight) must be positive" in err
    assert "found 0 zero and 1 negative weight(s), e.g. line(s) 4" in err
    assert "Traceback" not in result.output


def test_validate_reports_a_missing_file(small_dir: Path) -> None:
    (small_dir / "tags.dat").unlink()
    result = runner.invoke(app, ["data", "validate", str(small_dir)])
    assert result.exit_code == 1
    assert "missing file(s) in" in _flat(result.stderr) and "tags.dat" in result.stderr


def test_validate_prints_findings_of_a_loadable_dir(tmp_path: Path) -> None:
    d = generate(tmp_path / "g", SyntheticSpec(n_users=30, n_artists=60, old_tag_dates=2, seed=0))
    result = runner.invoke(app, ["data", "validate", str(d)])
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "2 finding(s):" in out
    assert "2 tag assignment(s) dated before 2002" in out


def test_info_with_invalid_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    result = runner.invoke(app, ["data", "info", "--data-dir", str(missing)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    err = _flat(result.stderr)
    assert err.startswith("error: data directory")
    assert "no-such-dir" in err and "does not exist" in err
    assert "Traceback" not in result.output


def test_error_text_with_brackets_is_printed_verbatim(tmp_path: Path, small_dir: Path) -> None:
    """Rich markup in messages (e.g. a header "[x]") must not be swallowed."""
    tags = small_dir / "tags.dat"
    tags.write_bytes(tags.read_bytes().replace(b"tagValue", b"tagValue\t[bold]", 1))
    result = runner.invoke(app, ["data", "validate", str(small_dir)])
    assert result.exit_code == 1
    assert "unexpected column(s) [bold]" in _flat(result.stderr)


def _synthetic(out: Path):  # noqa: ANN202
    args = ["data", "synthetic", str(out), "--users", "120", "--artists", "400", "--seed", "3"]
    return runner.invoke(app, [*args, "--no-progress"])


def test_synthetic_command_writes_a_loadable_set(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    result = _synthetic(out)
    assert result.exit_code == 0, result.output
    assert "wrote 120 users, 400 artists" in _flat(result.stdout)
    info = runner.invoke(app, ["data", "info", "--json", "--data-dir", str(out)])
    stats = json.loads(info.stdout)
    assert (stats["users"], stats["artists"]) == (120, 400)
    again = tmp_path / "again"
    _synthetic(again)
    assert (again / "user_artists.dat").read_bytes() == (out / "user_artists.dat").read_bytes()


def test_synthetic_command_rejects_zero_users(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "synthetic", str(tmp_path / "x"), "--users", "0"])
    assert result.exit_code == 2
    assert "--users" in result.output


def test_download_command_offline_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(
        app,
        [
            "data",
            "download",
            "--url",
            f"http://127.0.0.1:{port}/x.zip",
            "--dest",
            str(tmp_path),
            "--timeout",
            "2",
        ],
    )
    assert result.exit_code == 1
    err = _flat(result.stderr)
    assert "could not download the data set" in err and "--data-dir" in err
    assert not (tmp_path / "hetrec2011-lastfm-2k").exists()


def test_validate_missing_path_blames_the_argument(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "validate", str(tmp_path / "nope")])
    assert result.exit_code == 1
    err = _flat(result.stderr)
    assert "(given by the PATH argument) does not exist" in err and "--data-dir" not in err


def test_synthetic_lastfm360k_format_then_info_and_validate(tmp_path: Path) -> None:
    out = tmp_path / "l"
    args = ["data", "synthetic", str(out), "--format", "lastfm360k", "--users", "60"]
    result = runner.invoke(app, [*args, "--artists", "150", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "wrote 60 users, 150 artists (lastfm360k format)" in _flat(result.stdout)
    assert (out / "usersha1-artmbid-artname-plays.tsv").is_file()
    info = runner.invoke(app, ["data", "info", "--json", "--data-dir", str(out)])
    stats = json.loads(info.stdout)
    assert stats["format"] == "lastfm360k" and stats["users"] == 60
    assert stats["parts"] == {"tags": False, "friends": False, "profiles": True}
    table = runner.invoke(app, ["data", "info", "--data-dir", str(out)])
    assert "Last.fm-360K" in table.stdout and "not in this data set" in table.stdout
    valid = runner.invoke(app, ["data", "validate", str(out)])
    assert valid.exit_code == 0 and "loads as Last.fm-360K (60 users" in _flat(valid.stdout)


def test_synthetic_generic_format_with_a_preset(tmp_path: Path) -> None:
    out = tmp_path / "g"
    result = runner.invoke(
        app,
        [
            "data",
            "synthetic",
            str(out),
            "--preset",
            "10x",
            "--users",
            "30",
            "--artists",
            "80",
            "--format",
            "generic",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "interactions.csv").is_file() and (out / "artists.csv").is_file()
    stats = json.loads(
        runner.invoke(app, ["data", "info", "--json", "--data-dir", str(out)]).stdout
    )
    assert (stats["format"], stats["users"], stats["artists"]) == ("generic", 30, 80)


@pytest.mark.parametrize(
    ("option", "value"), [("--preset", "1000x"), ("--format", "xml")], ids=["preset", "format"]
)
def test_synthetic_rejects_unknown_choices(tmp_path: Path, option: str, value: str) -> None:
    result = runner.invoke(app, ["data", "synthetic", str(tmp_path / "x"), option, value])
    assert result.exit_code == 2
    assert "unknown" in result.output and value in result.output
    assert not (tmp_path / "x").exists()
