"""The sandbox seam (`autograder.sandbox`): backends chosen by name, once; the default the safest
that runs here and never none; every backend bound by the same limits."""
import sys

import pytest

from autograder import sandbox
from autograder.grading.protocol import Settings

pytestmark = pytest.mark.grading
RUNNING = [name for name, backend in sandbox.BACKENDS.items() if backend.probe() is None]


def test_backends_are_listed_safest_first_and_none_isolates_nothing():
    assert sandbox.names()[0] == "bubblewrap" and sandbox.names()[-1] == "none"
    assert [b.isolates for b in sandbox.BACKENDS.values()] == [True, False]
    assert sandbox.safest().name == "bubblewrap"


@pytest.mark.parametrize("make", [lambda: sandbox.by_name("podman"), lambda: Settings(sandbox="podman")])
def test_an_unknown_backend_is_refused_naming_the_argument(make):
    with pytest.raises(ValueError, match=r"sandbox must be one of bubblewrap, none, got sandbox='podman'"):
        make()


@pytest.mark.skipif("bubblewrap" not in RUNNING, reason=f"bubblewrap cannot run here: {sandbox.why_none()}")
def test_the_default_is_the_safest_that_runs_here():
    assert sandbox.choose().name == "bubblewrap" and sandbox.safest_or_none().name == "bubblewrap"
    assert sandbox.why_none() == ""


def test_none_is_had_only_by_name(monkeypatch):
    monkeypatch.setattr(sandbox.BACKENDS["bubblewrap"], "probe", lambda: "bwrap: no user namespaces")
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap: bwrap: no user namespaces"):
        sandbox.choose()
    assert sandbox.choose("none").name == "none" and sandbox.safest_or_none().name == "none"
    assert sandbox.why_none() == "bubblewrap: bwrap: no user namespaces"


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
