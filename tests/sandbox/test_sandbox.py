"""The grading sandbox isolates for real: network, files, memory, processes, time, privileges.

The tests taking `run_python` run in the backend the `wall` fixture names: bubblewrap here;
test_container.py runs the same tests in a container by naming its own `wall`."""
import functools
import os
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.sandbox import bubblewrap as sandbox
from autograder.sandbox import process

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]


@pytest.fixture
def wall():
    """The backend the tests below run in."""
    return sandbox.BUBBLEWRAP


@pytest.fixture
def run_python(wall):
    """run_python(tmp_path, code, **limits): `code` run with this interpreter in `wall`, its home a
    fresh private dir."""
    return functools.partial(_run_python, wall)


def _run_python(wall, tmp_path, code, **limits):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return wall.run([os.path.abspath(sys.executable), "-c", textwrap.dedent(code)], str(work),
                    limits=sandbox.Limits(**{"timeout": 60, **limits}), env={})


def test_no_network_even_to_a_port_open_on_this_host(tmp_path, run_python):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    result = run_python(tmp_path, f"""
        import socket
        for host in ("127.0.0.1", "1.1.1.1"):
            s = socket.socket(); s.settimeout(3)
            try:
                s.connect((host, {port}))
                print("CONNECTED", host)
            except OSError as e:
                print("refused", host, type(e).__name__)
    """)
    assert result.returncode == 0, result.stderr
    assert "CONNECTED" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 2, result.stdout
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing reached the port from inside
    listener.close()


def test_course_files_and_other_students_are_invisible(tmp_path, run_python):
    course = tmp_path / "course"
    (course / "submitted" / "bob" / "ps1").mkdir(parents=True)
    (course / "submitted" / "bob" / "ps1" / "ps1.ipynb").write_text("bob's answers")
    (course / "gradebook.db").write_text("grades")
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "source" / "ps1" / "ps1.ipynb").write_text("hidden tests")
    targets = [course / "gradebook.db", course / "submitted" / "bob" / "ps1" / "ps1.ipynb",
               course / "source" / "ps1" / "ps1.ipynb", course, "/root/.bash_history", "/work/main/.git"]
    result = run_python(tmp_path, f"""
        import os
        for path in {[str(t) for t in targets]!r}:
            try:
                os.listdir(path) if os.path.isdir(path) else open(path).read()
                print("READ", path)
            except OSError as e:
                print("denied", path, type(e).__name__)
        print(sorted(os.listdir("/tmp")), sorted(os.listdir(".")))
    """)
    assert result.returncode == 0, result.stderr
    assert "READ" not in result.stdout, result.stdout
    # A fresh /tmp (holding at most the way to read-only paths such as a checkout under /tmp)
    # and an empty private home.
    allowed = sorted({Path(p).parts[2] for p in sandbox.readonly_paths()
                      if len(Path(p).parts) > 2 and Path(p).parts[1] == "tmp"})
    assert f"{allowed} []" in result.stdout, result.stdout


