"""The scaled-out hub as `make cluster` runs it: rooms across web processes, jobs across workers, a database outage."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import psutil
import psycopg
import pytest

from hub import outage
from tests.discussions.live_client import RoomClient, make_repo

pytestmark = [pytest.mark.cluster, pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(900)]


def unique(name: str) -> str:
    """Names that no earlier run against the same cluster used (its database outlives a test run)."""
    return f"{name}{uuid.uuid4().hex[:6]}"


async def test_a_chat_message_crosses_web_processes(cluster):
    owner, other = unique("ana"), unique("ben")
    tokens = {name: cluster.create_token(name) for name in (owner, other)}
    make_repo(cluster, owner, "talk-bert")
    room = f"{owner}/talk-bert"
    on_web1 = await RoomClient(cluster.web_urls[0], room, tokens[owner]).open()
    on_web2 = await RoomClient(cluster.web_urls[1], room, tokens[other]).open()
    try:
        start = on_web1.hello["last_id"]
        await on_web1.post("from web1")
        await on_web2.post("from web2")
        assert await on_web2.wait_for_ids(start + 2) == [start + 1, start + 2]
        assert await on_web1.wait_for_ids(start + 2) == [start + 1, start + 2]
        assert {m["body"] for m in on_web1.messages} == {"from web1", "from web2"}
    finally:
        await on_web1.close()
        await on_web2.close()


def _runs(cluster, owner: str, repos: list[str]) -> list[dict]:
    script = (
        "import json; from models_app.validation.models import ValidationRun as R; "
        f"rows = R.objects.filter(revision__repo__owner__username={owner!r}, revision__repo__name__in={repos!r})"
        ".values('status', 'worker', 'attempts'); "
        "print(json.dumps(list(rows)))"
    )
    return json.loads(cluster.manage("shell", "-c", script).strip().splitlines()[-1])


def _gpu_worker_processes(cluster) -> dict[str, set[int]]:
    """Each running validation worker's pids: its main process and its pool children."""
    found = {}
    for program in ("gpu1", "gpu2"):
        try:
            main = psutil.Process(int(cluster.ctl("pid", program).strip()))
        except RuntimeError:  # supervisorctl answers pid 0 and exit status 7 for a stopped program
            continue
        found[program] = {main.pid, *(child.pid for child in main.children(recursive=True))}
    return found


def test_six_validations_spread_over_both_workers_each_counted_once(cluster, tmp_path):
    owner = unique("vic")
    repos = [f"spread{n}" for n in range(6)]
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"not really a model")
    # One process publishes all six, so the six jobs reach the gpu queue together.
    publish = "; ".join(f"call_command('publish_folder', '{owner}/{repo}', {str(folder)!r})" for repo in repos)
    cluster.manage("shell", "-c", f"from django.core.management import call_command; {publish}")

    deadline = time.monotonic() + 600
    while True:
        runs = _runs(cluster, owner, repos)
        if len(runs) == 6 and all(run["status"] in ("passed", "failed", "error") for run in runs):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(1)
    assert all(run["attempts"] == 1 for run in runs), runs  # each claimed once
    processes = _gpu_worker_processes(cluster)
    ran_on = {
        program for run in runs for program, pids in processes.items() if int(run["worker"].rsplit(":", 1)[1]) in pids
    }
    assert ran_on == {"gpu1", "gpu2"}, (runs, processes)


def _database_connections(cluster, allow: bool) -> None:
    """Let the cluster's database take connections, or refuse them and end the open ones.

    The machine's PostgreSQL serves other databases too, so the outage is this
    database's alone: to the hub it looks the same as a stopped server (new
    connections refused, open ones dropped).
    """
    env = cluster.env()
    server, name = env["DATABASE_URL"].rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allow else "false"}')
        if not allow:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def _no_traceback(answer: httpx.Response) -> None:
    for leak in ("Traceback", "OperationalError", "psycopg", 'File "'):
        assert leak not in answer.text, answer.text[:2000]


def test_a_database_outage_answers_503_then_recovers_by_itself(cluster):
    owner = unique("dot")
    token = cluster.create_token(owner)
    make_repo(cluster, owner, "steady-bert")
    api = f"{cluster.url}/api/models/{owner}/steady-bert"
    page = f"{cluster.url}/{owner}/steady-bert"
    assert httpx.get(api).status_code == 200

    _database_connections(cluster, allow=False)
    try:
        ended = time.monotonic() + 10
        seen = 0
        while time.monotonic() < ended:
            answer = httpx.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert answer.status_code == 503, answer.text[:500]
            assert answer.json()["error"] == outage.MESSAGE and answer.headers["x-request-id"]
            _no_traceback(answer)
            shown = httpx.get(page, headers={"Accept": "text/html"}, timeout=30)
            assert shown.status_code == 503 and "briefly unavailable" in shown.text
            _no_traceback(shown)
            assert httpx.get(f"{cluster.url}/readyz", timeout=30).status_code == 503
            assert httpx.get(f"{cluster.url}/livez", timeout=30).status_code == 200
            seen += 1
            time.sleep(0.5)
        assert seen >= 3
    finally:
        _database_connections(cluster, allow=True)

    # Nothing is restarted: within a few requests every web process serves again.
    deadline = time.monotonic() + 30
    while True:
        answers = [httpx.get(api, timeout=30).status_code for _ in range(4)]
        if answers == [200] * 4:
            break
        assert time.monotonic() < deadline, answers
        time.sleep(0.5)
    for web in cluster.web_urls:
        assert httpx.get(f"{web}/api/models/{owner}/steady-bert").status_code == 200
        assert httpx.get(f"{web}/readyz").status_code == 200


