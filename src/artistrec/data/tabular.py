"""Vectorised parsing kit of the listening-log formats (Last.fm-360K, generic CSV/Parquet).

Reads delimited text into Arrow binary columns (pyarrow's C++ reader, no Python per line),
decodes them (UTF-8; a line that is not valid UTF-8 is read as latin-1 in all its fields),
parses play counts, and accounts for malformed lines: they are skipped, counted by reason and
reported as a finding with example line numbers, and are fatal only when more than
:data:`MAX_MALFORMED_SHARE` (1%) of a file's lines, and more than
:data:`MAX_MALFORMED_ALWAYS_SKIPPED` (10) lines, are malformed (then it is most likely not a
file of that format at all).
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import scipy.sparse as sp

from artistrec.data.decode import MAX_LISTED_LINES, latin1_finding
from artistrec.data.errors import DataError

#: Malformed lines are skipped up to this share of a file's non-blank lines; above it (and above
#: :data:`MAX_MALFORMED_ALWAYS_SKIPPED` lines) the file is rejected as most likely not of the
#: format: 1%, while the real Last.fm-360K file has a handful in 17.5M lines.
MAX_MALFORMED_SHARE = 0.01
#: Up to this many malformed lines are skipped whatever their share (a small hand-made file
#: with a typo or two still loads, with the typos as findings).
MAX_MALFORMED_ALWAYS_SKIPPED = 10
_MAX_EXAMPLES = 3
_MAX_DIGITS = 18  # longest play count accepted (keeps sums inside int64)
_BLOCK_SIZE = 1 << 24


@dataclass
class TextColumns:
    """The binary columns of a delimited file, and where its rows came from.

    ``invalid`` holds (non-blank line number, text) of lines with the wrong number of fields;
    they are not in ``table``. ``header`` is whether the first non-blank line was a header.
    """

    path: Path
    table: pa.Table
    invalid: list[tuple[int, str]]
    header: bool
    unit: str = "line"
    _blanks: np.ndarray | None = field(default=None, repr=False)

    def non_blank_numbers(self, rows: np.ndarray) -> np.ndarray:
        """Non-blank line numbers (1-based, header included) of table rows (0-based)."""
        v = np.sort(np.asarray([n for n, _ in self.invalid], dtype=np.int64))
        m = np.asarray(rows, dtype=np.int64) + 1 + int(self.header)
        return m + np.searchsorted(v - np.arange(v.size), m, side="right")

    def line_numbers(self, non_blank: np.ndarray) -> np.ndarray:
        """Physical 1-based line numbers of non-blank line numbers (blank lines counted)."""
        if self._blanks is None:
            self._blanks = blank_lines(self.path) if self.unit == "line" else np.empty(0, np.int64)
        blanks = self._blanks
        k = np.asarray(non_blank, dtype=np.int64)
        if blanks.size == 0:
            return k
        # The k-th non-blank line is line n with n - #(blank lines < n) == k.
        return k + np.searchsorted(blanks - np.arange(1, blanks.size + 1), k, side="left")


def read_columns(
    path: Path,
    names: list[str] | None,
    *,
    delimiter: str,
    quoted: bool,
    include: list[str] | None = None,
) -> TextColumns:
    """Read a delimited text file into binary columns with pyarrow (single-threaded, so the
    line numbers of malformed lines are known). ``names`` None: the first line is the header.
    Lines with the wrong number of fields are collected, not fatal; blank lines are ignored;
    a UTF-8 BOM is skipped.
    """
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append((int(row.number or 0), str(row.text)))
        return "skip"

    read_opts = pcsv.ReadOptions(column_names=names, use_threads=False, block_size=_BLOCK_SIZE)
    parse_opts = pcsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"' if quoted else False,
        double_quote=quoted,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=True,
        invalid_row_handler=on_invalid,
    )
    cols = include if include is not None else names
    convert_opts = pcsv.ConvertOptions(
        column_types={c: pa.binary() for c in cols or []},
        include_columns=include,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pcsv.read_csv(
            path, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts
        )
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path.name}: could not be read as delimited text: {exc}") from None
    return TextColumns(Path(path), table, invalid, header=names is None)


def blank_lines(path: Path) -> np.ndarray:
    """Physical 1-based numbers of the empty lines of a file (vectorised over its bytes).

    Line breaks are LF, CRLF and a lone CR, as pyarrow's reader splits lines. Only needed to
    point at lines in messages, so it is computed lazily.
    """
    with open(path, "rb") as fh:
        try:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return np.empty(0, dtype=np.int64)
        with mm:
            b = np.frombuffer(mm, dtype=np.uint8)
            lf, cr = [], []
            step = 1 << 26
            for lo in range(0, b.size, step):
                chunk = b[lo : lo + step]
                lf.append(np.flatnonzero(chunk == 10) + lo)
                cr.append(np.flatnonzero(chunk == 13) + lo)
            del b, chunk
    lf_pos, cr_pos = np.concatenate(lf), np.concatenate(cr)
    crlf = _in_sorted(cr_pos + 1, lf_pos)
    breaks = np.sort(np.concatenate([lf_pos, cr_pos[~crlf]]))
    starts = np.concatenate([[0], breaks[:-1] + 1])
    ends = breaks - _in_sorted(breaks - 1, cr_pos[crlf])  # content ends before a CRLF's CR
    return np.flatnonzero(ends == starts).astype(np.int64) + 1


def _in_sorted(values: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Membership of ``values`` in the ascending array ``sorted_ref`` (binary search)."""
    if sorted_ref.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_ref, values), sorted_ref.size - 1)
    return sorted_ref[pos] == values


