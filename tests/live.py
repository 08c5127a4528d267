"""A real hub on loopback for tests that talk to it as a user would.

``LiveHub`` starts the web server as ``runhub`` does (``hub/webserver.py``) (and, on request, a Celery
worker) in subprocesses with their own data folder and database, migrated
fresh. Tests reach it over HTTP, websockets or the Hugging Face clients, and
create users and tokens with ``manage.py`` as an operator would. In the
PostgreSQL pass (``DATABASE_URL`` set) it gets its own database; with
``REDIS_URL`` set it uses Redis like a scaled-out deployment.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benches import this module from bench/

from hub import webserver  # noqa: E402
from hub.celery import worker_command  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(binary: str, port: int, data_dir: Path) -> subprocess.Popen:
    """A throwaway redis-server on loopback (nothing saved), up and answering PING."""
    import redis

    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def _postgres_database(base_url: str, name: str, *, drop: bool = False) -> str:
    """Create (or drop) database ``name`` on the server of ``base_url``; return its URL."""
    import psycopg

    server = base_url.rsplit("/", 1)[0]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


class LiveHub:
    def __init__(self, data_dir: Path, *, worker: bool = False, extra_env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.worker = worker
        self.processes: dict[str, subprocess.Popen] = {}
        self._pg_name: str | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
        env.update({"HUB_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1", "DJANGO_DEBUG": "1"})
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if os.environ.get("DATABASE_URL"):
            self._pg_name = f"th_live_{uuid.uuid4().hex[:10]}"
            env["DATABASE_URL"] = _postgres_database(os.environ["DATABASE_URL"], self._pg_name)
        env.update(extra_env or {})
        self.env = env

    # -- operator actions -------------------------------------------------------
    def manage(self, *args: str, timeout: int = 180) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create_token(self, username: str, scope: str = "write") -> str:
        return self.manage("create_token", username, "--scope", scope, "--create-user").strip()

    # -- processes ----------------------------------------------------------------
    def start(self) -> LiveHub:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v0")
        self.start_web()
        if self.worker:
            self.start_worker()
        return self

    def start_web(self) -> None:
        log = open(self.data_dir / "web.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes["web"] = subprocess.Popen(
            webserver.command("127.0.0.1", self.port, log_level="warning"),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            worker_command(hostname=f"{name}-{self.port}@%h"),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = proc
        return proc

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["web"].poll() is not None:
                raise RuntimeError(f"web server exited:\n{self.log('web')[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):  # noqa: S310 - loopback
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"web server did not come up:\n{self.log('web')[-3000:]}")

    def blob_path(self, sha256: str) -> Path:
        """Where this hub's local store keeps the blob of ``sha256``."""
        from models_app.storage import blob_key

        return self.data_dir / "blobs" / blob_key(sha256)

    def log(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)

    def stop(self) -> None:
        for name in list(self.processes):
            proc = self.processes[name]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.processes.pop(name)
        if self._pg_name:
            _postgres_database(os.environ["DATABASE_URL"], self._pg_name, drop=True)

    def __enter__(self) -> LiveHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
