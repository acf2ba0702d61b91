"""Request bodies -> service arguments, service results -> response bodies (plain dicts)."""

from __future__ import annotations

from typing import Any

from artistrec.api.schemas import RatingIn
from artistrec.service import (
    InvalidRequestError,
    ProfileService,
    Recommendation,
    RecommenderService,
)
from artistrec.store.profiles import Profile


def ratings_by_id(svc: RecommenderService, ratings: list[RatingIn]) -> dict[int, int]:
    """{original artist id: level} from ratings naming artists by id or by name.

    Names are resolved here (unknown ones raise with suggestions); an artist given twice, by
    id or name, is refused. Ids and levels are validated where they are used, by the service.
    """
    out: dict[int, int] = {}
    for r in ratings:
        aid = r.artist_id if r.artist_id is not None else svc.resolve_artist(r.name or "")
        if aid in out:
            label = r.name if r.name is not None else aid
            raise InvalidRequestError(
                f"artist {label!r} (id {aid}) appears more than once", "ratings"
            )
        out[int(aid)] = int(r.level)
    return out


def recommendations_body(
    svc: RecommenderService, recs: list[Recommendation], model: str
) -> dict[str, Any]:
    """The ``RecommendationsOut`` shape: the concrete model name and the records (no index)."""
    return {
        "model": svc.model(model).name,
        "recommendations": [{k: v for k, v in r.to_dict().items() if k != "index"} for r in recs],
    }


def profile_body(profiles: ProfileService, profile: Profile) -> dict[str, Any]:
    """The ``ProfileOut`` shape, each rating with the artist's name (None if unknown now)."""
    return {
        "id": profile.id,
        "display_name": profile.display_name,
        "ratings": [
            {"artist_id": a, "name": n, "level": lv} for a, n, lv in profiles.rated_artists(profile)
        ],
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
    }
