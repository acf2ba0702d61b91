"""Which model this process serves, and keeping it equal to the artifact on disk.

Every API process (each ``--workers`` process, each instance on each machine) watches the
default model's artifact file: once per ``poll`` seconds it compares the file's identity
(inode, size, modification time: one ``stat``) with the one it loaded, and when they differ it
reads the file in a worker thread, hashes its bytes and swaps the model in on the event loop
(in-flight requests keep the model they started with). ``POST /admin/reload`` does the same at
once in the process that received it; the others follow within ``poll`` seconds, so replacing
the artifact (written to a temporary file and renamed, as ``artistrec train`` does) reaches every
process that shares it, like TensorFlow Serving's file-system polling. A file that does not load
keeps the old model serving, is logged once, and is tried again when it changes.

The model version is the SHA-256 of the artifact's bytes (its first 16 hex digits): the same
file gives the same version on every machine, so a client (the ``X-Model-Version`` header) and
an operator (``/health``) can see which processes serve what.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from artistrec.models import load_model
from artistrec.models.base import Recommender
from artistrec.service import RecommenderService

log = logging.getLogger("artistrec.api")

#: Seconds between two checks of the artifact file (``artistrec serve --reload-poll``).
DEFAULT_POLL = 1.0
#: Version of a model that has no artifact file (set in memory, e.g. by tests).
UNSAVED = "unsaved"
#: Hex digits of the SHA-256 shown as the version.
VERSION_CHARS = 16
_Identity = tuple[int, int, int, int]


def file_identity(path: Path) -> _Identity | None:
    """(device, inode, size, mtime in ns) of ``path``, ``None`` when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def content_version(path: Path) -> str:
    """The first :data:`VERSION_CHARS` hex digits of the SHA-256 of the file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()[:VERSION_CHARS]


@dataclass(frozen=True)
class Served:
    """A model this process serves, the version of its artifact and the file it came from."""

    model: Recommender
    version: str
    identity: _Identity | None
    #: the model's parameters as JSON values (computed once: ``get_params`` inspects signatures)
    params: dict = field(default_factory=dict)

    @classmethod
    def of(cls, model: Recommender, version: str, identity: _Identity | None) -> Served:
        params = json.loads(json.dumps(model.get_params(), default=str))
        return cls(model, version, identity, params)


def _read(path: Path, service: RecommenderService) -> tuple[Recommender, str, _Identity | None]:
    """Load and hash ``path`` consistently: retried if the file is replaced while being read."""
    for _ in range(3):
        before = file_identity(path)
        version = content_version(path)
        model = load_model(path, service.dataset)
        if file_identity(path) == before:
            return model, version, before
    raise OSError(f"{path} kept changing while it was read; try again")


class ModelWatcher:
    """Keeps the ``service``'s default model equal to its artifact file (see the module doc)."""

    def __init__(self, service: RecommenderService, poll: float = DEFAULT_POLL) -> None:
        self.service = service
        self.poll = poll
        self.path = service.model_cache.artifact_path("default")
        model = service.model()
        identity = file_identity(self.path)
        version = content_version(self.path) if identity is not None else UNSAVED
        self._served = Served.of(model, version, identity)
        self._versions: dict[int, str] = {id(model): version}
        self._failed: _Identity | None = None
        self.last_error: str | None = None
        self._lock = asyncio.Lock()
        self._sync_lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def version(self) -> str:
        """The version of the default model served now."""
        return self._served.version

    @property
    def served(self) -> Served:
        return self._served

    def version_of(self, model: Recommender) -> str | None:
        """The version of a model this process served (``None`` if unknown)."""
        return self._versions.get(id(model))

    def remember(self, model: Recommender, path: Path) -> str:
        """Record the version of another model (read from ``path``); returns it. Blocking: call
        it off the event loop."""
        with self._sync_lock:
            known = self._versions.get(id(model))
            if known is None:
                known = content_version(path) if path.is_file() else UNSAVED
                self._versions[id(model)] = known
            return known

    # ------------------------------------------------------------------ reloading
    async def reload(self, force: bool = False) -> bool:
        """Re-read the artifact if it changed (``force``: even if its identity did not) and swap
        it in. Returns whether another version is served now; raises ``ArtifactError`` /
        ``OSError`` (old model kept) when the file cannot be loaded."""
        async with self._lock:
            identity = await run_in_threadpool(file_identity, self.path)
            if not force and identity == self._served.identity:
                return False
            try:
                model, version, identity = await run_in_threadpool(_read, self.path, self.service)
            except Exception as exc:
                self._failed = identity
                self.last_error = f"{type(exc).__name__}: {exc}"
                raise
            self._failed = None
            self.last_error = None
            old = self._served
            if version == old.version:
                # the same bytes (e.g. copied again): keep serving the model already in memory
                self._served = Served(old.model, version, identity, old.params)
                return False
            # on the event loop: a request running inline sees one model from start to end
            self.service.set_model(model)
            self._versions[id(model)] = version
            self._versions.pop(id(old.model), None)
            self._served = Served.of(model, version, identity)
            log.info("serving model %s version %s from %s", model.name, version, self.path)
            return True

    async def check_once(self) -> None:
        """One poll: reload when the file's identity changed (and did not already fail)."""
        identity = await run_in_threadpool(file_identity, self.path)
        if identity is None or identity in (self._served.identity, self._failed):
            return
        try:
            await self.reload()
        except Exception as exc:  # logged once per file identity; the old model keeps serving
            log.warning("model artifact %s not reloaded (old model kept): %s", self.path, exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            await self.check_once()

    def start(self) -> None:
        """Start polling (on the running event loop; ``poll`` <= 0 disables it)."""
        if self.poll > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
