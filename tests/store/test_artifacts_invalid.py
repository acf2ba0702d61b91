"""Files that are not model artifacts: one sentence saying so, never an invitation to unpickle."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from artistrec import load_model
from artistrec.store.artifacts import ArtifactError, check_artifact_file, load_artifact


def _object_array_npz(path: Path) -> Path:
    np.savez(path, __meta__=np.array([{"format": "artistrec"}], dtype=object))
    return path


def _truncated_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__meta__.npy", b"\x93NUMPY garbage")
    return path


CASES = {
    "random-bytes": lambda p: p.write_bytes(np.random.default_rng(1).bytes(4096)) and p,
    "text": lambda p: p.write_text("hello, I am a model") and p,
    "empty": lambda p: p.write_bytes(b"") or p,
    "object-array": _object_array_npz,
    "broken-member": _truncated_zip,
}


@pytest.mark.parametrize("kind", list(CASES))
def test_a_file_that_is_no_artifact_says_so(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.npz"
    CASES[kind](path)
    with pytest.raises(ArtifactError) as info:
        load_model(path)
    message = str(info.value)
    assert "pickle" not in message.lower()
    assert str(path) in message
    assert "not a valid artistrec model artifact" in message or "not an artistrec model" in message


def test_the_quick_check_reads_no_arrays(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    np.savez(path, a=np.arange(3))
    assert check_artifact_file(path) == path  # a zip: the full check is load_artifact's
    with pytest.raises(ArtifactError, match="is a folder"):
        check_artifact_file(tmp_path)
    with pytest.raises(ArtifactError, match="not found"):
        check_artifact_file(tmp_path / "nope.npz")
    with pytest.raises(ArtifactError, match="no metadata"):
        load_artifact(path)
