"""Fixtures of the data-layer tests (the helpers live in hetrec_fixtures.py)."""

from hetrec_fixtures import http_server, mini_dir

__all__ = ["http_server", "mini_dir"]
