"""Every command's options: bad values refused in one sentence before anything loads, no
traceback for any user error, one option name per meaning, --help without type tags."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import artistrec.cli as cli
from artistrec.cli import app
from artistrec.service import RecommenderService

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def nothing_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a data set or a model fails the test: the options must be refused first."""

    def must_not_load(*args: object, **kw: object) -> None:
        raise AssertionError("a data set or model was loaded before the options were checked")

    monkeypatch.setattr(cli, "load_dataset", must_not_load)
    monkeypatch.setattr(RecommenderService, "load", classmethod(must_not_load))
    monkeypatch.setattr(cli, "download_dataset", must_not_load)


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(np.random.default_rng(0).bytes(3000))
    return {
        "file": str(a_file),
        "dir": str(tmp_path),
        "missing": str(tmp_path / "missing"),
        "corrupt": str(corrupt),
        "under_file": str(a_file / "x" / "m.npz"),
    }


# (argv with {placeholders} from `paths`, the option the message must name, words it must say)
BAD_OPTIONS = [
    ("data info --data-dir {missing}", "--data-dir", "does not exist"),
    ("data info --data-dir {file}", "--data-dir", "is a file"),
    ("data validate {missing}", "PATH", "does not exist"),
    ("data validate {file}", "PATH", "is a file"),
    ("data download --timeout 0", "--timeout", "above 0"),
    ("data download --timeout -5", "--timeout", "above 0"),
    ("data download --timeout nan", "--timeout", "above 0"),
    ("data download --url notaurl", "--url", "needs a scheme"),
    ("data download --url ftp//x", "--url", "needs a scheme"),
    ("data download --url https://", "--url", "names no server"),
    ("data download --dest {file}", "--dest", "is a file"),
    ("data synthetic {file}", "OUT_DIR", "is a file"),
    ("data synthetic {under_file}", "OUT_DIR", "is a file, not a folder"),
    ("data synthetic {missing} --seed -1", "--seed", "greater than or equal to 0"),
    ("train nope", "MODEL", "unknown model 'nope'"),
    ("train popularity --param =1", "--param", "key=value"),
    ("train popularity --out {dir}", "--out", "is a folder"),
    ("train popularity --out {under_file}", "--out", "is a file, not a folder"),
    ("train popularity --data-dir {missing}", "--data-dir", "does not exist"),
    ("train popularity -p nope=1", "--param", "no parameter 'nope'; valid parameters: by"),
    ("train als -p factors=0", "--param", "factors"),
    ("train als --engine gpu", "--engine", "choose one of local, spark"),
    ("train ease --engine spark", "--engine", "trains the als model only"),
    ("train als --spark-master local[2]", "--spark-master", "only applies with --engine spark"),
    (
        "train als --engine spark --spark-master local[two]",
        "--spark-master",
        "not a Spark master URL",
    ),
    (
        "train als --engine spark --spark-master spark://",
        "--spark-master",
        "not a Spark master URL",
    ),
    ("train als --engine spark --spark-master spark://h:99999", "--spark-master", "not host:port"),
    ("recommend --rate x=1 --model nope", "--model", "unknown model 'nope'"),
    ("recommend --rate x=1 --k 0", "--k", "1 to 500"),
    ("recommend --rate x=1 --k 100000", "--k", "1 to 500"),
    ("recommend --rate x=1 --novelty 2", "--novelty", "from 0 to 1"),
    ("recommend --rate x=1 --novelty nan", "--novelty", "from 0 to 1"),
    ("recommend --history {missing}", "--history", "does not exist"),
    ("recommend --history {dir}", "--history", "is a folder"),
    ("similar x --k -1", "--k", "1 to 500"),
    ("similar x --measure euclid", "--measure", "cosine or dot"),
    ("similar x --model nope", "--model", "unknown model"),
    ("evaluate --protocol nope", "--protocol", "warm, new-users, recbole"),
    ("evaluate --models nope", "--models", "unknown model"),
    ("evaluate --models ,", "--models", "at least one model"),
    ("evaluate --k 0", "--k", "greater than or equal to 1"),
    ("evaluate --seeds a,b", "--seeds", "comma-separated integers"),
    ("evaluate --seeds -1", "--seeds", ">= 0"),
    ("evaluate --folds -1", "--folds", "2 and more folds"),
    ("evaluate --folds 1", "--folds", "2 and more folds"),
    ("evaluate --n-revealed 0", "--n-revealed", ">= 1"),
    ("evaluate --latency-runs some", "--latency-runs", "first or all"),
    ("evaluate --latency-requests -1", "--latency-requests", "greater than or equal to 0"),
    ("evaluate --max-users 0", "--max-users", "greater than or equal to 1"),
    ("evaluate --out {file}", "--out", "is a file"),
    ("serve --port 99999", "--port", "1 to 65535"),
    ("serve --port 0", "--port", "1 to 65535"),
    ("serve --host not_a_host!", "--host", "not a host name"),
    ("serve --artifact {corrupt}", "--artifact", "not a valid artistrec model artifact"),
    ("serve --artifact {missing}", "--artifact", "not found"),
    ("serve --db mysql://me@db/x", "--db", "unsupported profile database"),
    ("serve --db {dir}", "--db", "is a folder"),
    ("serve --workers 0", "--workers", "greater than or equal to 1"),
    ("app --port 99999", "--port", "1 to 65535"),
    ("app --host 999.1.1.1.1", "--host", ""),
    ("app --artifact {corrupt}", "--artifact", "not a valid artistrec model artifact"),
    ("app --model nope", "--model", "unknown model 'nope'"),
    ("app --db mysql://me@db/x", "--db", "unsupported profile database"),
    ("app --data-dir {missing}", "--data-dir", "does not exist"),
]


