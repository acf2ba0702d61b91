"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary directory.

Runs as the ``postgres`` OS user when we are root (PostgreSQL refuses to run as root), on a free
TCP port of 127.0.0.1 with its Unix socket in the temporary directory, so it never touches a
system cluster. Local socket connections are trusted (administration); TCP connections need
the password (what the store under test uses, so password handling is real).

No pytest in here: benchmarks can use it too (``python tests/store/pg_cluster.py`` starts one
and prints its URL until Ctrl-C).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

APP_USER = "artistrec"
APP_PASSWORD = "pw-S3cret-9f2c"


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl`` (``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin``, else ``PATH``), or ``None``."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def major(p: str) -> float:
        try:
            return float(Path(p).parent.name)
        except ValueError:
            return 0.0

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major)[::-1]]
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)  # type: ignore[arg-type]
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def why_unavailable() -> str | None:
    """Why no throwaway server can run here (``None`` when one can)."""
    if find_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs an OS user 'postgres' to run the server"
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connect(url: str, **kwargs: object):  # -> psycopg.Connection (psycopg imported lazily)
    """A plain psycopg connection (tests that act as another client of the server)."""
    import psycopg

    return psycopg.connect(url, **kwargs)


class Cluster:
    """One server; :meth:`start` / :meth:`stop` may be called again (same data, same port)."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        if self.bindir is None:
            raise RuntimeError(why_unavailable() or "no PostgreSQL")
        self.root = Path(tempfile.mkdtemp(prefix="artistrec-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._n = 0
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        )
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nshared_buffers = 16MB\n"
                "max_connections = 60\nfsync = on\nlog_min_messages = warning\n"
            )
        self.start()
        self.admin(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / tool), *args]  # type: ignore[operator]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.root)
        if out.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {out.stdout}{out.stderr}{log}")
        return out

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def admin(self, sql: str, dbname: str = "postgres") -> list[tuple]:
        """Run ``sql`` as the superuser over the Unix socket (autocommit)."""
        import psycopg

        with psycopg.connect(
            host=str(self.root), port=self.port, user="postgres", dbname=dbname, autocommit=True
        ) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def url(self, dbname: str, password: str | None = APP_PASSWORD) -> str:
        auth = f"{APP_USER}:{password}" if password is not None else APP_USER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh empty database owned by the app user; its URL (with the password)."""
        self._n += 1
        name = f"{prefix}_{os.getpid()}_{self._n}_{time.monotonic_ns() % 10**6}"
        self.admin(f"CREATE DATABASE {name} OWNER {APP_USER}")
        return self.url(name)

    def destroy(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    reason = why_unavailable()
    if reason:
        raise SystemExit(reason)
    cluster = Cluster()
    try:
        print(cluster.new_database("bench"), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.destroy()
