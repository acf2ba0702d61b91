"""Errors raised by the data layer: each names the file and what is wrong with it."""

from __future__ import annotations


class DataError(ValueError):
    """A data file is malformed or inconsistent; the message says which file and why."""


class MissingDataError(DataError, FileNotFoundError):
    """A required data file (or the whole data directory) is missing."""


class DownloadError(DataError, OSError):
    """The data set could not be downloaded or extracted."""
