"""The profile-store contract, run against every backend (SQLite file and a real PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from artistrec.store.profiles import (
    MAX_DISPLAY_NAME,
    MAX_RATINGS,
    SCHEMA_VERSION,
    InvalidProfileError,
    NotOwnerError,
    Profile,
    ProfileNotFoundError,
    ProfileStore,
    StoreError,
    VersionConflictError,
    open_profile_store,
)


def test_schema_and_health(store: ProfileStore) -> None:
    assert store.schema_version == SCHEMA_VERSION
    assert store.ping() and store.ping(write=True) and store.integrity_ok()
    store.check_writable()
    assert store.count() == 0  # the write probe touches no profile


def test_crud_and_ownership(store: ProfileStore) -> None:
    p, token = store.create({10: 5, 3: 0}, "alice")
    assert p.ratings == {3: 0, 10: 5} and p.display_name == "alice" and p.version == 1
    assert list(p.ratings) == [3, 10]
    other, other_token = store.create({})
    assert store.get(p.id) == p
    for bad in (None, "", other_token, token + "x", "\ud800"):
        with pytest.raises(NotOwnerError):
            store.replace(p.id, bad, {1: 1})
        with pytest.raises(NotOwnerError):
            store.update(p.id, bad, set_ratings={1: 1})
        with pytest.raises(NotOwnerError):
            store.delete(p.id, bad)
    assert store.get(p.id) == p  # refused writes changed nothing, not even the version
    q = store.replace(p.id, token, {7: 2}, "bob")
    assert q.ratings == {7: 2} and q.display_name == "bob" and q.updated_at >= p.updated_at
    assert q.created_at == p.created_at and q.version == 2
    q = store.update(p.id, token, set_ratings={7: 4, 8: 1}, remove=[99])
    assert q.ratings == {7: 4, 8: 1} and q.display_name == "bob" and q.version == 3
    q = store.update(p.id, token, remove=[7], display_name=None, set_display_name=True)
    assert q.ratings == {8: 1} and q.display_name is None and q.version == 4
    assert store.get(p.id) == q
    store.delete(p.id, token)
    with pytest.raises(ProfileNotFoundError):
        store.get(p.id)
    with pytest.raises(ProfileNotFoundError):
        store.delete(p.id, token)
    with pytest.raises(ProfileNotFoundError):
        store.replace(p.id, token, {})
    assert store.count() == 1 and store.get(other.id).ratings == {}
    assert store.integrity_ok()  # the deleted profile's ratings went with it


@pytest.mark.parametrize("bad_id", ["nope", "", "x" * 500, "a\x00b", 42, None])
def test_unknown_or_impossible_ids_are_not_found(store: ProfileStore, bad_id: object) -> None:
    with pytest.raises(ProfileNotFoundError):
        store.get(bad_id)  # type: ignore[arg-type]
    with pytest.raises(ProfileNotFoundError):
        store.replace(bad_id, "t", {})  # type: ignore[arg-type]


def test_large_artist_ids_round_trip(store: ProfileStore) -> None:
    ratings = {2**63 - 1: 5, -(2**63): 0, 0: 3}
    p, _ = store.create(ratings)
    assert store.get(p.id).ratings == dict(sorted(ratings.items()))


@pytest.mark.parametrize(
    "ratings",
    [{1: 6}, {1: -1}, {1: True}, {1: 2.5}, {"a": 1}, {2**64: 1}, {True: 1}, [(1, 1)]],
)
def test_invalid_ratings(store: ProfileStore, ratings: object) -> None:
    with pytest.raises(InvalidProfileError):
        store.create(ratings)  # type: ignore[arg-type]
    assert store.count() == 0


@pytest.mark.parametrize("name", ["x" * (MAX_DISPLAY_NAME + 1), "a\x00b", "\udc80", 5])
def test_invalid_display_names(store: ProfileStore, name: object) -> None:
    with pytest.raises(InvalidProfileError):
        store.create({}, name)  # type: ignore[arg-type]
    assert store.count() == 0


def test_unicode_display_name(store: ProfileStore) -> None:
    p, _ = store.create({}, "Björk ❤ 東京")
    assert store.get(p.id).display_name == "Björk ❤ 東京"


def test_limits_and_atomic_failure(store: ProfileStore) -> None:
    with pytest.raises(InvalidProfileError):
        store.create({i: 1 for i in range(MAX_RATINGS + 1)})
    p, token = store.create({i: 1 for i in range(MAX_RATINGS)})
    # an update that would exceed the limit is refused whole
    with pytest.raises(InvalidProfileError, match="at most"):
        store.update(p.id, token, set_ratings={MAX_RATINGS: 2, 0: 5}, remove=[])
    assert store.get(p.id) == p
    with pytest.raises(InvalidProfileError):
        store.update(p.id, token, set_ratings={1: 2}, remove=[1])
    with pytest.raises(InvalidProfileError):
        store.update(p.id, token, remove=["1"])  # type: ignore[list-item]
    # removing one and adding one stays within the limit
    q = store.update(p.id, token, set_ratings={MAX_RATINGS: 2}, remove=[0])
    assert len(q.ratings) == MAX_RATINGS and q.version == 2


def test_versions_and_conflicts(store: ProfileStore) -> None:
    p, token = store.create({1: 1})
    assert p.version == 1
    q = store.replace(p.id, token, {1: 2}, if_version=1)
    assert q.version == 2
    with pytest.raises(VersionConflictError) as err:
        store.replace(p.id, token, {1: 3}, if_version=1)
    assert err.value.current_version == 2 and err.value.expected_version == 1
    assert "version 2" in str(err.value)
    with pytest.raises(VersionConflictError):
        store.update(p.id, token, set_ratings={5: 5}, if_version=3)
    with pytest.raises(VersionConflictError):
        store.delete(p.id, token, if_version=1)
    assert store.get(p.id) == q  # conflicts wrote nothing
    for bad in (0, -1, True, "2", 2.0):
        with pytest.raises(InvalidProfileError):
            store.replace(p.id, token, {}, if_version=bad)  # type: ignore[arg-type]
    # the owner check comes before the version check: strangers learn nothing from a 412
    with pytest.raises(NotOwnerError):
        store.replace(p.id, "wrong", {}, if_version=1)
    r = store.update(p.id, token, set_ratings={5: 5}, if_version=2)
    assert r.version == 3
    store.delete(p.id, token, if_version=3)
    assert store.count() == 0


def test_write_that_changes_nothing_keeps_the_version(store: ProfileStore) -> None:
    p, token = store.create({1: 1, 2: 2}, "n")
    assert store.replace(p.id, token, {2: 2, 1: 1}, "n") == p
    assert store.update(p.id, token, set_ratings={1: 1}, remove=[77]) == p
    q = store.update(p.id, token, display_name="m", set_display_name=True)
    assert q.version == 2 and q.display_name == "m"


def test_updated_at_comes_from_the_database_and_grows(store: ProfileStore) -> None:
    before = time.time()
    p, token = store.create({})
    assert abs(p.created_at - before) < 60 and p.created_at == p.updated_at
    stamps = [p.updated_at]
    for i in range(5):
        stamps.append(store.replace(p.id, token, {i: 1}).updated_at)
    assert stamps == sorted(stamps) and store.get(p.id).updated_at == stamps[-1]


def test_token_stored_only_as_hash(store: ProfileStore) -> None:
    from artistrec.store.profiles import hash_token

    p, token = store.create({1: 1})
    rows = store._execute(
        lambda tx: tx.rows("SELECT token_hash FROM profiles WHERE id = ?", (p.id,)),
        write=False,
        action="read",
    )
    assert rows[0][0] == hash_token(token) and token not in rows[0][0]
    assert len(token) >= 40  # 32 random bytes


def test_concurrent_creates(store: ProfileStore) -> None:
    ids: list[str] = []

    def work(n: int) -> None:
        for i in range(20):
            ids.append(store.create({n * 100 + i: i % 6})[0].id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 80 and len(set(ids)) == 80 and store.integrity_ok()


def test_concurrent_read_modify_write_loses_no_update(store: ProfileStore) -> None:
    """Threads each add one artist (id = number of ratings) with GET then PUT(if_version),
    retrying on conflict: two writers building on one state would add the same id, so every
    successful write shows in the final version and in the number of ratings."""
    p, token = store.create({0: 0})
    successes: list[int] = []
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            done = 0
            while done < 6:
                cur = store.get(p.id)
                ratings = dict(cur.ratings)
                ratings[len(ratings)] = 1
                try:
                    store.replace(p.id, token, ratings, if_version=cur.version)
                except VersionConflictError:
                    conflicts.append(1)
                    continue
                successes.append(1)
                done += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = store.get(p.id)
    assert final.version == 1 + len(successes) == 49
    assert sorted(final.ratings) == list(range(49))


def test_concurrent_updates_without_if_version_keep_every_change(store: ProfileStore) -> None:
    """Blind PATCHes of different artists from many threads: none is lost, each is a version."""
    p, token = store.create({})
    n_threads, per = 6, 10

    def work(n: int) -> None:
        for i in range(per):
            store.update(p.id, token, set_ratings={n * 1000 + i: (i % 5) + 1})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.get(p.id)
    assert len(final.ratings) == n_threads * per
    assert final.version == 1 + n_threads * per


def test_two_store_objects_share_one_database(store_target: str) -> None:
    a = open_profile_store(store_target)
    b = open_profile_store(store_target)
    try:
        p, token = a.create({1: 1}, "shared")
        assert b.get(p.id) == p
        q = b.replace(p.id, token, {2: 2}, if_version=1)
        assert a.get(p.id) == q
        with pytest.raises(VersionConflictError) as err:
            a.update(p.id, token, set_ratings={3: 3}, if_version=1)
        assert err.value.current_version == 2
        b.delete(p.id, token)
        with pytest.raises(ProfileNotFoundError):
            a.get(p.id)
    finally:
        a.close()
        b.close()


CHILD = r"""
import json, sys
from artistrec.store.profiles import open_profile_store
store = open_profile_store(sys.argv[1])
cmd = json.loads(sys.argv[2])
seen = store.get(cmd["id"])  # the parent's write
changed = store.update(cmd["id"], cmd["token"], set_ratings={7: 5}, if_version=seen.version)
made, token = store.create({1: 4}, "child")
print(json.dumps({"seen": seen.ratings, "version": changed.version, "id": made.id,
                  "token": token}))
store.close()
"""


def test_processes_see_each_others_writes(store: ProfileStore, store_target: str) -> None:
    p, token = store.create({1: 3}, "parent")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, store_target, json.dumps({"id": p.id, "token": token})],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    child = json.loads(out.stdout)
    assert child["seen"] == {"1": 3} and child["version"] == 2
    assert store.get(p.id).ratings == {1: 3, 7: 5} and store.get(p.id).version == 2
    assert store.get(child["id"]).ratings == {1: 4}
    assert store.replace(child["id"], child["token"], {}, if_version=1).version == 2


def test_closed_store_says_so(store_target: str) -> None:
    s = open_profile_store(store_target)
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.count()
    assert not s.ping()


def test_profile_type_and_repr(store: ProfileStore) -> None:
    p, _ = store.create({})
    assert isinstance(p, Profile) and isinstance(store, ProfileStore)
    assert repr(store).startswith(type(store).__name__ + "(")
    assert "pw-" not in repr(store) and "pw-" not in store.location  # no password shown
