"""The sandbox seam (`autograder.sandbox`): backends chosen by name, once; the default the safest
that runs here and never none; every backend bound by the same limits."""
import sys

import pytest

from autograder import sandbox
from autograder.grading.protocol import Settings

pytestmark = pytest.mark.grading
RUNNING = [name for name, backend in sandbox.BACKENDS.items() if backend.probe() is None]


def test_backends_are_listed_safest_first_and_none_isolates_nothing():
    assert sandbox.names() == ["bubblewrap", "podman", "docker", "none"]
    assert [b.isolates for b in sandbox.BACKENDS.values()] == [True, True, True, False]
    assert sandbox.safest().name == "bubblewrap"


@pytest.mark.parametrize("make", [lambda: sandbox.by_name("firecracker"), lambda: Settings(sandbox="firecracker")])
def test_an_unknown_backend_is_refused_naming_the_argument(make):
    with pytest.raises(ValueError, match=r"sandbox must be one of bubblewrap, podman, docker, none, "
                                         r"got sandbox='firecracker'"):
        make()


@pytest.mark.skipif("bubblewrap" not in RUNNING, reason=f"bubblewrap cannot run here: {sandbox.why_none()}")
def test_the_default_is_the_safest_that_runs_here():
    assert sandbox.choose().name == "bubblewrap" and sandbox.safest_or_none().name == "bubblewrap"
    assert sandbox.why_none() == ""


def test_none_is_had_only_by_name(monkeypatch):
    monkeypatch.setattr(sandbox.BACKENDS["bubblewrap"], "probe", lambda: "bwrap: no user namespaces")
    for name in ("podman", "docker"):
        monkeypatch.setattr(sandbox.BACKENDS[name], "probe", lambda name=name: f"{name} is not installed")
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap: bwrap: no user namespaces; "
                                                         "podman: podman is not installed"):
        sandbox.choose()
    assert sandbox.choose("none").name == "none" and sandbox.safest_or_none().name == "none"
    assert sandbox.why_none() == ("bubblewrap: bwrap: no user namespaces; podman: podman is not installed; "
                                  "docker: docker is not installed")


def test_where_bubblewrap_cannot_run_a_container_that_can_is_the_default(monkeypatch):
    monkeypatch.setattr(sandbox.BACKENDS["bubblewrap"], "probe", lambda: "bwrap: no user namespaces")
    monkeypatch.setattr(sandbox.BACKENDS["podman"], "probe", lambda: None)
    assert sandbox.choose().name == "podman" and sandbox.safest_or_none().name == "podman"


@pytest.mark.parametrize("name", RUNNING)
def test_every_backend_keeps_the_same_bounds(tmp_path, name):
    backend = sandbox.by_name(name)
    limits = sandbox.Limits(timeout=2, output_bytes=1000)
    flood = backend.run([sys.executable, "-c", "print('x' * 100_000)"], str(tmp_path), limits=limits, env={})
    assert flood.returncode == 0 and len(flood.stdout) == 1000 and flood.backend == name
    slow = backend.run(["sleep", "30"], str(tmp_path), limits=limits, env={})
    assert slow.timed_out and slow.wall < 10 and slow.isolated == backend.isolates
    home = backend.run([sys.executable, "-c", "import os; print(os.environ['HOME'], os.getcwd())"], str(tmp_path),
                       limits=limits, env={"EXTRA": "1"})
    assert home.stdout.split() == [backend.home(str(tmp_path))] * 2
