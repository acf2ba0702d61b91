"""Content hashes of data files, cheap to repeat for multi-GB files.

The fingerprint of a data set (stored with the parsed cache and in every model artifact) is
built from the SHA-256 of each of its files. Files up to :data:`FULL_HASH_LIMIT` are hashed in
full on every load (HetRec's 3 MB take milliseconds). A larger file (Last.fm-360K's 1.6 GB
take a few seconds to hash) is hashed in full once; its hash is remembered in a small index
next to the parsed cache, keyed by the file's path, size, modification time, inode and a digest
of sampled blocks (the first and last MiB and 14 blocks between). A later load whose stat and
samples match reuses the hash: that costs a stat and about 3 MB of reads. A file that was
edited, replaced, copied or touched misses the index and is hashed in full again; the content
hash then finds the same parsed cache if the content did not change, so only the hash is
repeated, never the parse.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

#: Files larger than this are hashed in full once and then looked up by stat + samples.
FULL_HASH_LIMIT = 64 * 1024 * 1024
_EDGE = 1024 * 1024
_BLOCK = 64 * 1024
_N_BLOCKS = 14
#: Entries kept in the index (the oldest are dropped).
MAX_INDEX_ENTRIES = 256


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, streamed (constant memory)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sample_digest(path: Path, size: int) -> str:
    """A digest of the first and last MiB and evenly spaced 64 KiB blocks of a large file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        offsets = [0, max(size - _EDGE, 0)]
        step = size // (_N_BLOCKS + 1)
        offsets[1:1] = [step * (i + 1) for i in range(_N_BLOCKS)]
        for off in offsets:
            fh.seek(off)
            h.update(fh.read(_EDGE if off in (0, max(size - _EDGE, 0)) else _BLOCK))
    return h.hexdigest()


def _read_index(index: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_index(index: Path, entries: dict[str, dict[str, object]]) -> None:
    """Atomic write (temp file + rename); a failure only costs a full hash next time."""
    try:
        index.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=index.parent, suffix=".tmp.json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entries, fh)
        os.replace(tmp, index)
    except OSError:
        pass


def file_hash(path: Path, index: Path | None = None) -> str:
    """SHA-256 of ``path``; large files go through the stat + sample ``index`` when given."""
    path = Path(path)
    st = path.stat()
    if index is None or st.st_size <= FULL_HASH_LIMIT:
        return sha256_file(path)
    key = str(path.resolve())
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}
    entries = _read_index(index)
    entry = entries.get(key)
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in stamp.items()):
        if entry.get("sample") == _sample_digest(path, st.st_size):
            return str(entry["sha256"])
    digest = sha256_file(path)
    entries.pop(key, None)
    entries[key] = {**stamp, "sample": _sample_digest(path, st.st_size), "sha256": digest}
    while len(entries) > MAX_INDEX_ENTRIES:
        entries.pop(next(iter(entries)))
    _write_index(index, entries)
    return digest


def fingerprint_of(hashes: dict[str, str]) -> str:
    """One short fingerprint for a set of file hashes (stored in model artifacts)."""
    h = hashlib.sha256()
    for name in sorted(hashes):
        h.update(f"{name}={hashes[name]}\n".encode())
    return h.hexdigest()[:16]
