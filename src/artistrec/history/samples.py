"""Generate listening-history exports in every understood format (tests, benchmarks, demos).

The files look like what Spotify and Last.fm hand out, quirks included: podcast and video rows
without an artist, streams shorter than 30 s, a UTF-8 byte-order mark, header-less Last.fm CSV,
histories split over several files, and zips with the files in a folder next to a PDF.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Streams:
    """A generated listening log: one row per stream, oldest first.

    ``artist`` is None for podcast/video rows; ``ms_played`` how long each stream lasted;
    ``ts`` ISO-8601 UTC timestamps.
    """

    artist: list[str | None]
    track: list[str | None]
    album: list[str | None]
    ms_played: np.ndarray
    ts: list[str]

    def plays(self, min_play_ms: int = 30_000) -> dict[str, int]:
        """The expected plays per artist spelling (streams with an artist and long enough)."""
        df = pd.DataFrame({"artist": self.artist, "ms": self.ms_played})
        df = df[df["artist"].notna() & (df["ms"] >= min_play_ms)]
        return {str(k): int(v) for k, v in df.groupby("artist").size().items()}


def generate_streams(
    artists: Sequence[str],
    n: int,
    seed: int = 0,
    podcast_share: float = 0.05,
    short_share: float = 0.15,
    start: str = "2023-01-01",
) -> Streams:
    """``n`` streams over ``artists`` (Zipf-like preference), with podcasts and short skips."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(artists) + 1) ** 1.1
    pick = rng.choice(len(artists), n, p=weights / weights.sum())
    podcast = rng.random(n) < podcast_share
    short = rng.random(n) < short_share
    ms = np.where(short, rng.integers(0, 30_000, n), rng.integers(30_000, 360_000, n))
    ts = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(
        np.sort(rng.integers(0, 365 * 86400, n)), "s"
    )
    names = np.asarray(artists, dtype=object)[pick]
    artist = [None if p else str(a) for a, p in zip(names, podcast, strict=True)]
    track = [None if p else f"Track {int(i) % 17}" for i, p in zip(pick, podcast, strict=True)]
    album = [None if p else f"Album {int(i) % 5}" for i, p in zip(pick, podcast, strict=True)]
    return Streams(
        artist, track, album, ms.astype(np.int64), ts.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    )


def spotify_extended(s: Streams, parts: int = 1) -> list[bytes]:
    """Extended streaming history JSON (``Streaming_History_Audio_*.json``), split in ``parts``."""
    rows = []
    for a, t, al, ms, ts in zip(
        s.artist, s.track, s.album, s.ms_played.tolist(), s.ts, strict=True
    ):
        rows.append(
            {
                "ts": ts,
                "platform": "android",
                "ms_played": ms,
                "conn_country": "DE",
                "master_metadata_track_name": t,
                "master_metadata_album_artist_name": a,
                "master_metadata_album_album_name": al,
                "spotify_track_uri": None if a is None else "spotify:track:x",
                "episode_name": "An episode" if a is None else None,
                "episode_show_name": "A podcast" if a is None else None,
                "spotify_episode_uri": "spotify:episode:y" if a is None else None,
                "reason_start": "trackdone",
                "reason_end": "trackdone",
                "shuffle": False,
                "skipped": ms < 30_000,
                "offline": False,
                "incognito_mode": False,
            }
        )
    return [
        json.dumps(chunk.tolist(), indent=2).encode()
        for chunk in np.array_split(np.asarray(rows, dtype=object), parts)
    ]


def spotify_account(s: Streams, parts: int = 1) -> list[bytes]:
    """Account-data ``StreamingHistory*.json`` (``endTime``, ``artistName``, ``msPlayed``)."""
    rows = []
    for a, t, ms, ts in zip(s.artist, s.track, s.ms_played.tolist(), s.ts, strict=True):
        end = ts[:16].replace("T", " ")
        if a is None:
            rows.append(
                {"endTime": end, "podcastName": "A podcast", "episodeName": "Ep", "msPlayed": ms}
            )
        else:
            rows.append({"endTime": end, "artistName": a, "trackName": t, "msPlayed": ms})
    return [
        json.dumps(chunk.tolist()).encode()
        for chunk in np.array_split(np.asarray(rows, dtype=object), parts)
    ]


def _csv(df: pd.DataFrame, header: bool, sep: str = ",") -> bytes:
    return df.to_csv(index=False, header=header, sep=sep, lineterminator="\n").encode()


def lastfm_csv(s: Streams, mbids: dict[str, str] | None = None, bom: bool = False) -> bytes:
    """Last.fm scrobbles with a header (``uts,utc_time,artist,artist_mbid,album,...``).

    Only streams with an artist and at least 30 s are scrobbles (Last.fm's own rule).
    """
    keep = [i for i, a in enumerate(s.artist) if a is not None and s.ms_played[i] >= 30_000]
    ts = pd.to_datetime(pd.Series([s.ts[i] for i in keep]))
    df = pd.DataFrame(
        {
            "uts": (ts.astype("int64") // 10**9).to_numpy(),
            "utc_time": ts.dt.strftime("%d %b %Y, %H:%M").to_numpy(),
            "artist": [s.artist[i] for i in keep],
            "artist_mbid": [(mbids or {}).get(s.artist[i] or "", "") for i in keep],
            "album": [s.album[i] for i in keep],
            "album_mbid": "",
            "track": [s.track[i] for i in keep],
            "track_mbid": "",
        }
    )
    data = _csv(df, header=True)
    return (b"\xef\xbb\xbf" + data) if bom else data


def lastfm_headerless(s: Streams) -> bytes:
    """Last.fm scrobbles as ``artist,album,track,date`` without a header."""
    keep = [i for i, a in enumerate(s.artist) if a is not None and s.ms_played[i] >= 30_000]
    ts = pd.to_datetime(pd.Series([s.ts[i] for i in keep]))
    df = pd.DataFrame(
        {
            "artist": [s.artist[i] for i in keep],
            "album": [s.album[i] for i in keep],
            "track": [s.track[i] for i in keep],
            "date": ts.dt.strftime("%d %b %Y %H:%M").to_numpy(),
        }
    )
    return _csv(df, header=False)


def plays_table(plays: dict[str, int], header: bool = True, sep: str = ",") -> bytes:
    """A plain ``artist,plays`` table (CSV, or TSV with ``sep="\\t"``)."""
    df = pd.DataFrame({"artist": list(plays), "plays": list(plays.values())})
    return _csv(df, header=header, sep=sep)


def zipped(files: dict[str, bytes], folder: str = "Spotify Extended Streaming History") -> bytes:
    """A zip like Spotify's download: the files in a folder, next to a PDF read-me."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}/", b"")
        zf.writestr(f"{folder}/ReadMeFirst_ExtendedStreamingHistory.pdf", b"%PDF-1.4\n%\xe2\xe3\n")
        for name, data in files.items():
            zf.writestr(f"{folder}/{name}", data)
    return buf.getvalue()
