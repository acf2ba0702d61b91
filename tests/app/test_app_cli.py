"""The `artistrec app` command: its streamlit arguments and its input checks (no server started)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from artistrec import create_model, load_dataset
from artistrec.app import ENTRY_SCRIPT
from artistrec.cli import app, streamlit_args


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def test_streamlit_args_run_the_entry_script_headless() -> None:
    args = streamlit_args("127.0.0.1", 8765)
    assert args[:2] == ["run", str(ENTRY_SCRIPT)]
    flags = dict(zip(args[2::2], args[3::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8765"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert ENTRY_SCRIPT.is_file()


@pytest.fixture
def fake_streamlit(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Streamlit's entry point replaced by a recorder of what the app would start with."""
    import streamlit.web.cli as streamlit_cli

    import artistrec.app.common as common

    seen: dict[str, object] = {}
    # the command sets these process-wide for the Streamlit script: monkeypatch restores them
    for var in ("ARTISTREC_DB", "ARTISTREC_MODEL_PATH", "ARTISTREC_APP_MODEL", "LASTFM_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(common, "warm_up", lambda: None)
    monkeypatch.setattr(common, "_ADOPTED", {})

    def record(**kw: object) -> None:
        seen.update(
            started=True,
            db=os.environ.get("ARTISTREC_DB"),
            model=os.environ.get("ARTISTREC_APP_MODEL"),
            artifact=os.environ.get("ARTISTREC_MODEL_PATH"),
            adopted=dict(common._ADOPTED),
        )

    monkeypatch.setattr(streamlit_cli, "main", record)
    return seen


@pytest.fixture
def pop_artifact(tmp_path: Path, synthetic_dir: Path) -> Path:
    model = tmp_path / "pop.npz"
    create_model("popularity").fit(load_dataset(synthetic_dir)).save(model)
    return model


def test_app_rejects_a_missing_model_artifact(tmp_path: Path, fake_streamlit: dict) -> None:
    result = CliRunner().invoke(app, ["app", "--artifact", str(tmp_path / "nope.npz")])
    assert result.exit_code == 2
    assert "model artifact not found" in _flat(result.output)
    assert not fake_streamlit


@pytest.mark.parametrize(
    "content",
    [os.urandom(4096), b"PK\x03\x04 a broken zip", b""],
    ids=["random-bytes", "broken-zip", "empty"],
)
def test_app_checks_the_artifact_before_serving(
    tmp_path: Path, synthetic_dir: Path, fake_streamlit: dict, content: bytes
) -> None:
    """A file that is no model fails at once, as with `serve`, and Streamlit never starts."""
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(content)
    args = ["app", "--artifact", str(corrupt), "--data-dir", str(synthetic_dir)]
    result = CliRunner().invoke(app, args)
    out = _flat(result.output)
    assert result.exit_code in (1, 2), out
    assert "not a valid artistrec model artifact" in out
    assert "pickle" not in out.lower()
    assert not fake_streamlit


def test_app_checks_a_zip_that_is_no_model(
    tmp_path: Path, synthetic_dir: Path, fake_streamlit: dict
) -> None:
    """An npz without artistrec's metadata passes the quick check and fails the full load."""
    import numpy as np

    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    args = ["app", "--artifact", str(other), "--data-dir", str(synthetic_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "not an artistrec model" in _flat(result.output)
    assert not fake_streamlit


def test_app_hands_the_checked_service_to_the_pages(
    synthetic_dir: Path, pop_artifact: Path, fake_streamlit: dict
) -> None:
    """The service the command loaded (the artifact checked) is the one the pages get."""
    args = ["app", "--data-dir", str(synthetic_dir), "--artifact", str(pop_artifact)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert fake_streamlit["artifact"] == str(pop_artifact.resolve())
    (svc,) = fake_streamlit["adopted"].values()
    assert svc.is_loaded("default") and svc.model("default").name == "popularity"


def test_app_model_names_a_model_and_the_old_path_spelling_still_works(
    synthetic_dir: Path, pop_artifact: Path, fake_streamlit: dict
) -> None:
    runner = CliRunner()
    base = ["app", "--data-dir", str(synthetic_dir), "--artifact", str(pop_artifact)]
    result = runner.invoke(app, [*base, "--model", "item-knn"])
    assert result.exit_code == 0, result.output
    assert fake_streamlit["model"] == "item-knn"
    result = runner.invoke(app, [*base, "--model", "nope"])
    assert result.exit_code == 2 and "unknown model 'nope'" in _flat(result.output)
    # `--model PATH`, the spelling before --artifact, works with a one-line deprecation note
    fake_streamlit.clear()
    args = ["app", "--data-dir", str(synthetic_dir), "--model", str(pop_artifact)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "deprecated; use --artifact" in _flat(result.stderr)
    assert fake_streamlit["artifact"] == str(pop_artifact.resolve())


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_app_rejects_a_bad_port(port: str, fake_streamlit: dict) -> None:
    result = CliRunner().invoke(app, ["app", "--port", port])
    assert result.exit_code == 2
    assert "a TCP port is a number from 1 to 65535" in _flat(result.output)


def test_app_refuses_a_port_in_use_before_loading(
    tmp_path: Path, fake_streamlit: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artistrec.cli as cli

    monkeypatch.setattr(cli, "load_dataset", _must_not_load)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["app", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in _flat(result.output)


def _must_not_load(*args: object, **kw: object) -> None:
    raise AssertionError("the data set was loaded before the options were checked")


def test_app_db_option_sets_the_profile_store(
    tmp_path: Path, synthetic_dir: Path, pop_artifact: Path, fake_streamlit: dict
) -> None:
    """`--db` reaches the service's profile store (via $ARTISTREC_DB) before Streamlit starts."""
    db = tmp_path / "profiles.sqlite3"
    args = ["app", "--data-dir", str(synthetic_dir), "--artifact", str(pop_artifact)]
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert fake_streamlit["db"] == str(db.resolve())


def test_app_db_in_a_new_folder_says_it_creates_it(
    tmp_path: Path, synthetic_dir: Path, pop_artifact: Path, fake_streamlit: dict
) -> None:
    db = tmp_path / "new" / "deeper" / "profiles.sqlite3"
    args = ["app", "--data-dir", str(synthetic_dir), "--artifact", str(pop_artifact)]
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"created folder {db.parent} (for --db)" in _flat(result.stderr)
    assert db.parent.is_dir()


@pytest.mark.parametrize(
    ("make_db", "message"),
    [
        (lambda tmp: str(tmp), "is a folder"),
        (lambda tmp: "mysql://me@db/profiles", "unsupported profile database"),
    ],
    ids=["directory", "unknown-scheme"],
)
def test_app_db_option_rejects_what_is_no_database(
    tmp_path: Path, fake_streamlit: dict, make_db: Callable[[Path], str], message: str
) -> None:
    result = CliRunner().invoke(app, ["app", "--db", make_db(tmp_path)])
    assert result.exit_code == 2
    assert "Invalid value for '--db'" in _flat(result.output)
    assert message in _flat(result.output)
    assert not fake_streamlit
