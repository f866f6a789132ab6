"""A real PostgreSQL server for a test: Debian's `postgresql` binaries, its own data directory on a
free port of 127.0.0.1, started by the test and stopped by its PID.

PostgreSQL refuses to run as root: as root the server runs as Debian's `postgres` user.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def binaries() -> Path | None:
    """Debian's PostgreSQL server binaries (the newest installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def why_not() -> str | None:
    """None where a server can be started here, else why not."""
    if binaries() is None:
        return "Debian's postgresql is not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def server():
    """A running server; yields its base URL for SQLAlchemy (`postgresql+psycopg://postgres@127.0.0.1:PORT`).
    Its files are in a folder of their own under /tmp (pytest's are closed to the `postgres` user),
    removed after."""
    where = Path(tempfile.mkdtemp(prefix="convlab-pg-"))
    try:
        with _running(where) as url:
            yield url
    finally:
        shutil.rmtree(where, ignore_errors=True)


@contextlib.contextmanager
def _running(where: Path):
    data, sockets = where / "pgdata", where / "pgsock"
    for folder in (where, data, sockets):
        folder.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
    bin_dir, port = binaries(), _free_port()
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True, timeout=120)
    process = subprocess.Popen(_as_server_user([str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
                                                "-h", "127.0.0.1", "-k", str(sockets), "-c", "fsync=off"]),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_ready(port, process)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # "fast" shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited: {process.stderr.read().decode()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"postgres did not listen on port {port} within {seconds} s")


def create_database(url: str, name: str) -> str:
    """A new database on the server at `url`; its URL."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{url}/{name}"
