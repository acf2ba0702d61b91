"""What the ``artistrec`` commands share: option types checked before anything loads, and --help.

Every command of :mod:`artistrec.cli` declares its options through the ``Annotated`` types here
(``HostOpt``, ``PortOpt``, ``ArtifactOpt``, ``ModelOpt``, ``DataDirOpt``, ``DbOpt``,
``EngineOpt``, ``SparkMasterOpt``, ``HistoryOpt``, ...). Their checks run while the command line
is parsed, so a wrong port, timeout, URL, path or Spark master is refused in one sentence (exit
code 2) before a data set or a model is loaded. One meaning has one option name in every
command: ``--model NAME`` names a registered model, ``--artifact PATH`` a model file,
``--data-dir PATH`` a data set folder, ``--db PATH|URL`` a profile database, ``--out PATH`` what
a command writes.

:class:`ArtistrecCommand` and :class:`ArtistrecGroup` render ``--help`` without type tags on
flags (``--json`` rather than ``--json <bool>``) and name arguments in capitals in the usage line
(``OUT_DIR`` rather than ``{out_dir}``).

Nothing here imports the data layer, the models or the service at import time (``artistrec
--help`` stays fast); the checks that need them import them when they run.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import os
import re
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

#: Notes (folders created, deprecated spellings) go to stderr, so ``--json`` output stays clean.
note_console = Console(stderr=True)

#: A DNS host name: dot-separated labels of letters, digits and inner hyphens (RFC 1123).
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


# ----------------------------------------------------------------------------- --help rendering
_TYPE_WORDS = {"int": "INTEGER", "float": "NUMBER", "str": "TEXT", "path": "PATH", "bool": ""}


def _plain_metavar(param: TyperOption, ctx: typer.Context) -> str:
    """``INTEGER``, ``PATH``, ``[a|b]`` ... for an option without its own metavar."""
    if param.is_flag:
        return ""
    label = param.display_type(ctx).strip("<>")
    if "|" in label:
        return f"[{label}]"
    label = label.removesuffix(" range")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    return _TYPE_WORDS.get(label, label.upper())


def _plain_params(params: list[Any], ctx: typer.Context) -> list[Any]:
    for p in params:
        if isinstance(p, TyperOption) and p.metavar is None:
            p.metavar = _plain_metavar(p, ctx)
        elif isinstance(p, TyperArgument) and not getattr(p, "_plain", False):
            # the type column of an argument ignores its metavar: show a word, not "<path>"
            word = _TYPE_WORDS.get(p.display_type(ctx).strip("<>"), "")
            p.display_type_rich = lambda ctx, _word=word: _word  # type: ignore[method-assign]
            p.metavar = p.metavar or str(p.name).upper()
            p._plain = True  # type: ignore[attr-defined]
    return params


def _usage_pieces(command: TyperCommand | TyperGroup, ctx: typer.Context) -> list[str]:
    rv = [command.options_metavar] if command.options_metavar else []
    for p in command.get_params(ctx):
        if isinstance(p, TyperArgument):
            name = p.display_name_raw if p.required else f"[{p.display_name_raw}]"
            rv.append(name + ("..." if p.nargs != 1 else ""))
    return rv


class ArtistrecCommand(TyperCommand):
    """A Typer command whose --help shows ``--json`` (no ``<bool>``) and ``OUT_DIR`` (no braces)."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return _plain_params(super().get_params(ctx), ctx)

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return _usage_pieces(self, ctx)


class ArtistrecGroup(TyperGroup):
    """A Typer group with the same --help rendering as :class:`ArtistrecCommand`."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return _plain_params(super().get_params(ctx), ctx)

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return [*_usage_pieces(self, ctx), self.subcommand_metavar]


# ----------------------------------------------------------------------------- checks
def _bad(message: str) -> typer.BadParameter:
    return typer.BadParameter(message)


def check_port(value: int | None) -> int | None:
    """A TCP port, 1-65535."""
    if value is not None and not 1 <= value <= 65535:
        raise _bad(f"a TCP port is a number from 1 to 65535, got {value}")
    return value


def check_host(value: str | None) -> str | None:
    """An IP address or a host name that resolves (``0.0.0.0`` listens on every interface)."""
    if value is None:
        return None
    host = value.strip()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise _bad(
            f"{value!r} is not a host name or IP address (e.g. 127.0.0.1, 0.0.0.0 for every "
            "interface, or localhost)"
        )
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        raise _bad(f"cannot resolve host {host!r}: {getattr(exc, 'strerror', exc)}") from exc
    return host


def check_bindable(host: str, port: int) -> None:
    """Fail (exit 2) now when ``host:port`` cannot be listened on, rather than after loading.

    Binds a throwaway socket with the options the servers use (``SO_REUSEADDR``), so a port in
    ``TIME_WAIT`` is not refused, and closes it at once.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise typer.BadParameter(
            f"cannot resolve host {host!r}: {exc.strerror}", param_hint="--host"
        ) from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except PermissionError as exc:
            raise typer.BadParameter(
                f"no permission to listen on port {port} (ports below 1024 need root): choose "
                "a port above 1023",
                param_hint="--port",
            ) from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                msg = (
                    f"port {port} on {host} is already in use (another server?): stop it or "
                    "choose another --port"
                )
            else:
                msg = f"cannot listen on {host}:{port}: {exc.strerror}"
            raise typer.BadParameter(msg, param_hint="--port") from exc


