"""The `artistrec app` command: its streamlit arguments and its input checks (no server started)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from artistrec import create_model, load_dataset
from artistrec.app import ENTRY_SCRIPT
from artistrec.cli import app, streamlit_args


def test_streamlit_args_run_the_entry_script_headless() -> None:
    args = streamlit_args("127.0.0.1", 8765)
    assert args[:2] == ["run", str(ENTRY_SCRIPT)]
    flags = dict(zip(args[2::2], args[3::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8765"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert ENTRY_SCRIPT.is_file()


def test_app_rejects_a_missing_model_artifact(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["app", "--model", str(tmp_path / "nope.npz")])
    assert result.exit_code == 1
    assert "model artifact not found" in result.output


def test_app_rejects_a_bad_port() -> None:
    result = CliRunner().invoke(app, ["app", "--port", "70000"])
    assert result.exit_code == 2


def test_app_db_option_sets_the_profile_store(
    tmp_path: Path, synthetic_dir: Path, monkeypatch
) -> None:
    """`--db` reaches the service's profile store (via $ARTISTREC_DB) before Streamlit starts."""
    import os

    import streamlit.web.cli as streamlit_cli

    import artistrec.app.common as common

    seen: dict[str, str | None] = {}
    # the command sets these process-wide for the Streamlit script: monkeypatch restores them
    for var in ("ARTISTREC_DB", "ARTISTREC_MODEL_PATH", "LASTFM_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(common, "warm_up", lambda: None)
    monkeypatch.setattr(
        streamlit_cli, "main", lambda **kw: seen.update(db=os.environ.get("ARTISTREC_DB"))
    )
    model = tmp_path / "pop.npz"
    create_model("popularity").fit(load_dataset(synthetic_dir)).save(model)
    db = tmp_path / "profiles.sqlite3"
    args = ["app", "--data-dir", str(synthetic_dir), "--model", str(model), "--db", str(db)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen["db"] == str(db.resolve())


def test_app_db_option_rejects_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["app", "--db", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a directory" in result.output