async def test_redis_restarted_mid_chat_loses_nothing(cluster):
    from discussions.relay import SWEEP_SECONDS

    owner, other = unique("ria"), unique("rob")
    tokens = {name: cluster.create_token(name) for name in (owner, other)}
    make_repo(cluster, owner, "restart-bert")
    room = f"{owner}/restart-bert"
    on_web1 = await RoomClient(cluster.web_urls[0], room, tokens[owner]).open()
    on_web2 = await RoomClient(cluster.web_urls[1], room, tokens[other]).open()
    try:
        start = on_web1.hello["last_id"]
        await on_web1.post("before")
        await on_web2.wait_for_ids(start + 1)
        cluster.ctl("stop", "redis")
        try:
            await on_web1.post("while Redis is down 1")  # saved; only web1's sockets see it now
            await on_web1.post("while Redis is down 2")
            await on_web1.wait_for_ids(start + 3)
        finally:
            cluster.ctl("start", "redis")
        # web2's relay notices the gap on its next sweep and reads the missed messages from the database.
        assert await on_web2.wait_for_ids(start + 3, timeout=2 * SWEEP_SECONDS + 30) == [start + i for i in (1, 2, 3)]
        await on_web2.post("after the restart")
        for client in (on_web1, on_web2):
            assert await client.wait_for_ids(start + 4, timeout=30) == [start + i for i in (1, 2, 3, 4)]
    finally:
        await on_web1.close()
        await on_web2.close()


def test_worker_probes_follow_the_worker(cluster):
    import socket

    name = f"gpu2@{socket.gethostname()}"
    assert f"{name}: ready" in cluster.manage("probe_worker", "ready", name)
    cluster.ctl("stop", "gpu2")
    try:
        with pytest.raises(RuntimeError, match="no answer to a ping"):
            cluster.manage("probe_worker", "live", name, "--timeout", "2")
    finally:
        cluster.ctl("start", "gpu2")
    deadline = time.monotonic() + 120
    while True:
        try:
            assert f"{name}: live" in cluster.manage("probe_worker", "live", name)
            break
        except RuntimeError:
            assert time.monotonic() < deadline
            time.sleep(2)


def test_the_request_id_follows_an_upload_from_nginx_to_the_worker_that_validates_it(cluster):
    owner = unique("ida")
    token = cluster.create_token(owner)
    make_repo(cluster, owner, "traced-bert")
    answer = httpx.put(
        f"{cluster.url}/api/models/{owner}/traced-bert/upload/model.safetensors",
        content=b"not really a model either",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code in (200, 201), answer.text
    request_id = answer.headers["x-request-id"]

    def logged_by(*programs: str) -> bool:
        return any(request_id in cluster.log(program) for program in programs)

    # nginx writes its line once the answer is sent, the worker once the job runs: wait for each.
    deadline = time.monotonic() + 120
    for programs in (("nginx-access",), ("web1", "web2"), ("gpu1", "gpu2")):
        while not logged_by(*programs):
            assert time.monotonic() < deadline, f"no line of {programs} carries the upload's request id"
            time.sleep(0.5)


def _run_of(cluster, owner: str, repo: str) -> list[dict]:
    script = (
        "import json; from models_app.validation.models import ValidationRun as R; "
        f"rows = R.objects.filter(revision__repo__owner__username={owner!r}, revision__repo__name={repo!r})"
        ".values('status', 'stage', 'worker', 'attempts'); print(json.dumps(list(rows)))"
    )
    return json.loads(cluster.manage("shell", "-c", script).strip().splitlines()[-1])


def _holder(cluster, run: dict) -> str | None:
    if not run["worker"]:
        return None
    pid = int(run["worker"].rsplit(":", 1)[1])
    return next((name for name, pids in _gpu_worker_processes(cluster).items() if pid in pids), None)


def test_a_worker_killed_mid_run_its_run_completes_on_the_other_counted_once(cluster, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from tests.live import ROOT

    owner = unique("kim")
    folder = tmp_path / "model"
    subprocess.run([sys.executable, "-m", "models_app.validation.demo", str(folder)], cwd=ROOT, check=True, timeout=600)
    cluster.manage("publish_folder", f"{owner}/killed-bert", str(folder))

    deadline = time.monotonic() + 300
    while True:
        runs = _run_of(cluster, owner, "killed-bert")
        if runs and runs[0]["status"] == "running" and runs[0]["stage"] in ("baseline", "finetune"):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.5)
    victim = _holder(cluster, runs[0])
    assert victim in ("gpu1", "gpu2"), runs
    survivor = "gpu2" if victim == "gpu1" else "gpu1"
    os.killpg(int(cluster.ctl("pid", victim).strip()), signal.SIGKILL)  # kill -9, pool child and all
    cluster.ctl("stop", victim)  # supervisord would restart it: the run must go to the other worker
    try:
        deadline = time.monotonic() + 600
        while True:
            runs = _run_of(cluster, owner, "killed-bert")
            if runs[0]["status"] in ("passed", "failed", "error"):
                break
            assert time.monotonic() < deadline, runs
            time.sleep(2)
        assert len(runs) == 1 and runs[0]["attempts"] == 2, runs  # one run, claimed again once
        assert runs[0]["status"] != "error", runs  # a verdict on the model, not on the crash
        assert _holder(cluster, runs[0]) == survivor, runs
    finally:
        cluster.ctl("start", victim)
