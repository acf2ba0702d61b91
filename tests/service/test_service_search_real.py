"""Search on the real data (integration): what people type finds what they mean, through the
one catalogue the CLI, the API and the web app share (issue 12, items 10-13)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from artistrec.api.app import create_app
from artistrec.cli import app as cli_app
from artistrec.data import Dataset
from artistrec.models import create_model
from artistrec.service import RecommenderService, UnknownArtistError
from artistrec.store.profiles import open_profile_store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def svc(real_ds: Dataset) -> RecommenderService:
    # a fast model: these tests are about names, not rankings
    return RecommenderService(real_ds, models={"default": create_model("popularity").fit(real_ds)})


def _names(hits: list) -> list[str]:
    return [h.name for h in hits]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("guns n roses", "Guns N' Roses"),  # apostrophe folded away (12.10)
        ("GUNS N' ROSES", "Guns N' Roses"),
        ("ac dc", "AC/DC"),  # slash
        ("acdc", "AC/DC"),
        ("rem", "R.E.M."),  # dots
        ("jay z", "Jay-Z"),  # hyphen
        ("kesha", "Ke$ha"),  # a dollar inside a word
        ("beyonce", "Beyoncé"),  # accents, as before
        ("motorhead", "Motörhead"),
        ("beatles", "The Beatles"),  # without "The"
        ("eminen", "Eminem"),  # a close spelling of a famous name beats an obscure prefix (12.11)
        ("metalica", "Metallica"),
        ("britny spears", "Britney Spears"),
        ("소녀시대", "소녀시대"),  # other scripts, as written (12.12)
        ("sonyeosidae", "소녀시대"),  # and by their transliteration
        ("dongbangsingi", "동방신기"),
        ("ariya", "Ария"),
        ("Ария", "Ария"),
    ],
)
def test_search_finds_what_people_type(svc: RecommenderService, query: str, first: str) -> None:
    hits = svc.search_artists(query, limit=5)
    assert hits and hits[0].name == first, _names(hits)


def test_punctuation_variants_rank_by_listeners(svc: RecommenderService) -> None:
    """The famous spelling first, the one-listener collaboration after it (12.10)."""
    hits = svc.search_artists("guns n roses", limit=5)
    assert _names(hits)[:2] == ["Guns N' Roses", "Guns N Roses &Alice Cooper"]
    assert hits[0].listeners > 100 > hits[1].listeners


@pytest.mark.parametrize(
    ("query", "meant"),
    [
        ("eminen", "Eminem"),
        ("radiohed", "Radiohead"),
        ("metalica", "Metallica"),
        ("ramstein", "Rammstein"),
        ("muze", "Muse"),
        ("coldpaly", "Coldplay"),
        ("soneosidae", "소녀시대"),
    ],
)
def test_a_near_miss_always_gets_did_you_mean(
    svc: RecommenderService, query: str, meant: str
) -> None:
    """In the catalogue (web app), in the CLI's error, and in the API's 404 (12.11)."""
    assert _names(svc.did_you_mean(query))[:1] == [meant]
    with pytest.raises(UnknownArtistError) as info:
        svc.resolve_artist(query)  # a typed name is never guessed...
    assert info.value.suggestions[0] == meant  # ...but the close name is offered


@pytest.mark.parametrize("query", ["radio", "lady gag", "the beatle", "kanye", "Radiohead"])
def test_partial_or_exact_names_get_no_correction(svc: RecommenderService, query: str) -> None:
    """Typing the start of names is no misspelling; an exact name needs no correction."""
    assert svc.did_you_mean(query) == []
    assert svc.search_artists(query, limit=3)


def test_the_cli_offers_the_close_name(real_ds: Dataset) -> None:
    result = CliRunner().invoke(cli_app, ["similar", "eminen", "--model", "popularity"])
    out = " ".join(result.output.split())
    assert result.exit_code == 1 and "no artist named 'eminen'; did you mean: Eminem" in out


def test_unknown_ids_get_no_suggestions(svc: RecommenderService, tmp_path) -> None:
    """Numerically close ids name unrelated artists: no suggestions for ids (12.13)."""
    with pytest.raises(UnknownArtistError) as info:
        svc.artist_info(999999)
    assert info.value.suggestions == []
    assert svc.did_you_mean("999999") == [] and svc.search_artists("999999") == []
    store = open_profile_store(tmp_path / "p.sqlite3")
    with TestClient(create_app(svc, store)) as client:
        body = client.get("/artists/999999").json()
        assert body["error"] == "unknown_artist" and body["suggestions"] == []
        body = client.get("/artists", params={"q": "guns n roses", "limit": 1}).json()
        assert body[0]["name"] == "Guns N' Roses"
    store.close()
