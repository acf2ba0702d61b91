"""``artistrec serve --workers 2``: a reload reaches every worker, a SIGKILLed worker comes back
serving the current model, every answer names its model version, and the supervising process
holds neither data nor model (real server processes, real connections)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from artistrec import create_model
from artistrec.data import Dataset

ADMIN = "workers-admin-token"


def fresh_health(url: str, n: int) -> list[dict]:
    """``/health`` over ``n`` new connections (each may land on any worker)."""
    out = []
    for _ in range(n):
        with httpx.Client(timeout=10) as c:  # a new connection every time
            resp = c.get(f"{url}/health")
            body = resp.json()
            assert resp.headers["x-model-version"] == body["model_version"]
            out.append(body)
    return out


def wait_for(url: str, predicate, timeout: float = 30.0, n: int = 20) -> list[dict]:  # noqa: ANN001
    """Poll until ``predicate(answers)`` holds for ``n`` fresh answers."""
    deadline = time.monotonic() + timeout
    while True:
        answers = fresh_health(url, n)
        if predicate(answers) or time.monotonic() > deadline:
            return answers
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """Process ids of the worker processes of the supervisor ``pid`` (Linux /proc; the
    multiprocessing resource tracker, also a child, is left out)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for kid in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
            except OSError:
                continue  # exited meanwhile
            if b"spawn_main" in cmdline:
                kids.append(int(kid))
    return kids


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_reload_reaches_every_worker_and_survives_sigkill(
    synthetic_ds: Dataset, synthetic_dir: Path, tmp_path: Path, live_server
) -> None:
    model = tmp_path / "model.npz"
    create_model("popularity").fit(synthetic_ds).save(model)
    server = live_server(
        "--model", str(model), "--data-dir", str(synthetic_dir),
        "--db", str(tmp_path / "p.sqlite3"), "--workers", "2", "--reload-poll", "0.5",
        env={"ARTISTREC_ADMIN_TOKEN": ADMIN},
    )  # fmt: skip
    # both workers up: the kernel may hand a burst of connections to one worker while the other
    # is still loading on a busy machine, so the answering pids are gathered over polls
    seen: set[int] = set()

    def both_seen(answers: list[dict]) -> bool:
        seen.update(h["pid"] for h in answers)
        return len(seen) == 2

    before = wait_for(server.url, both_seen, timeout=120)
    assert len(seen) == 2, "both workers answer"
    old = {h["model_version"] for h in before}
    assert len(old) == 1 and {h["model"] for h in before} == {"popularity"}

    # a new artifact at the same path (written to a temp file and renamed, as `train` does);
    # the reload is asked of ONE worker
    create_model("popularity", by="plays").fit(synthetic_ds).save(model)
    resp = httpx.post(
        f"{server.url}/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    new = resp.json()["model_version"]
    assert new not in old and resp.headers["x-model-version"] == new
    after = wait_for(server.url, lambda a: {h["model_version"] for h in a} == {new}, n=30)
    assert {h["model_version"] for h in after} == {new}, "every worker converged"
    assert {tuple(sorted(h["model_params"].items())) for h in after} == {(("by", "plays"),)}
    assert len({h["pid"] for h in after}) == 2

    # a SIGKILLed worker is replaced and serves the current artifact
    workers = children(server.proc.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = children(server.proc.pid)
        if len(kids) == 2 and workers[0] not in kids:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the killed worker was not replaced: {server.output()}")
    replaced = wait_for(
        server.url,
        lambda a: any(h["pid"] not in workers for h in a),
        timeout=60,
    )
    assert any(h["pid"] not in workers for h in replaced), "the new worker answers"
    assert {h["model_version"] for h in replaced} == {new}

    # the supervisor holds no data and no model: much smaller than a worker
    supervisor = rss_mb(server.proc.pid)
    smallest_worker = min(rss_mb(p) for p in children(server.proc.pid))
    assert supervisor < smallest_worker, (supervisor, smallest_worker)
