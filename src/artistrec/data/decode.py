"""Turn the bytes of a text data file into text: UTF-8, with latin-1 only for the lines that need it.

A file that is valid UTF-8 (a leading BOM is dropped) is decoded in one call, so the common case
costs nothing extra. Otherwise only the lines that are not valid UTF-8 are read as latin-1:
decoding the whole file as latin-1 would turn every correct UTF-8 name into mojibake
(``Björk`` -> ``BjÃ¶rk``). When no line is non-ASCII *and* valid UTF-8, the file is simply
latin-1 (as GroupLens ships ``tags.dat``) and is decoded as such without a finding; a file that
mixes both gets its latin-1 lines reported.

Also here: :func:`line_layout`, the vectorised per-line scan (lengths and tab counts) that the
loaders use to check a file's shape and to point at line numbers without a loop over lines.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

import numpy as np

_BOM = codecs.BOM_UTF8
#: How many line numbers a finding lists before "and N more".
MAX_LISTED_LINES = 5


@dataclass(frozen=True)
class Decoded:
    """Text of a file and how it was decoded.

    ``encoding`` is ``"utf-8"``, ``"latin-1"`` (the whole file) or ``"mixed"`` (UTF-8 with
    the 1-based ``latin1_lines`` read as latin-1).
    """

    text: str
    encoding: str
    latin1_lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def finding(self, name: str) -> str | None:
        """A sentence for the findings list when some lines were read as latin-1, else None."""
        return latin1_finding(name, self.latin1_lines) if self.encoding == "mixed" else None


def latin1_finding(
    name: str, lines: np.ndarray, count: int | None = None, unit: str = "line"
) -> str:
    """``"artists.dat: 1 line is not UTF-8 and was read as latin-1: line 7"`` (plural aware).

    ``lines`` are the line numbers to show (the first few are listed); ``count`` the total
    when more lines were affected than ``lines`` holds.
    """
    n = int(count if count is not None else len(lines))
    shown = ", ".join(str(int(x)) for x in lines[:MAX_LISTED_LINES])
    more = f" and {n - MAX_LISTED_LINES} more" if n > MAX_LISTED_LINES else ""
    verb = f"{unit} is not UTF-8 and was" if n == 1 else f"{unit}s are not UTF-8 and were"
    where = unit if n == 1 else f"{unit}s"
    return f"{name}: {n} {verb} read as latin-1: {where} {shown}{more}"


def decode_lines(raw: bytes) -> Decoded:
    """Decode ``raw``: UTF-8 as a whole when valid, else per line (latin-1 where UTF-8 fails)."""
    start = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return Decoded(raw[start:].decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    view = memoryview(raw)
    pieces: list[str] = []
    latin_lines: list[int] = []
    needs_utf8 = start > 0  # a BOM declares UTF-8
    pos, line_no, counted_to = start, 1, 0
    while pos < len(raw):
        try:
            rest = codecs.utf_8_decode(view[pos:], "strict", True)[0]
        except UnicodeDecodeError as exc:
            bad = pos + exc.start
        else:
            pieces.append(rest)
            needs_utf8 = needs_utf8 or not rest.isascii()
            break
        # The bad line starts after the last newline before the bad byte (a char boundary).
        line_start = max(raw.rfind(b"\n", pos, bad) + 1, pos)
        end = raw.find(b"\n", bad)
        line_end = len(raw) if end < 0 else end + 1
        good = raw[pos:line_start].decode("utf-8")
        needs_utf8 = needs_utf8 or not good.isascii()
        pieces.append(good)
        pieces.append(raw[line_start:line_end].decode("latin-1"))
        line_no += raw.count(b"\n", counted_to, line_start)
        counted_to = line_start
        latin_lines.append(line_no)
        pos = line_end
    if not needs_utf8:
        # No line needs UTF-8: the file is latin-1 throughout (e.g. GroupLens' tags.dat).
        return Decoded(raw.decode("latin-1"), "latin-1")
    return Decoded("".join(pieces), "mixed", np.asarray(latin_lines, dtype=np.int64))


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode file bytes (see :func:`decode_lines`). Returns (text, encoding)."""
    decoded = decode_lines(raw)
    return decoded.text, decoded.encoding


def line_layout(raw: bytes | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per ``\\n``-terminated line of ``raw``: its length without a trailing CR, and its tab count.

    Works on the bytes (tab, CR and LF are single ASCII bytes in UTF-8 and latin-1 alike), so
    shape checks are vectorised instead of a Python loop over lines.
    """
    b = np.frombuffer(raw, dtype=np.uint8) if isinstance(raw, bytes | bytearray) else raw
    ends = np.flatnonzero(b == 10)
    if b.size and b[-1] != 10:
        ends = np.append(ends, b.size)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    lengths = ends - starts
    has_cr = (lengths > 0) & (b[np.maximum(ends - 1, 0)] == 13)
    lengths = lengths - has_cr
    tabs = np.flatnonzero(b == 9)
    n_tabs = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts)
    return lengths, n_tabs
