"""JupyterLab servers and Chromium for the browser tests: each server on a loopback port, in its own
process group, with its own config, settings, runtime and workspace folders."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The learner's and the instructor's Jupyter settings, as `make lab` and `make lab-instructor` use them.
LEARNER_CONFIG = ROOT / "jupyter-config" / "learner"
INSTRUCTOR_CONFIG = ROOT / "jupyter-config" / "instructor"


def skip_without_a_browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`; `make system-deps` installs it)",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


def browser_env(home) -> dict:
    """Chromium's environment: the system's fonts plus the CJK font convlab draws with, so that a page of
    the Chinese edition shows its characters (Debian's chromium brings no CJK font of its own)."""
    from convlab.viz.fonts import cjk_font_file

    conf = Path(home) / "fonts.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
                    f"  <dir>{cjk_font_file().parent}</dir>\n  <cachedir>{conf.parent / 'fontcache'}</cachedir>\n"
                    "</fontconfig>\n")
    return dict(os.environ, FONTCONFIG_FILE=str(conf))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server on `root_dir`, started in `cwd` (default: `root_dir`).

    `config_path`: a folder put on JUPYTER_CONFIG_PATH (LEARNER_CONFIG, INSTRUCTOR_CONFIG);
    `settings`: JupyterLab settings per plugin, written before it starts; `user_config`: files
    (name -> text) for this server's own JUPYTER_CONFIG_DIR, such as a learner's nbgrader_config.py."""

    def __init__(self, root_dir, home, *, cwd=None, config_path=None, settings=None, user_config=None):
        self.root_dir, self.token, self.port = Path(root_dir), secrets.token_hex(16), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home = Path(home)
        settings_dir = home / "settings"
        settings_dir.mkdir(parents=True, exist_ok=True)
        for plugin, values in (settings or {}).items():
            target = settings_dir / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        config_dir = home / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        for name, text in (user_config or {}).items():
            (config_dir / name).write_text(text)
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings_dir), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   IPYTHONDIR=str(home / "ipython"), MPLBACKEND="module://matplotlib_inline.backend_inline",
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        env.pop("PYTEST_CURRENT_TEST", None)
        if config_path is not None:
            env["JUPYTER_CONFIG_PATH"] = str(config_path)
        self.log = home / "jupyterlab.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={self.port}",
             "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--ServerApp.token={self.token}",
             f"--ServerApp.root_dir={root_dir}", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=cwd or root_dir, stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )

    def log_tail(self, chars=3000):
        return self.log.read_text(errors="replace")[-chars:]

    def get(self, path: str) -> tuple[int, bytes]:
        """GET `path` on this server with its token: (status, body); 4xx and 5xx are returned, not raised."""
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def wait_ready(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.get("/api/status")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"JupyterLab not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self):
        """Terminate the whole process group (server and kernels), then kill what is left."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        try:  # kernels share the group; make sure none outlives the server
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