@pytest.mark.parametrize(("argv", "option", "words"), BAD_OPTIONS, ids=[c[0] for c in BAD_OPTIONS])
def test_bad_options_are_refused_before_anything_loads(
    argv: str, option: str, words: str, paths: dict[str, str], nothing_loads: None
) -> None:
    args = [a.format(**paths) for a in argv.split(" ")]
    result = runner.invoke(app, args)
    out = _flat(result.output)
    assert result.exit_code == 2, out
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert option in out and words in out, out
    assert "Traceback" not in out


def test_a_download_url_from_the_environment_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ARTISTREC_DATA_URL=notaurl with an empty cache: one sentence naming the variable."""
    monkeypatch.setenv("ARTISTREC_DATA_URL", "notaurl")
    monkeypatch.setenv("ARTISTREC_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("LASTFM_DATA_DIR", raising=False)
    result = runner.invoke(app, ["data", "info"])
    out = _flat(result.output)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), out
    assert "'notaurl' (given by $ARTISTREC_DATA_URL) is not a download URL" in out


def test_serve_refuses_a_port_in_use_before_loading(nothing_loads: None) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in _flat(result.output)


def test_serve_model_option_is_the_old_spelling_of_artifact(
    synthetic_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from artistrec import create_model, load_dataset

    model = tmp_path / "pop.npz"
    create_model("popularity").fit(load_dataset(synthetic_dir)).save(model)
    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: seen.update(app=app_))
    db = str(tmp_path / "p.sqlite3")
    base = ["serve", "--db", db, "--data-dir", str(synthetic_dir), "--port", str(_free_port())]
    result = runner.invoke(app, [*base, "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "deprecated; use --artifact" in _flat(result.stderr)
    assert "serving popularity" in _flat(result.stdout)
    # a model NAME means nothing to serve (each request names its model): say what to use
    result = runner.invoke(app, [*base, "--model", "als"])
    assert result.exit_code == 2 and "--artifact PATH" in _flat(result.output)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ----------------------------------------------------------------------------- one name per meaning
def _options(*command: str) -> dict[str, str]:
    """{option: its metavar} of a command, from Click's own description of it."""
    import typer.main

    group = typer.main.get_command(app)
    cmd = group
    for name in command:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    ctx = cmd.make_context(" ".join(command), ["--help"], resilient_parsing=True)
    out = {}
    for p in cmd.get_params(ctx):
        for opt in p.opts:
            if opt.startswith("--") and not p.hidden:
                out[opt] = str(p.metavar or "")
    return out


