"""The profile service: stored listener profiles, their ratings checked against the catalogue.

The HTTP API and the web app both save and read profiles through :class:`ProfileService`; it owns
one :class:`~artistrec.store.profiles.ProfileStore` and uses only the store's public operations
(``create``, ``get``, ``replace``, ``update``, ``delete``, ``ping``). Ratings are validated here,
with the same check the recommendations use (ids known, levels 0..5); the store then only checks
their shape. Errors are the service's (:class:`InvalidRequestError`, :class:`UnknownArtistError`)
and the store's (``ProfileNotFoundError``, ``NotOwnerError``, ``InvalidProfileError``,
``StoreError``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from artistrec.service.catalogue import Catalogue
from artistrec.service.validation import check_ratings
from artistrec.store.profiles import Profile, ProfileStore, default_path, open_profile_store

#: Overrides the profile database the web app opens (:func:`open_store`).
ENV_PROFILE_DB = "ARTISTREC_DB"


def profile_db_path(path: str | os.PathLike[str] | None = None) -> str | Path:
    """``path``, else ``$ARTISTREC_DB``, else the API's default ``<cache>/profiles.sqlite3``:
    a resolved file path, or a database URL (``sqlite:///...``, ``postgresql://...``) as given."""
    target = path or os.environ.get(ENV_PROFILE_DB) or default_path()
    if isinstance(target, str) and "://" in target:
        return target.strip()
    return Path(target).resolve()


def open_store(path: str | os.PathLike[str] | None = None) -> ProfileStore:
    """The profile store :func:`profile_db_path` names, SQLite or PostgreSQL (the one place
    interfaces open one)."""
    return open_profile_store(profile_db_path(path))


class ProfileService:
    """Save, read, change and delete profiles whose ratings are {original artist id: level}."""

    def __init__(self, store: ProfileStore, catalogue: Catalogue) -> None:
        self.store = store
        self.catalogue = catalogue

    def ping(self) -> bool:
        """Whether the profile database answers (readiness probes)."""
        return self.store.ping()

    def _checked(self, ratings: Mapping[int, int]) -> dict[int, int]:
        check_ratings(ratings, self.catalogue)
        return {int(a): int(lv) for a, lv in ratings.items()}

    # ------------------------------------------------------------------ reading
    def get(self, profile_id: str) -> Profile:
        """The profile as stored (it may rate artists another data version had)."""
        return self.store.get(profile_id)

    def load(self, profile_id: str) -> Profile:
        """The profile with only the ratings of artists this data set knows."""
        profile = self.store.get(str(profile_id).strip())
        profile.ratings = self.known_ratings(profile.ratings)
        return profile

    def known_ratings(self, ratings: Mapping[int, int]) -> dict[int, int]:
        """``ratings`` without the artist ids the current data set does not know."""
        names = self.catalogue.names_of(ratings.keys())
        return {int(a): int(lv) for (a, lv), n in zip(ratings.items(), names, strict=True) if n}

    def rated_artists(self, profile: Profile) -> list[tuple[int, str | None, int]]:
        """(artist id, name or None for an unknown id, level) of each rating, in stored order."""
        names = self.catalogue.names_of(profile.ratings.keys())
        return [(a, n, lv) for (a, lv), n in zip(profile.ratings.items(), names, strict=True)]

    # ------------------------------------------------------------------ writing
    def create(
        self, ratings: Mapping[int, int], display_name: str | None = None
    ) -> tuple[Profile, str]:
        """A new profile; returns it and its owner token (shown only now)."""
        return self.store.create(self._checked(ratings), display_name)

    def replace(
        self,
        profile_id: str,
        token: str | None,
        ratings: Mapping[int, int],
        display_name: str | None = None,
        *,
        if_version: int | None = None,
    ) -> Profile:
        """Replace all ratings and the display name (owner only; ``if_version``: only if the
        stored version is that one, else ``VersionConflictError``)."""
        return self.store.replace(
            profile_id, token, self._checked(ratings), display_name, if_version=if_version
        )

    def update(
        self,
        profile_id: str,
        token: str | None,
        ratings: Mapping[int, int] | None = None,
        remove: Iterable[int] = (),
        display_name: str | None = None,
        set_display_name: bool = False,
        *,
        if_version: int | None = None,
    ) -> Profile:
        """Upsert ``ratings``, delete the ratings of ``remove`` (known or not), rename (owner
        only; ``if_version`` as in :meth:`replace`)."""
        return self.store.update(
            profile_id,
            token,
            set_ratings=self._checked(ratings or {}),
            remove=remove,
            display_name=display_name,
            set_display_name=set_display_name,
            if_version=if_version,
        )

    def delete(self, profile_id: str, token: str | None, *, if_version: int | None = None) -> None:
        """Delete a profile (owner only; ``if_version`` as in :meth:`replace`)."""
        self.store.delete(profile_id, token, if_version=if_version)

    def save(
        self,
        ratings: Mapping[int, int],
        display_name: str | None = None,
        profile_id: str | None = None,
        token: str | None = None,
    ) -> tuple[str, str]:
        """Store ``ratings``: a new profile without ``profile_id``, else replace that one's
        ratings and name (its ``token`` needed). Returns (profile id, owner token)."""
        if profile_id is None:
            profile, new_token = self.create(ratings, display_name)
            return profile.id, new_token
        self.replace(profile_id, token, ratings, display_name)
        return profile_id, str(token)
