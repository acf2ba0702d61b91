"""The service's listening-history import: errors, the fold-in input, exclusions, the answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from artistrec import create_model
from artistrec.data import Dataset
from artistrec.history import HistoryImporter, samples
from artistrec.history import formats as fmt
from artistrec.service import (
    InvalidHistoryError,
    InvalidRequestError,
    RecommenderService,
    UnknownArtistError,
)
from artistrec.service import history as service_history


@pytest.fixture(scope="module")
def svc(synthetic_ds: Dataset) -> RecommenderService:
    # popularity recommends the most listened artists: exactly the ones a history of popular
    # artists must not get back
    model = create_model("popularity").fit(synthetic_ds)
    return RecommenderService(synthetic_ds, models={"default": model, "popularity": model})


def popular(ds: Dataset, n: int) -> list[tuple[int, str]]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [(int(ds.artist_ids[i]), str(ds.artist_names[i])) for i in order]


def table(plays: dict[str, int]) -> list[tuple[str, bytes]]:
    return [("plays.csv", samples.plays_table(plays))]


def test_importer_is_built_once_from_the_catalogue_matcher(svc: RecommenderService) -> None:
    imp = svc.history.importer
    assert imp is svc.history.importer
    assert imp.index is svc.catalogue.matcher
    assert np.array_equal(imp.artist_ids, svc.catalogue.ids)


def test_import_history_answer(svc: RecommenderService, synthetic_ds: Dataset) -> None:
    top = popular(synthetic_ds, 4)
    plays = {top[0][1]: 20_000, top[1][1].upper(): 5, top[2][1]: 1, "Nobody Knows Them": 7}
    streams = samples.generate_streams(list(plays), 400, seed=4)
    files = [
        (f"Streaming_History_Audio_{i}.json", b)
        for i, b in enumerate(samples.spotify_extended(streams, parts=2))
    ]
    seen: list[tuple[int, int]] = []
    body = svc.import_history(files, k=5, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)]
    body = json.loads(json.dumps(body))  # JSON-safe
    assert set(body) == {
        "read",
        "matched",
        "ratings",
        "unmatched",
        "to_confirm",
        "profile",
        "model",
        "recommendations",
    }
    expected = streams.plays()
    assert body["read"]["plays"] == sum(expected.values())
    assert [f["format"] for f in body["read"]["files"]] == ["spotify-extended"] * 2
    assert {r["artist_id"] for r in body["ratings"]} == {a for a, _ in top[:3]}
    assert body["unmatched"] == [
        {"name": "Nobody Knows Them", "plays": expected["Nobody Knows Them"]}
    ]
    assert body["profile"] == {
        "ratings": [{"artist_id": r["artist_id"], "level": r["level"]} for r in body["ratings"]]
    }
    assert body["model"] == "popularity"
    recs = body["recommendations"]
    assert len(recs) == 5
    assert set(recs[0]) == {"artist_id", "name", "url", "score", "tags", "reason"}
    assert not {r["artist_id"] for r in recs} & {a for a, _ in top[:3]}
    assert top[3][0] == recs[0]["artist_id"]  # the most popular artist left


def test_every_artist_of_the_history_is_left_out(
    svc: RecommenderService, synthetic_ds: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = popular(synthetic_ds, 12)
    # only the 3 most played become ratings; the others of the history are excluded
    monkeypatch.setattr(service_history, "HISTORY_MAX_RATINGS", 3)
    plays = {name: 1000 - i for i, (_, name) in enumerate(top[:8])}
    body = svc.import_history(table(plays), k=4)
    assert [r["artist_id"] for r in body["profile"]["ratings"]] == [a for a, _ in top[:3]]
    assert len(body["ratings"]) == 8
    assert [r["artist_id"] for r in body["recommendations"]] == [a for a, _ in top[8:12]]


def test_fuzzy_candidates_awaiting_confirmation_are_not_recommended(
    svc: RecommenderService, synthetic_ds: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = popular(synthetic_ds, 3)
    # every fuzzy match is only a candidate to confirm
    strict = HistoryImporter(svc.catalogue.matcher, svc.catalogue.ids, confident_score=100)
    monkeypatch.setattr(svc.history, "_importer", strict)
    typo = top[1][1] + "x"
    body = svc.import_history(table({top[0][1]: 50, typo: 40}), k=3)
    [pending] = body["to_confirm"]
    assert pending["name"] == typo and pending["artist_id"] == top[1][0]
    assert [r["artist_id"] for r in body["ratings"]] == [top[0][0]]
    assert top[1][0] not in {r["artist_id"] for r in body["recommendations"]}
    assert body["recommendations"][0]["artist_id"] == top[2][0]


def test_entries(svc: RecommenderService, synthetic_ds: Dataset) -> None:
    (a, name), (b, _) = popular(synthetic_ds, 2)
    body = svc.import_history(
        entries=[{"name": name.lower(), "plays": 3}, {"artist_id": b, "plays": 2000}], k=3
    )
    got = {r["artist_id"]: (r["plays"], r["level"], r["match"]) for r in body["ratings"]}
    assert got == {a: (3, 2, "folded"), b: (2000, 3, "id")}
    assert not {a, b} & {r["artist_id"] for r in body["recommendations"]}
    with pytest.raises(UnknownArtistError) as exc:
        svc.import_history(entries=[{"artist_id": 10**9, "plays": 1}])
    assert exc.value.field == "history"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"files": [("x.txt", b"hello world\nthis is text\n")]}, "Understood formats"),
        ({"files": [("h.json", b'[{"ts": 1,')]}, r"h\.json: not valid JSON: .* line 1"),
        ({"files": [("e.csv", b"artist,plays\n")]}, "no plays were found"),
        ({"files": []}, "no files were given"),
        ({"entries": [{"name": "A", "plays": 0}]}, "entry 1: plays must be"),
        ({"entries": [{"name": "A", "artist_id": 1, "plays": 2}]}, "exactly one of"),
        ({"entries": []}, "no plays were given"),
        ({"entries": "A,1"}, "entries must be a list"),
    ],
)
def test_bad_histories_are_invalid_requests(
    svc: RecommenderService, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidHistoryError, match=message) as exc:
        svc.read_history(**kwargs)
    assert exc.value.field == "history" and not exc.value.too_large
    assert isinstance(exc.value, InvalidRequestError)  # what every interface already handles


def test_size_limits_are_marked_too_large(
    svc: RecommenderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fmt, "MAX_FILE_BYTES", 100)
    with pytest.raises(InvalidHistoryError, match="files over") as exc:
        svc.read_history([("big.csv", b"a,1\n" * 50)])
    assert exc.value.too_large
    monkeypatch.setattr(service_history, "MAX_HISTORY_ENTRIES", 2)
    with pytest.raises(InvalidHistoryError, match="at most 2 history entries") as exc:
        svc.read_history(entries=[{"name": "A", "plays": 1}] * 3)
    assert exc.value.too_large


def test_paths_and_unreadable_paths(svc: RecommenderService, tmp_path, synthetic_ds) -> None:  # noqa: ANN001
    (_, name), *_ = popular(synthetic_ds, 1)
    path = tmp_path / "mine.tsv"
    path.write_bytes(samples.plays_table({name: 12}, sep="\t"))
    assert [r.name for r in svc.read_history(path).ratings] == [name]
    with pytest.raises(InvalidHistoryError, match="no such file"):
        svc.read_history(tmp_path / "missing.csv")
    with pytest.raises(InvalidHistoryError, match="no such file"):
        svc.read_history(tmp_path)  # a folder


def test_request_options_are_checked_before_the_import(
    svc: RecommenderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("the history was read before the options were checked")

    monkeypatch.setattr(svc.history, "read", boom)
    for kwargs, field in (
        ({"k": 0}, "k"),
        ({"novelty": 2.0}, "novelty"),
        ({"model": "x"}, "model"),
    ):
        with pytest.raises(InvalidRequestError) as exc:
            svc.import_history(table({"A": 1}), **kwargs)
        assert exc.value.field == field
    with pytest.raises(InvalidRequestError, match="either history files or"):
        service_history.HistoryService(svc.catalogue).read()
