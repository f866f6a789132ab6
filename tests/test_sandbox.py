"""The grading sandbox isolates for real: network, files, memory, processes, time, privileges."""
import os
import socket
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from autograder import sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]


def run_python(tmp_path, code, **limits):
    """Run `code` with this interpreter inside the sandbox; its home is a fresh private dir."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return sandbox.run([os.path.abspath(sys.executable), "-c", textwrap.dedent(code)], str(work),
                       limits=sandbox.Limits(**{"timeout": 60, **limits}), require_sandbox=True)


def test_no_network_even_to_a_port_open_on_this_host(tmp_path):
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


def test_course_files_and_other_students_are_invisible(tmp_path):
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


def test_system_is_read_only_and_home_is_private(tmp_path):
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


def test_unprivileged_and_clean_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_SECRET_TOKEN", "s3cret")
    result = run_python(tmp_path, """
        import os
        print("uid", os.getuid(), "euid", os.geteuid())
        print([l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1])
        print("secret" if "CONVLAB_SECRET_TOKEN" in os.environ else "no secret")
    """)
    assert result.returncode == 0, result.stderr
    uid_line, caps, secret = result.stdout.split("\n")[:3]
    assert "uid 0 " not in uid_line + " " and "euid 0" not in uid_line, uid_line
    assert int(caps, 16) == 0, caps
    assert secret == "no secret"


def test_memory_hog_is_refused(tmp_path):
    result = run_python(tmp_path, """
        try:
            hog = bytearray(3 * 1024 ** 3)
            print("ALLOCATED")
        except MemoryError:
            print("MemoryError")
    """, memory_mb=1024)
    assert "ALLOCATED" not in result.stdout
    assert "MemoryError" in result.stdout, (result.stdout, result.stderr)


def test_fork_bomb_is_capped(tmp_path):
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


def test_infinite_loop_is_killed_at_the_wall_time_limit_with_its_children(tmp_path):
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


def test_without_bwrap_runs_with_a_loud_warning_or_refuses(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    sandbox.available.cache_clear()
    try:
        assert not sandbox.available()
        with pytest.raises(RuntimeError, match="bubblewrap"):
            sandbox.run(["true"], str(tmp_path), require_sandbox=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = sandbox.run([sys.executable, "-c", "print('ran')"], str(tmp_path))
        assert result.stdout.strip() == "ran" and not result.sandboxed
        assert any("WITHOUT A SANDBOX" in str(w.message) for w in caught)
    finally:
        monkeypatch.undo()
        sandbox.available.cache_clear()


@pytest.mark.skipif(not os.path.exists("/dev/nvidiactl"), reason="no NVIDIA GPU on this host")
def test_gpu_devices_are_visible_inside(tmp_path):
    result = run_python(tmp_path, "import torch; print(torch.cuda.is_available())")
    assert result.stdout.strip() == "True", result.stderr



def test_kill_all_stops_running_sandboxes_at_once(tmp_path):
    import threading

    results = []
    worker = threading.Thread(target=lambda: results.append(
        run_python(tmp_path, "while True:\n    pass", timeout=120)))
    start = time.monotonic()
    worker.start()
    while not sandbox._live and time.monotonic() - start < 30:
        time.sleep(0.05)
    sandbox.kill_all()
    worker.join(timeout=30)
    assert not worker.is_alive() and time.monotonic() - start < 60
    assert results[0].returncode == -9 and not sandbox._live


def test_memory_of_all_processes_together_is_capped(tmp_path):
    from autograder.cgroup import Cgroup

    probe = Cgroup.create(2**30, 64) if os.geteuid() == 0 else None
    if probe is None:
        pytest.skip("this host lets no cgroup be created: only per-process rlimits apply")
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
