"""The records the service answers with (original ids, names, links): plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ArtistHit:
    """One artist found by a catalogue search."""

    index: int
    id: int
    name: str
    listeners: int
    url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Recommendation:
    """One recommended artist with its score and a human-readable reason."""

    artist_id: int
    index: int
    name: str
    url: str
    score: float
    tags: list[str] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist_id": self.artist_id,
            "index": self.index,
            "name": self.name,
            "url": self.url,
            "score": self.score,
            "tags": list(self.tags),
            "reason": self.reason,
        }
