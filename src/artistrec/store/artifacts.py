"""Model artifacts: one ``.npz`` file of arrays plus JSON metadata, written atomically, never pickled.

The metadata (model name, parameters, data fingerprint, package versions, array schema) is
stored as a JSON string inside the archive under ``__meta__``. Loading uses
``np.load(allow_pickle=False)``, so opening an artifact can never execute code.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

FORMAT = "artistrec-model"
FORMAT_VERSION = 1


class ArtifactError(ValueError):
    """A model artifact is missing, corrupt, or does not fit the data it is used with."""


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a model's arrays."""
    import scipy

    from artistrec import __version__

    out = {"artistrec": __version__, "numpy": np.__version__, "scipy": scipy.__version__}
    out["python"] = platform.python_version()
    try:
        import implicit

        out["implicit"] = implicit.__version__
    except Exception:  # pragma: no cover - optional
        pass
    return out


def _flatten(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    arrays: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for key, value in state.items():
        if sp.issparse(value):
            m = sp.csr_matrix(value)
            arrays[f"{key}.data"] = m.data
            arrays[f"{key}.indices"] = m.indices
            arrays[f"{key}.indptr"] = m.indptr
            arrays[f"{key}.shape"] = np.asarray(m.shape, dtype=np.int64)
            kinds[key] = "csr"
        else:
            arr = np.asarray(value)
            if arr.dtype == object:
                raise TypeError(
                    f"state {key!r} is an object array; artifacts hold plain arrays only"
                )
            arrays[key] = arr
            kinds[key] = "dense"
    return arrays, kinds


def save_artifact(
    path: str | os.PathLike[str], meta: dict[str, Any], state: dict[str, Any]
) -> Path:
    """Write ``state`` arrays and ``meta`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, kinds = _flatten(state)
    full_meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": package_versions(),
        **meta,
        "arrays": kinds,
    }
    arrays["__meta__"] = np.asarray(json.dumps(full_meta, sort_keys=True))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_artifact_file(path: str | os.PathLike[str]) -> Path:
    """``path`` when it is an existing file in the artifact's container format (a zip archive,
    as every ``.npz`` is), else :class:`ArtifactError` in one sentence. Cheap: reads no arrays."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"model artifact not found: {path}")
    if not path.is_file():
        raise ArtifactError(f"{path} is a folder, not a model artifact file")
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise ArtifactError(f"cannot read model artifact {path}: {exc.strerror or exc}") from exc
    if not is_zip:
        raise ArtifactError(
            f"{path} is not a valid artistrec model artifact (artifacts are the .npz files "
            "`artistrec train` writes)"
        )
    return path


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Only the JSON metadata of an artifact."""
    return load_artifact(path, meta_only=True)[0]


def load_artifact(
    path: str | os.PathLike[str], meta_only: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read (meta, state) from an artifact; raises :class:`ArtifactError` on any problem."""
    path = check_artifact_file(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "__meta__" not in z.files:
                raise ArtifactError(f"{path} is not an artistrec model (no metadata)")
            meta = json.loads(str(z["__meta__"]))
            if meta.get("format") != FORMAT:
                raise ArtifactError(f"{path} is not an artistrec model artifact")
            if int(meta.get("format_version", -1)) > FORMAT_VERSION:
                raise ArtifactError(
                    f"{path} was written by a newer artistrec (format {meta['format_version']})"
                )
            state: dict[str, Any] = {}
            if not meta_only:
                for key, kind in meta["arrays"].items():
                    if kind == "csr":
                        shape = tuple(int(x) for x in z[f"{key}.shape"])
                        state[key] = sp.csr_matrix(
                            (z[f"{key}.data"], z[f"{key}.indices"], z[f"{key}.indptr"]), shape=shape
                        )
                    else:
                        state[key] = z[key]
    except ArtifactError:
        raise
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        json.JSONDecodeError,
    ) as exc:
        # numpy's own words would suggest pickle (an object array, or a file it cannot place):
        # never invite unsafe loading, name the problem instead
        reason = (
            "it holds object data, which artistrec never writes or reads"
            if "pickle" in str(exc)
            else str(exc)
        )
        raise ArtifactError(
            f"{path} is not a valid artistrec model artifact ({reason}); retrain it with "
            "`artistrec train`"
        ) from exc
    return meta, state