def check_timeout(value: float | None) -> float | None:
    """Seconds to wait: a finite number above 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise _bad(f"a timeout is a number of seconds above 0, got {value}")
    return value


def check_url(value: str | None) -> str | None:
    """A URL the download can open (http, https, ftp or file)."""
    if value is None:
        return None
    from artistrec.data import DataError
    from artistrec.data.source import check_data_url

    try:
        return check_data_url(value)
    except DataError as exc:
        raise _bad(str(exc)) from exc


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _writable_location(path: Path, what: str) -> None:
    """The folder that would hold ``path`` is a writable directory or can be created."""
    base = _existing_ancestor(path.parent if path.parent != path else path)
    if not base.is_dir():
        raise _bad(f"cannot write {what} {path}: {base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise _bad(f"cannot write {what} {path}: no permission to write in {base}")


def check_data_dir(value: Path | None) -> Path | None:
    """An existing folder (which data set format it holds is the loader's to say)."""
    if value is None:
        return None
    if not value.exists():
        raise _bad(
            f"folder {value} does not exist: give the folder that holds the data set's files"
        )
    if not value.is_dir():
        raise _bad(f"{value} is a file: give the folder that holds the data set's files")
    return value


def check_out_file(value: Path | None) -> Path | None:
    """A file to write: not a folder; its folder exists or can be created."""
    if value is None:
        return None
    if value.is_dir():
        raise _bad(f"{value} is a folder: give a file name (e.g. {value / 'model.npz'})")
    _writable_location(value, "file")
    return value


def check_out_dir(value: Path | None) -> Path | None:
    """A folder to write into: not a file; it exists or can be created."""
    if value is None:
        return None
    if value.exists() and not value.is_dir():
        raise _bad(f"{value} is a file: give a folder to write into")
    if value.is_dir():
        if not os.access(value, os.W_OK | os.X_OK):
            raise _bad(f"no permission to write in {value}")
        return value
    _writable_location(value / "x", "into folder")
    return value


def check_artifact(value: Path | None) -> Path | None:
    """An existing model artifact (an ``.npz`` archive); the full check happens when it loads."""
    if value is None:
        return None
    from artistrec.store.artifacts import ArtifactError, check_artifact_file

    try:
        check_artifact_file(value)
    except ArtifactError as exc:
        raise _bad(str(exc)) from exc
    return value


def check_db(value: str | None) -> str | None:
    """A profile database: a SQLite file path, ``sqlite:///path`` or a PostgreSQL URL."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if "://" in value:
        from artistrec.store.profiles import StoreError
        from artistrec.store.profiles.factory import backend_class

        try:
            backend_class(value)
        except StoreError as exc:
            raise _bad(str(exc)) from exc
        return value
    path = Path(value)
    if path.is_dir():
        raise _bad(f"{value} is a folder: give a database file (e.g. {path / 'profiles.sqlite3'})")
    _writable_location(path, "database")
    return value


def check_model_name(value: str | None) -> str | None:
    """A registered model name (``default`` included)."""
    if value is None:
        return None
    from artistrec.models import available_models

    if value not in available_models():
        raise _bad(f"unknown model {value!r}; choose one of {', '.join(available_models())}")
    return value


def check_k(value: int | None) -> int | None:
    """A number of results, 1 to the service's limit."""
    if value is None:
        return None
    from artistrec.service.validation import MAX_K

    if not 1 <= value <= MAX_K:
        raise _bad(f"the number of results is 1 to {MAX_K}, got {value}")
    return value


def check_novelty(value: float | None) -> float | None:
    """Discovery 0..1."""
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise _bad(f"novelty is a number from 0 to 1, got {value}")
    return value


def check_measure(value: str | None) -> str | None:
    """``cosine`` or ``dot``."""
    if value is not None and value not in ("cosine", "dot"):
        raise _bad(f"the similarity measure is cosine or dot, got {value!r}")
    return value


#: Where ``artistrec train`` runs a fit.
ENGINES = ("local", "spark")


def check_engine(value: str | None) -> str | None:
    """``local`` or ``spark``."""
    if value is not None and value not in ENGINES:
        raise _bad(f"choose one of {', '.join(ENGINES)}, got {value!r}")
    return value


def check_spark_master(value: str | None) -> str | None:
    """A Spark master URL in one of Spark's forms (whether a cluster answers is checked when
    the session starts)."""
    if value is None:
        return None
    from artistrec.models.spark_als import SparkUnavailableError, parse_master

    try:
        return parse_master(value)[0]
    except SparkUnavailableError as exc:
        raise _bad(str(exc)) from exc


def check_engine_options(model: str, engine: str, spark_master: str | None) -> None:
    """What ``--engine`` and ``--spark-master`` allow together with MODEL (exit 2 otherwise)."""
    if engine == "spark" and model != "als":
        raise typer.BadParameter(
            f"--engine spark trains the als model only, not {model!r}", param_hint="--engine"
        )
    if engine != "spark" and spark_master is not None:
        raise typer.BadParameter(
            "--spark-master only applies with --engine spark", param_hint="--spark-master"
        )


def check_history_files(value: list[Path] | None) -> list[Path] | None:
    """Listening-history files that exist and can be read (what they hold is checked on reading)."""
    for path in value or []:
        if not path.exists():
            raise _bad(f"file {path} does not exist: give a listening-history export")
        if path.is_dir():
            raise _bad(f"{path} is a folder, not a file: give a listening-history export or a zip")
        if not os.access(path, os.R_OK):
            raise _bad(f"no permission to read {path}")
    return value


# ----------------------------------------------------------------------------- folders
def make_dirs(folder: Path, option: str) -> None:
    """Create ``folder`` (and missing parents), saying so in one line when it did not exist."""
    folder = Path(folder)
    if folder.is_dir():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot create folder {folder}: {exc.strerror or exc}", param_hint=option
        ) from exc
    note_console.print(f"created folder {folder} (for {option})", soft_wrap=True, markup=False)


