"""Helpers for the data-layer tests: a tiny hand-written HetRec data set and a local HTTP server."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

#: A tiny data set whose every value the tests know. Users 2, 4, 6; artists 1, 3, 5, 7 (7 has no
#: listeners); tags 1, 2, 4. Artist 99 is tagged but not defined (dangling); one date is 1956.
MINI: dict[str, str] = {
    "artists.dat": (
        "id\tname\turl\tpictureURL\n"
        "1\tTitãs\thttp://www.last.fm/music/Tit%C3%A3s\thttp://img/1.jpg\n"
        '3\t"Weird Al" Yankovic\thttp://www.last.fm/music/%22Weird+Al%22+Yankovic\t\n'
        "5\tBjörk\thttp://www.last.fm/music/Bj%C3%B6rk\thttp://img/5.jpg\n"
        "7\tNobody Listens\thttp://www.last.fm/music/Nobody\thttp://img/7.jpg\n"
    ),
    "tags.dat": "tagID\ttagValue\n1\trock\n2\tmúsica brasileira\n4\tfußball\n",
    "user_artists.dat": (
        "userID\tartistID\tweight\n2\t1\t500\n2\t3\t20000\n4\t1\t1\n4\t5\t70000\n6\t3\t3000\n"
    ),
    # 2-4 listed both ways, 4-6 only one way: the friend matrix must still be symmetric.
    "user_friends.dat": "userID\tfriendID\n2\t4\n4\t2\n4\t6\n",
    "user_taggedartists.dat": (
        "userID\tartistID\ttagID\tday\tmonth\tyear\n"
        "2\t1\t2\t1\t5\t2008\n"  # listened pair (2, 1)
        "2\t7\t1\t2\t6\t2009\n"  # artist 7: never listened by anybody
        "4\t5\t4\t3\t7\t2010\n"  # listened pair (4, 5)
        "4\t1\t1\t1\t1\t1956\n"  # listened pair (4, 1), implausible date
        "6\t3\t1\t4\t8\t2007\n"  # listened pair (6, 3)
        "6\t99\t1\t5\t9\t2011\n"  # dangling artist id
    ),
}

ENCODINGS: dict[str, str] = {"artists.dat": "utf-8", "tags.dat": "latin-1"}


def write_mini(
    directory: Path,
    overrides: dict[str, str | bytes | None] | None = None,
    encodings: dict[str, str] | None = None,
) -> Path:
    """Write MINI into ``directory``; ``overrides`` replace a file's text (None deletes it)."""
    directory.mkdir(parents=True, exist_ok=True)
    enc = {**ENCODINGS, **(encodings or {})}
    files: dict[str, str | bytes | None] = {**MINI, **(overrides or {})}
    for name, content in files.items():
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode(enc.get(name, "ascii"))
        (directory / name).write_bytes(data)
    return directory


@pytest.fixture()
def mini_dir(tmp_path: Path) -> Path:
    """The MINI data set written to a fresh directory."""
    return write_mini(tmp_path / "mini")


def zip_bytes(files: dict[str, bytes], folder: str = "hetrec2011-lastfm-2k") -> bytes:
    """A zip holding ``files`` (inside ``folder``, or at the top level when folder is "")."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(f"{folder}/{name}" if folder else name, data)
    return buf.getvalue()


def dir_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes, int | None]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status, body, length = self.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture()
def http_server() -> Iterator[Callable[[dict[str, tuple[int, bytes, int | None]]], str]]:
    """Start a server on 127.0.0.1 (ephemeral port); call it with routes, get the base URL.

    A route maps a path to (status, body, Content-Length or None for the body's length).
    """
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(routes: dict[str, tuple[int, bytes, int | None]]) -> str:
        handler = type("Handler", (_Handler,), {"routes": routes})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
