"""The `artistrec app` command: its streamlit arguments and its input checks (no server started)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

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