def test_system_is_read_only_and_home_is_private(tmp_path, run_python):
    result = run_python(tmp_path, """
        import os, sys
        for path in ("/usr/evil", os.path.join(sys.prefix, "evil"), "/etc/evil"):
            try:
                open(path, "w").write("x"); print("WROTE", path)
            except OSError as e:
                print("denied", path)
        open("mine.txt", "w").write("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert "WROTE" not in result.stdout, result.stdout
    assert (tmp_path / "work" / "mine.txt").read_text() == "ok"


def test_unprivileged_and_clean_environment(tmp_path, monkeypatch, run_python):
    monkeypatch.setenv("CONVLAB_SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")  # what a container engine may pass on
    result = run_python(tmp_path, """
        import os
        print("uid", os.getuid(), "euid", os.geteuid())
        print([l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1])
        print("secret" if {"CONVLAB_SECRET_TOKEN", "http_proxy"} & set(os.environ) else "no secret")
    """)
    assert result.returncode == 0, result.stderr
    uid_line, caps, secret = result.stdout.split("\n")[:3]
    assert "uid 0 " not in uid_line + " " and "euid 0" not in uid_line, uid_line
    assert int(caps, 16) == 0, caps
    assert secret == "no secret"


def test_memory_hog_is_refused(tmp_path, run_python):
    result = run_python(tmp_path, """
        try:
            hog = bytearray(3 * 1024 ** 3)
            print("ALLOCATED")
        except MemoryError:
            print("MemoryError")
    """, memory_mb=1024)
    assert "ALLOCATED" not in result.stdout
    assert "MemoryError" in result.stdout, (result.stdout, result.stderr)


def test_fork_bomb_is_capped(tmp_path, run_python):
    result = run_python(tmp_path, """
        import os, time, sys
        children = 0
        while children < 5000:
            try:
                pid = os.fork()
            except OSError as e:
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        print("forked", children, flush=True)
        os._exit(0)
    """, nproc=64, timeout=60)
    forked = int(result.stdout.split()[1])
    assert 0 < forked < 64, result.stdout


def test_infinite_loop_is_killed_at_the_wall_time_limit_with_its_children(tmp_path, run_python):
    marker = tmp_path / "work" / "survivor"
    start = time.monotonic()
    result = run_python(tmp_path, """
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(4)
            open("survivor", "w").write("still alive")
            os._exit(0)
        while True:
            pass
    """, timeout=2)
    assert result.timed_out
    assert time.monotonic() - start < 15
    time.sleep(4)
    assert not marker.exists(), "a child of the sandbox outlived the timeout"


def test_limits_name_the_bad_argument():
    with pytest.raises(ValueError, match="timeout"):
        sandbox.Limits(timeout=0)
    with pytest.raises(ValueError, match="memory_mb"):
        sandbox.Limits(memory_mb=-1)


@pytest.mark.skipif(not os.path.exists("/dev/nvidiactl"), reason="no NVIDIA GPU on this host")
def test_gpu_devices_are_visible_inside(tmp_path, run_python):
    result = run_python(tmp_path, "import torch; print(torch.cuda.is_available())")
    assert result.stdout.strip() == "True", result.stderr



def test_kill_all_stops_running_sandboxes_at_once(tmp_path, run_python, wall):
    import threading

    results = []
    worker = threading.Thread(target=lambda: results.append(
        run_python(tmp_path, "while True:\n    pass", timeout=120)))
    start = time.monotonic()
    worker.start()
    while not process._live and time.monotonic() - start < 30:
        time.sleep(0.05)
    wall.kill_all()
    worker.join(timeout=30)
    assert not worker.is_alive() and time.monotonic() - start < 60
    assert results[0].returncode == -9 and not process._live


def test_memory_of_all_processes_together_is_capped(tmp_path, run_python, wall):
    from autograder.sandbox import cgroup

    probe = cgroup.create(2**30, 64) if wall is sandbox.BUBBLEWRAP else None  # a container has its own
    if wall is sandbox.BUBBLEWRAP and probe is None:
        pytest.skip("this host lets no cgroup be created: only per-process rlimits apply")
    if probe is not None:
        probe.remove()
    result = run_python(tmp_path, """
        import os
        children = []
        for i in range(6):
            pid = os.fork()
            if pid == 0:
                try:
                    block = bytearray(700 * 1024 * 1024)  # under the per-process limit
                    for j in range(0, len(block), 4096):
                        block[j] = 1
                    import time; time.sleep(3)
                except MemoryError:
                    pass
                os._exit(0)
            children.append(pid)
        print(sum(os.waitpid(pid, 0)[1] == 9 for pid in children), "killed", flush=True)
    """, memory_mb=1024)
    # 6 x 700 MB is far above the cgroup's 1024 + headroom MB: some children are killed.
    assert int(result.stdout.split()[0]) >= 1, result.stdout
    assert result.oom_killed


def test_no_new_user_namespace_no_host_etc_no_host_path_in_proc(tmp_path, run_python, wall):
    work = tmp_path / "work"
    result = run_python(tmp_path, """
        import os, subprocess
        print("userns", subprocess.run(["unshare", "--user", "--map-root-user", "id", "-u"],
                                       capture_output=True, text=True).stdout.strip() or "refused")
        print("shadow", os.path.exists("/etc/shadow"))
        print("cmdline", open("/proc/1/cmdline").read().replace(chr(0), " "))
        import getpass; print("user", getpass.getuser())
    """)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    if sandbox.userns_blocked() if wall is sandbox.BUBBLEWRAP else wall.userns_blocked():
        assert lines["userns"] == "refused", result.stdout
    assert lines["shadow"] == "False"
    assert str(work) not in lines["cmdline"] and str(tmp_path) not in lines["cmdline"]
    assert lines["user"] == "student"


def test_an_output_flood_is_drained_not_kept(tmp_path, run_python):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run_python(tmp_path, """
        import os
        block = b"x" * (1 << 20)
        for _ in range(1024):
            os.write(1, block)
            os.write(2, block)
        print("done", flush=True)
    """)
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.returncode == 0
    assert result.stdout.endswith("done\n") and len(result.stdout) <= sandbox.Limits().output_bytes
    assert grew_mb < 256, f"reading 2 GiB of output grew this process by {grew_mb:.0f} MB"


def test_filling_the_disk_stops_the_run_and_tmp_is_small(tmp_path, run_python):
    result = run_python(tmp_path, """
        import os
        try:
            with open("/tmp/filler", "wb") as f:
                f.write(b"x" * (300 << 20))
            print("tmp took 300 MB", flush=True)
        except OSError as exc:
            print("tmp refused", exc.errno, flush=True)
        os.remove("/tmp/filler")
        block = b"x" * (64 << 20)
        for i in range(40):
            with open(f"fill{i}", "wb") as f:
                f.write(block)
        print("wrote 2.5 GB", flush=True)
    """, disk_mb=256, tmp_mb=128)
    assert "tmp refused" in result.stdout, result.stdout + result.stderr
    assert result.disk_exceeded and "wrote 2.5 GB" not in result.stdout


def test_doctor_reports_what_the_sandbox_gives(capsys):
    from autograder import cli

    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for row in ("sandbox", "uid inside", "network", "new user namespaces", "memory/pids limits", "GPU inside",
                "torch", "nbgrader"):
        assert row in out
    assert "none (loopback only)" in out and "convlab grade will run here" in out