# ----------------------------------------------------------------------------- decoding
@dataclass
class Decoded:
    """A string column as codes into ``values`` (Python str), and which rows were latin-1."""

    codes: np.ndarray  # int64 per row
    values: np.ndarray  # object array of str
    latin1_rows: np.ndarray  # bool per row: a field of this line was not UTF-8


def _dictionary(col: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    enc = pc.dictionary_encode(col)
    if enc.num_chunks == 0:
        return np.empty(0, dtype=np.int64), pa.array([], pa.binary())
    codes = np.concatenate(
        [ch.indices.to_numpy(zero_copy_only=False).astype(np.int64) for ch in enc.chunks]
    )
    return codes, enc.chunks[-1].dictionary


def decode_columns(table: pa.Table, names: list[str]) -> dict[str, Decoded]:
    """Decode binary columns: UTF-8, and latin-1 for every field of a line that is not UTF-8.

    Works on each column's distinct values (pyarrow's hash dictionary), so the Python work
    is per distinct value, never per line.
    """
    raw: dict[str, tuple[np.ndarray, pa.Array]] = {n: _dictionary(table[n]) for n in names}
    values: dict[str, np.ndarray] = {}
    bad_values: dict[str, np.ndarray] = {}
    for n, (_, dictionary) in raw.items():
        try:
            values[n] = np.asarray(
                dictionary.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object
            )
            bad_values[n] = np.zeros(len(dictionary), dtype=bool)
        except pa.ArrowInvalid:  # some value is not UTF-8: decode value by value
            out, bad = [], []
            for b in dictionary.to_pylist():
                try:
                    out.append(b.decode("utf-8"))
                    bad.append(False)
                except UnicodeDecodeError:
                    out.append(b.decode("latin-1"))
                    bad.append(True)
            values[n] = np.asarray(out, dtype=object)
            bad_values[n] = np.asarray(bad, dtype=bool)
    n_rows = table.num_rows
    latin = np.zeros(n_rows, dtype=bool)
    for n, (codes, _) in raw.items():
        if bad_values[n].any():
            latin |= bad_values[n][codes]
    result = {}
    for n, (codes, dictionary) in raw.items():
        vals = values[n]
        if latin.any():
            # Every field of a latin-1 line is read as latin-1, also fields that are UTF-8.
            rows = np.flatnonzero(latin)
            used, inverse = np.unique(codes[rows], return_inverse=True)
            extra = np.asarray(
                [b.decode("latin-1") for b in dictionary.take(pa.array(used)).to_pylist()],
                dtype=object,
            )
            codes = codes.copy()
            codes[rows] = len(vals) + inverse
            vals = np.concatenate([vals, extra])
        result[n] = Decoded(codes, vals, latin)
    return result


def strip_values(values: np.ndarray) -> np.ndarray:
    """Values with surrounding whitespace removed and line breaks inside (possible in Parquet)
    turned into spaces, so every key and name is one line of text (vectorised over distinct
    values)."""
    if not values.size:
        return values
    s = pd.Series(values, dtype=object).astype(str)
    return s.str.replace(r"[\r\n]+", " ", regex=True).str.strip().to_numpy(object)


def latin1_rows_finding(cols: TextColumns, latin: np.ndarray) -> str | None:
    """The finding for lines that were read as latin-1, with their line numbers."""
    rows = np.flatnonzero(latin)
    if rows.size == 0:
        return None
    if cols.unit == "line":
        lines = cols.line_numbers(cols.non_blank_numbers(rows[:MAX_LISTED_LINES]))
    else:
        lines = rows[:MAX_LISTED_LINES] + 1
    return latin1_finding(cols.path.name, lines, count=int(rows.size), unit=cols.unit)


# ----------------------------------------------------------------------------- play counts
def parse_counts(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Play counts from a binary, string, integer or float column.

    Returns (int64 values, reason codes): 0 = valid, 1 = not a whole number, 2 = not positive.
    """
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    n = len(col)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        arr = col.to_numpy(zero_copy_only=False).astype(np.float64)
        whole = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 10**_MAX_DIGITS)
        values = np.where(whole, arr, 0).astype(np.int64)
        reason = np.where(~whole, 1, np.where(values <= 0, 2, 0)).astype(np.int8)
        return values, reason
    text = col.cast(pa.string()) if pa.types.is_binary(col.type) else col
    try:
        values = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        trimmed = pc.utf8_trim_whitespace(text)
        numeric = pc.match_substring_regex(trimmed, rf"^-?[0-9]{{1,{_MAX_DIGITS}}}$")
        numeric_np = numeric.to_numpy(zero_copy_only=False).astype(bool)
        safe = pc.if_else(numeric, trimmed, pa.scalar("0"))
        values = pc.cast(safe, pa.int64()).to_numpy(zero_copy_only=False)
        reason = np.where(~numeric_np, 1, np.where(values <= 0, 2, 0)).astype(np.int8)
        return values.astype(np.int64), reason
    values = values.astype(np.int64)
    return values, np.where(values <= 0, 2, 0).astype(np.int8)[:n]


# ----------------------------------------------------------------------------- malformed lines
@dataclass
class Malformed:
    """Skipped lines of one file: how many, why, and a few examples with line numbers."""

    name: str
    total: int
    unit: str = "line"
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[tuple[int, str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def add(self, reason: str, count: int, lines: np.ndarray, texts: list[str]) -> None:
        """Record ``count`` skipped lines for ``reason``; ``lines``/``texts``: the first few."""
        if count == 0:
            return
        self.counts[reason] = self.counts.get(reason, 0) + int(count)
        for line, text in zip(lines[:_MAX_EXAMPLES], texts[:_MAX_EXAMPLES], strict=False):
            self.examples.append((int(line), text))

    def _summary(self) -> str:
        ranked = sorted(self.counts.items(), key=lambda kv: -kv[1])
        reasons = ", ".join(f"{v:,} {k}" for k, v in ranked)
        shown = sorted(self.examples)[:_MAX_EXAMPLES]
        eg = "; ".join(f"{self.unit} {line}: {text[:80]!r}" for line, text in shown)
        return f"({reasons}), e.g. {eg}"

    def finding(self) -> str | None:
        """``"x.tsv: 2 malformed lines skipped (...), e.g. line 102: '...'"``, or None."""
        if not self.n:
            return None
        units = self.unit if self.n == 1 else f"{self.unit}s"
        return f"{self.name}: {self.n:,} malformed {units} skipped {self._summary()}"

    def check(self, what: str) -> None:
        """Raise when more than :data:`MAX_MALFORMED_SHARE` of the lines (and more than
        :data:`MAX_MALFORMED_ALWAYS_SKIPPED`) are malformed."""
        total = max(self.total, 1)
        if self.n / total > MAX_MALFORMED_SHARE and self.n > MAX_MALFORMED_ALWAYS_SKIPPED:
            raise DataError(
                f"{self.name}: {self.n:,} of {self.total:,} {self.unit}s "
                f"({self.n / total:.1%}) are malformed, more than the "
                f"{MAX_MALFORMED_SHARE:.0%} a {what} file may have {self._summary()}"
            )


def row_texts(table: pa.Table, names: list[str], rows: np.ndarray, sep: str) -> list[str]:
    """The text of a few table rows, fields joined by ``sep`` (for messages)."""
    picked = table.select(names).take(pa.array(rows[:_MAX_EXAMPLES], type=pa.int64()))
    cols = [
        [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in c.to_pylist()]
        for c in picked.columns
    ]
    return [sep.join(parts) for parts in zip(*cols, strict=True)]


def skip_rows(mal: Malformed, cols: TextColumns, rows: np.ndarray, reason: str, sep: str) -> None:
    """Record table ``rows`` as skipped for ``reason``, with line numbers and text examples."""
    if rows.size == 0:
        return
    if cols.unit == "line":
        lines = cols.line_numbers(cols.non_blank_numbers(rows[:_MAX_EXAMPLES]))
    else:
        lines = rows[:_MAX_EXAMPLES] + 1
    texts = row_texts(cols.table, list(cols.table.column_names), rows, sep)
    mal.add(reason, int(rows.size), lines, texts)


def skip_invalid(mal: Malformed, cols: TextColumns, n_fields: int, sep_name: str) -> None:
    """Record the lines that had the wrong number of fields."""
    if not cols.invalid:
        return
    numbers = np.asarray([n for n, _ in cols.invalid[:_MAX_EXAMPLES]], dtype=np.int64)
    mal.add(
        f"without {n_fields} {sep_name}-separated fields",
        len(cols.invalid),
        cols.line_numbers(numbers),
        [t for _, t in cols.invalid[:_MAX_EXAMPLES]],
    )


def sum_listens(
    rows: np.ndarray,
    cols: np.ndarray,
    plays: np.ndarray,
    user_ids: np.ndarray,
    artist_ids: np.ndarray,
) -> tuple[pd.DataFrame, int]:
    """(userID, artistID, weight) with duplicate (user, artist) rows summed; and how many were.

    ``rows``/``cols`` index ``user_ids``/``artist_ids``. Sparse COO -> CSR sums duplicates in
    one vectorised pass; the result is sorted by user, then artist.
    """
    shape = (user_ids.size, artist_ids.size)
    listens = sp.csr_matrix((plays.astype(np.int64), (rows, cols)), shape=shape)
    listens.sum_duplicates()
    ua = pd.DataFrame(
        {
            "userID": np.repeat(user_ids, np.diff(listens.indptr)),
            "artistID": artist_ids[listens.indices],
            "weight": listens.data.astype(np.int64),
        }
    )
    return ua, int(rows.size - listens.nnz)
