"""Persistence: model artifacts (npz + JSON metadata) and listener profiles (SQLite)."""
