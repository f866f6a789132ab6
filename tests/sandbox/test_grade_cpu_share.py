"""A submission that forks spinning children into sessions of their own takes at most its own
core: each sandbox's cgroup gives every sandbox the same CPU weight and a cap of `cgroup.CPUS`
cores, so a classmate graded beside it keeps full points."""
import os
import sys
import threading
import time

import coursekit as ck
import pytest

from autograder.sandbox import bubblewrap as sandbox
from autograder.sandbox import cgroup, process

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

FULL = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
CHILDREN = 8
SECONDS = 8.0
# Forks `children` processes that leave the session and spin for SECONDS; prints the cores
# they used in all (CPU seconds over wall seconds).
SPIN = """
import os, sys, time
children, start = int(sys.argv[1]), time.monotonic()
read, write = os.pipe()
for _ in range(children):
    if os.fork() == 0:
        os.setsid()
        while time.monotonic() - start < {seconds}:
            pass
        os.write(write, f"{{time.process_time()}}\\n".encode())
        os._exit(0)
os.close(write)
with os.fdopen(read) as f:
    used = sum(float(x) for x in f.read().split())
print(f"{{used / (time.monotonic() - start):.3f}}", flush=True)
""".format(seconds=SECONDS)
# Appended to a correct answer: children in sessions of their own spin until the sandbox ends.
NOTEBOOK_HOG = """
import os
for _ in range(4):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
"""


@pytest.fixture(scope="module")
def cpu_mode():
    mode = cgroup.cpu_mode()
    if mode == "none":
        pytest.skip("no cgroup CPU controller can be made here: CPU is bounded per process only (RLIMIT_CPU)")
    return mode


def _sandboxed_sleep(tmp_path):
    """Start a sandboxed `sleep` in a thread; (thread, pid of the sleep seen from here)."""
    work = tmp_path / "work"
    work.mkdir()
    thread = threading.Thread(target=sandbox.run, args=(["sleep", "20"], str(work)),
                              kwargs={"limits": sandbox.Limits(timeout=20)}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for pid in process.processes_of_run(os.getpid()):
            try:
                if open(f"/proc/{pid}/comm").read().strip() == "sleep":
                    return thread, pid
            except OSError:
                continue
        time.sleep(0.05)
    pytest.fail("the sandboxed sleep did not start")


def _read(path) -> str:
    with open(path) as f:
        return f.read().strip()


def _cpu_dirs() -> list[str]:
    """This process's sandbox cgroups that carry CPU settings."""
    return [d for d in cgroup.of_run(os.getpid())
            if os.path.exists(os.path.join(d, "cpu.shares")) or os.path.exists(os.path.join(d, "cpu.max"))]


def test_a_sandbox_cgroup_has_an_equal_weight_and_one_core(tmp_path, cpu_mode):
    thread, pid = _sandboxed_sleep(tmp_path)
    try:
        assert cgroup.cpu_capped(pid), "the sandboxed process's cgroup has no CPU quota"
        if cpu_mode == "systemd":
            return  # systemd owns the scope's files; the quota was read above
        [where] = [d for d in _cpu_dirs() if str(pid) in _read(os.path.join(d, "cgroup.procs")).split()]
        if cpu_mode == "v1":
            assert int(_read(os.path.join(where, "cpu.shares"))) == cgroup.CPU_SHARES
            quota, period = (int(_read(os.path.join(where, f"cpu.cfs_{n}_us"))) for n in ("quota", "period"))
        else:
            assert int(_read(os.path.join(where, "cpu.weight"))) == cgroup.CPU_WEIGHT
            quota, period = (int(x) for x in _read(os.path.join(where, "cpu.max")).split())
        assert quota == cgroup.CPUS * period
    finally:
        process.kill_all()
        thread.join(timeout=30)
    assert cgroup.of_run(os.getpid()) == [], "the sandbox's cgroups were left behind"


def _spin(where, children: int, results: dict) -> None:
    where.mkdir()
    results[children] = sandbox.run([sys.executable, "-c", SPIN, str(children)], str(where),
                                    limits=sandbox.Limits(timeout=60))


def test_a_forking_hog_gets_one_core_and_its_neighbour_as_much(tmp_path, cpu_mode):
    results: dict[int, sandbox.Result] = {}
    runs = [threading.Thread(target=_spin, args=(tmp_path / str(n), n, results)) for n in (CHILDREN, 1)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    for result in results.values():
        assert result.returncode == 0, result.stderr[-2000:]
    hog, honest = (float(results[n].stdout.split()[-1]) for n in (CHILDREN, 1))
    print(f"{CHILDREN} spinning children used {hog:.2f} cores (cap {cgroup.CPUS}), one beside them {honest:.2f}")
    assert hog <= cgroup.CPUS + 0.3
    # Equal weights: the single process gets what the hog gets (without them, about 1/CHILDREN of it).
    assert honest >= 0.5 * hog


def test_a_hog_beside_an_honest_student_costs_the_honest_student_nothing(tmp_path, cpu_mode):
    course = ck.make_course(tmp_path)
    answers = ck.solution_answers(course)
    ck.write_submission(course, "ana", answers)
    ck.write_submission(course, "hog", {**answers, "corr2d": answers["corr2d"] + "\n" + NOTEBOOK_HOG})
    result = ck.convlab("grade", str(course), "--workers", "2", "--timeout", "30", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ck.scores(course, "ana") == FULL


def test_doctor_names_the_cpu_share(cpu_mode):
    from autograder.sandbox import doctor

    found = {what: value for what, value, _ in doctor.rows()[0]}
    assert found["CPU share"] == doctor.CPU_SHARE[cpu_mode]