def test_one_option_name_per_meaning_across_commands() -> None:
    for command in (("recommend",), ("similar",), ("app",)):
        assert _options(*command)["--model"] == "NAME", command
    for command in (("serve",), ("app",)):
        opts = _options(*command)
        assert opts["--artifact"] == "PATH" and "--model" not in opts or command == ("app",)
    assert "--model" not in _options("serve")  # only the hidden, deprecated spelling
    for command in (("data", "info"), ("train",), ("recommend",), ("similar",), ("serve",)):
        assert _options(*command)["--data-dir"] == "PATH", command
    assert _options("recommend")["--history"] == "FILE"
    assert _options("train")["--engine"] == "local|spark"
    assert _options("train")["--spark-master"] == "URL"
    for command in (("serve",), ("app",)):
        assert _options(*command)["--db"] == "PATH|URL"
        assert _options(*command)["--port"] == "PORT"
        assert _options(*command)["--host"] == "HOST"


# ----------------------------------------------------------------------------- --help
HELP_COMMANDS = [
    [],
    ["data"],
    ["data", "info"],
    ["data", "validate"],
    ["data", "download"],
    ["data", "synthetic"],
    ["train"],
    ["recommend"],
    ["similar"],
    ["serve"],
    ["evaluate"],
    ["app"],
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "artistrec")
def test_help_has_no_type_tags_or_placeholders(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    out = result.output
    assert not re.search(r"<(bool|int|float|str|path|list\[\w+\]|\w+ range)>", out), out
    assert not re.search(r"\{[a-z_]+\}", out), out


def test_help_explains_level_zero_and_names_arguments_plainly() -> None:
    out = _flat(runner.invoke(app, ["recommend", "--help"], terminal_width=200).output)
    assert "0 = not interested" in out
    out = _flat(runner.invoke(app, ["data", "synthetic", "--help"], terminal_width=200).output)
    assert "Usage: artistrec data synthetic [OPTIONS] OUT_DIR" in out


# ----------------------------------------------------------------------------- folders
def test_out_says_which_folders_it_creates(synthetic_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder" / "pop.npz"
    args = ["train", "popularity", "--out", str(out), "--data-dir", str(synthetic_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"created folder {out.parent} (for --out)" in _flat(result.stderr)
    assert out.is_file()
    # an existing folder: nothing to say
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "created folder" not in result.output


def test_synthetic_and_evaluate_say_which_folders_they_create(
    synthetic_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "a" / "b"
    result = runner.invoke(
        app, ["data", "synthetic", str(target), "--users", "20", "--artists", "30", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert f"created folder {target} (for OUT_DIR)" in _flat(result.stderr)
    results = tmp_path / "results" / "warm"
    args = ["evaluate", "--models", "popularity", "--seeds", "0", "--latency-requests", "0"]
    args += ["--no-progress", "--out", str(results), "--data-dir", str(synthetic_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"created folder {results} (for --out)" in _flat(result.stderr)


# ----------------------------------------------------------------------------- the last resort
def test_an_unexpected_error_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], synthetic_dir: Path
) -> None:
    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "load_dataset", broken)
    monkeypatch.setattr(
        sys, "argv", ["artistrec", "data", "info", "--data-dir", str(synthetic_dir)]
    )
    monkeypatch.delenv("ARTISTREC_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 1
    err = _flat(capsys.readouterr().err)
    assert "unexpected RuntimeError: disk on fire" in err and "ARTISTREC_DEBUG=1" in err
    assert "Traceback" not in err
    # with ARTISTREC_DEBUG=1 the traceback is there for whoever debugs it
    monkeypatch.setenv("ARTISTREC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli.main()


def test_console_script_is_main() -> None:
    """`artistrec` runs :func:`artistrec.cli.main` (the one without tracebacks)."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "artistrec"]
    assert script.value == "artistrec.cli:main"
    assert os.environ.get("ARTISTREC_DEBUG") in (None, "", "0")
