"""A real JupyterHub for the browser test: local accounts, commands run as them, the hub's process,
and the Python environment every account can run.

The hub test needs root (it makes accounts and the hub logs them in with PAM), configurable-http-proxy
(npm), Debian's Chromium and JupyterHub installed in the dev environment (its version is the one the
hub's environment gets). What it starts, it stops by process group, and it removes the accounts it made.

The hub's environment: a user's server runs the environment's own interpreter as that user, and the dev
environment's usually cannot be run by others (a pyenv Python under /root, mode 0700). So the test
builds, once, an environment from Debian's /usr/bin/python3 (readable by all), as docs/jupyterhub.md
tells IT to: `pip install -c constraints.txt -e CHECKOUT jupyterhub==<the dev environment's>` into
HUB_VENV (default /opt/convlab-hub-test/venv, or $CONVLAB_HUB_TEST_VENV), the checkout installed
editable so it always runs this working tree. It is reused while constraints.txt, pyproject.toml and
the JupyterHub version stay the same, and brought up to date by pip otherwise.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUB_VENV = Path(os.environ.get("CONVLAB_HUB_TEST_VENV", "/opt/convlab-hub-test/venv"))
SYSTEM_PYTHON = Path("/usr/bin/python3")
TOOLS = ("useradd", "userdel", "chpasswd", "runuser")


def jupyterhub_version() -> str | None:
    try:
        return metadata.version("jupyterhub")
    except metadata.PackageNotFoundError:
        return None


def proxy_command() -> str | None:
    return shutil.which("configurable-http-proxy")


def why_no_hub() -> str | None:
    """Why the hub cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root: it makes local accounts and JupyterHub logs them in with PAM"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"no {', '.join(missing)} here (Debian package `passwd`/`util-linux`)"
    if jupyterhub_version() is None:
        return "jupyterhub is not installed in this environment (pip install jupyterhub)"
    if proxy_command() is None:
        return "configurable-http-proxy is not on PATH (npm install -g configurable-http-proxy)"
    if not SYSTEM_PYTHON.exists():
        return f"no {SYSTEM_PYTHON} to build an environment every account can run"
    return None


def _stamp() -> str:
    """What the hub's environment was built from: the pins, the package's requirements, JupyterHub's version."""
    digest = hashlib.sha256()
    for name in ("constraints.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    digest.update(str(jupyterhub_version()).encode())
    return digest.hexdigest()


def ensure_venv(timeout: float = 1200) -> tuple[Path | None, str]:
    """The hub's environment (built or updated when its stamp differs), and pip's complaint if it failed."""
    stamp = HUB_VENV / ".convlab-hub-stamp"
    if stamp.exists() and stamp.read_text() == _stamp() and (HUB_VENV / "bin" / "jupyterhub").exists():
        return HUB_VENV, ""
    if not (HUB_VENV / "bin" / "python").exists():
        HUB_VENV.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        made = subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(HUB_VENV)], capture_output=True, text=True)
        if made.returncode:
            return None, made.stderr[-2000:]
    pip = subprocess.run(
        [str(HUB_VENV / "bin" / "pip"), "install", "-q", "-c", str(ROOT / "constraints.txt"), "-e", str(ROOT),
         f"jupyterhub=={jupyterhub_version()}"],
        capture_output=True, text=True, timeout=timeout,
    )
    if pip.returncode:
        return None, pip.stderr[-2000:]
    stamp.write_text(_stamp())
    return HUB_VENV, ""


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held open together so none is handed out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port_run(count: int, tries: int = 50) -> int:
    """The first of `count` consecutive free loopback ports (each course's Formgrader takes the next one)."""
    for _ in range(tries):
        first = free_ports(1)[0]
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


class Accounts:
    """Local accounts made for one test, with unique names (`cl<random><suffix>`) and random passwords."""

    def __init__(self):
        self.tag = "cl" + secrets.token_hex(3)
        self.passwords: dict[str, str] = {}

    def make(self, suffix: str) -> str:
        name = self.tag + suffix
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True, capture_output=True)
        self.passwords[name] = secrets.token_urlsafe(12)  # from here on, remove() deletes it
        subprocess.run(["chpasswd"], input=f"{name}:{self.passwords[name]}\n", text=True, check=True)
        return name

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def uids(self) -> set[int]:
        found = set()
        for name in self.passwords:
            try:
                found.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        return found

    def remove(self) -> None:
        """Stop what runs as these accounts, then delete them with their homes."""
        stop_processes_of(self.uids())
        for name in self.passwords:
            subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


def _processes_of(uids: set[int]) -> dict[int, int]:
    """pid -> process group of every process run by one of `uids`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    found[int(entry.name)] = os.getpgid(int(entry.name))
            except (OSError, ProcessLookupError):
                pass
    return found


def stop_processes_of(uids: set[int], grace: float = 10) -> None:
    """Terminate the process groups of every process these (test-made) accounts run, then kill what is
    left; a process left in this test's own group (started through runuser) is signalled alone."""
    if not uids:
        return
    own = os.getpgrp()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, group in _processes_of(uids).items():
            try:
                os.kill(pid, sig) if group == own else os.killpg(group, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        while _processes_of(uids) and time.monotonic() < deadline:
            time.sleep(0.2)


def user_env(user: str, venv: Path, config_path: str, **extra: str) -> dict[str, str]:
    """The environment a command gets as `user` on the hub: the course environment on PATH and the
    hub's Jupyter settings (JUPYTER_CONFIG_PATH), nothing of the test runner's."""
    home = pwd.getpwnam(user).pw_dir
    return {"HOME": home, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8", "SHELL": "/bin/bash",
            "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": config_path,
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", **extra}


def run_as(user: str, command: list[str], env: dict[str, str], cwd: Path | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess:
    """`command` as `user` (runuser), with exactly `env`."""
    pairs = [f"{k}={v}" for k, v in env.items()]
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *pairs, *command],
                          cwd=cwd or env["HOME"], capture_output=True, text=True, timeout=timeout)


def run_as_ok(user: str, command: list[str], env: dict[str, str], cwd: Path | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess:
    result = run_as(user, command, env, cwd, timeout)
    assert result.returncode == 0, f"{' '.join(command)} as {user}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


class Hub:
    """`jupyterhub -f CONFIG` from the hub's environment, in its own process group, logging to a file."""

    def __init__(self, venv: Path, config: Path, url: str, log: Path):
        self.url, self.log = url, log
        env = {"PATH": f"{venv}/bin:{Path(proxy_command()).parent}:/usr/local/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8", "HOME": "/root", "JUPYTER_CONFIG_DIR": str(config.parent / "state" / "root-jupyter"),
               "JUPYTER_CONFIG_PATH": str(config.parent / "jupyter" / "system")}
        self.proc = subprocess.Popen([str(venv / "bin" / "jupyterhub"), "-f", str(config)], cwd=config.parent / "state",
                                     env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file = config.parent / "state" / "proxy.pid"

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyterhub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/health", timeout=5) as reply:
                    if reply.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"jupyterhub not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the hub (it stops the servers, services and proxy it started), then kill its group
        and the proxy's, whatever is left."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        groups = [self.proc.pid]
        try:  # the proxy's, if it outlived the hub (its pid file names it)
            pid = int(self.pid_file.read_text().strip())
            if b"configurable-http-proxy" in Path(f"/proc/{pid}/cmdline").read_bytes():
                groups.append(os.getpgid(pid))
        except (OSError, ValueError):
            pass
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
