"""One GPU per run: concurrent runs spread over the host's GPUs, share one GPU evenly, and say so."""
import threading

import pytest

from autograder.grading import worker
from autograder.grading.protocol import Job, Settings
from autograder.sandbox import gpus

pytestmark = pytest.mark.grading


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setenv(gpus.VARIABLE, "0,1")


def _held_at_once(count: int, choice=()) -> list[dict]:
    """The environments `count` runs going on at the same time were given."""
    given, all_in, leave = [], threading.Barrier(count + 1), threading.Event()

    def run():
        with gpus.lease(choice) as env:
            given.append(env)
            all_in.wait()
            leave.wait()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    all_in.wait()
    leave.set()
    for t in threads:
        t.join()
    return given


def test_two_workers_on_two_gpus_get_one_each(two_gpus):
    assert sorted(env[gpus.VARIABLE] for env in _held_at_once(2)) == ["0", "1"]


def test_more_workers_than_gpus_share_them_evenly(two_gpus):
    assert sorted(env[gpus.VARIABLE] for env in _held_at_once(5)) == ["0", "0", "0", "1", "1"]


def test_a_lease_is_given_back(two_gpus):
    for _ in range(3):
        with gpus.lease() as env:
            assert env == {gpus.VARIABLE: "0"}


def test_one_gpu_is_shared_and_said(monkeypatch):
    monkeypatch.setenv(gpus.VARIABLE, "3")
    assert [env[gpus.VARIABLE] for env in _held_at_once(3)] == ["3", "3", "3"]
    assert gpus.plan((), 3) == "1 GPU (3), shared by 3 worker(s)"


def test_a_chosen_list_and_none(two_gpus):
    assert {env[gpus.VARIABLE] for env in _held_at_once(2, ("1",))} == {"1"}
    assert _held_at_once(2, ("none",)) == [{gpus.VARIABLE: ""}] * 2
    assert gpus.plan(("0", "1"), 2) == "2 GPUs (0, 1) for 2 worker(s): one each (CUDA_VISIBLE_DEVICES per run)"
    assert gpus.plan(("none",), 2) == "GPUs hidden (--gpus none)"


def test_no_gpu_changes_nothing(monkeypatch):
    monkeypatch.setenv(gpus.VARIABLE, "")
    with gpus.lease() as env:
        assert env == {}
    assert gpus.plan((), 3) == "no GPU: checks run on the CPU"


@pytest.mark.parametrize("bad", ["0;1", "gpu0", "1,,2"])
def test_a_bad_list_is_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match=rf"gpus must be .*got gpus='{bad}'"):
        Settings(gpus=bad)


def test_each_sandboxed_run_is_given_its_gpu(two_gpus, monkeypatch):
    """The worker's runs take their GPU from the lease: what reaches the sandbox's environment."""
    seen = []

    class Recorder:
        name = "none"

        def home(self, workdir):
            return workdir

        def run(self, argv, workdir, *, limits, env):
            seen.append(env[gpus.VARIABLE])

    monkeypatch.setattr(worker.sandbox, "by_name", lambda name: Recorder())
    job = Job((0, "nb"), "{}", None, {}, 10.0, 512, "none", gpus=Settings(gpus="1").gpus)
    worker._sandboxed("json.tool", "/tmp", job)
    worker._sandboxed("json.tool", "/tmp", Job((0, "nb"), "{}", None, {}, 10.0, 512, "none"))
    assert seen == ["1", "0"]