def make_parent_dirs(path: Path, option: str) -> None:
    """Create the folder a file ``path`` goes into, saying so when it did not exist."""
    make_dirs(Path(path).absolute().parent, option)


# ----------------------------------------------------------------------------- model options
def looks_like_path(value: str) -> bool:
    """Whether a ``--model`` value is a file rather than a model name (the old spelling)."""
    return value.endswith(".npz") or os.sep in value or "/" in value or Path(value).is_file()


def split_model_option(
    model: str | None, artifact: Path | None, command: str
) -> tuple[str | None, Path | None]:
    """(model name, artifact) from ``--model`` and ``--artifact``.

    ``--model PATH`` is the old spelling of ``--artifact PATH`` for ``app`` and ``serve``: it
    still works, with a one-line deprecation note.
    """
    if model is None or not looks_like_path(model):
        return model, artifact
    if artifact is not None:
        raise typer.BadParameter(
            f"give the model file once: --artifact {artifact} (--model names a model)",
            param_hint="--model",
        )
    note_console.print(
        f"note: `artistrec {command} --model PATH` is deprecated; use --artifact {model} "
        "(--model now names a model, as in recommend and similar)",
        soft_wrap=True,
        markup=False,
    )
    try:
        return None, check_artifact(Path(model))
    except typer.BadParameter as exc:
        raise typer.BadParameter(exc.message, param_hint="--model") from None


# ----------------------------------------------------------------------------- option types
HostOpt = Annotated[
    str,
    typer.Option(
        metavar="HOST",
        callback=check_host,
        help="Interface to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).",
    ),
]
PortOpt = Annotated[
    int, typer.Option(metavar="PORT", callback=check_port, help="TCP port (1-65535).")
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        metavar="SECONDS", callback=check_timeout, help="Seconds to wait for the server (> 0)."
    ),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        callback=check_url,
        help="Zip URL (http, https, ftp or file; default: $ARTISTREC_DATA_URL, else GroupLens).",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="PATH",
        callback=check_data_dir,
        help="Folder with the data: HetRec 2011, Last.fm-360K or interactions.csv/.parquet "
        "(default: $LASTFM_DATA_DIR, the cache, else HetRec 2011 downloaded on first use).",
    ),
]
ArtifactOpt = Annotated[
    Path | None,
    typer.Option(
        "--artifact",
        metavar="PATH",
        callback=check_artifact,
        help="Model file (.npz from `artistrec train --out`) served as the default model "
        "(default: the cached default model, trained once if missing).",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        metavar="NAME",
        callback=check_model_name,
        help="Model name: default (the recommended one), or e.g. als, ease, item-knn, seed-mf "
        "(a name that does not exist lists every model).",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH|URL",
        callback=check_db,
        help="Profile database: a SQLite file, sqlite:///path or postgresql://user@host/dbname "
        "(needs the 'postgres' extra) (default: $ARTISTREC_DB, else <cache>/profiles.sqlite3).",
    ),
]
KOpt = Annotated[
    int, typer.Option("--k", metavar="N", callback=check_k, help="Number of results (1-500).")
]
NoveltyOpt = Annotated[
    float,
    typer.Option(
        metavar="0..1",
        callback=check_novelty,
        help="Discovery: 0 = the model's best matches, higher = trade score for less popular artists.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
EngineOpt = Annotated[
    str,
    typer.Option(
        metavar="local|spark",
        callback=check_engine,
        help="Where the model trains: local (this process) or spark (als only: pyspark.ml's ALS "
        "on --spark-master; needs Java and the spark extra).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        metavar="URL",
        callback=check_spark_master,
        help="Spark master for --engine spark: local[N] (N cores here), local[*] or "
        "spark://host:7077 (default local[*]).",
    ),
]
HistoryOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--history",
        metavar="FILE",
        callback=check_history_files,
        help="A listening-history export: Spotify JSON, Last.fm scrobbles CSV, an artist,plays "
        "CSV/TSV, or a zip of them (repeatable; read in memory, not stored).",
    ),
]
