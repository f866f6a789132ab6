"""Running one command of a backend's as a process group and watching it: rlimits set by
`prlimit`, the tails of its output kept, its work dir's size and its wall time watched, the whole
group killed past either. Every backend runs its command here, so each gets the same bounds."""
from __future__ import annotations

import glob
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time

from autograder.sandbox.limits import Limits, Result

#: Set in every run's environment to the grading process's pid, so a run can find its own.
RUN_VARIABLE = "CONVLAB_GRADER_PID"
_WATCH_SECONDS = 0.2  # how often the disk watchdog measures the work dir
_live: set[subprocess.Popen] = set()  # runs going now, for kill_all()
_live_lock = threading.Lock()


def base_env(home: str) -> dict[str, str]:
    """The environment every run starts from: `home`, UTF-8, this interpreter's bin/ on PATH."""
    return {"HOME": home, "LANG": "C.UTF-8", "TMPDIR": "/tmp",
            "PATH": f"{os.path.dirname(os.path.abspath(sys.executable))}:/usr/bin:/bin",
            RUN_VARIABLE: str(os.getpid())}


def _rlimits(limits: Limits) -> dict[str, int]:
    """prlimit's resource names -> the value to set (soft and hard alike)."""
    nproc = limits.nproc
    if os.geteuid() != 0:
        # NPROC counts every process of the caller's uid; leave room for what already runs.
        nproc += _processes_of_uid(os.getuid())
    return {"data": limits.memory_mb * 1024 * 1024, "cpu": limits.cpu,
            "fsize": min(limits.fsize_mb, limits.disk_mb) * 1024 * 1024, "nofile": limits.nofile,
            "nproc": nproc, "core": 0}


def _with_limits(cmd: list[str], limits: Limits) -> tuple[list[str], object]:
    """`cmd` behind util-linux `prlimit` (safe with threads); else a preexec_fn doing the same."""
    values = _rlimits(limits)
    prlimit = shutil.which("prlimit") or (os.path.exists("/usr/bin/prlimit") and "/usr/bin/prlimit")
    if prlimit:
        return [prlimit, *(f"--{name}={value}:{value}" for name, value in values.items()), "--", *cmd], None

    def preexec() -> None:
        for name, value in values.items():
            resource.setrlimit(getattr(resource, f"RLIMIT_{name.upper()}"), (value, value))

    return cmd, preexec


def _processes_of_uid(uid: int) -> int:
    count = 0
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        count += int(line.split()[1]) == uid
                        break
        except OSError:
            continue
    return count


class _Tail:
    """Drains a pipe to its end, keeping only the last `limit` bytes: a flood costs no memory."""

    def __init__(self, stream, limit: int):
        self.data = bytearray()
        self.thread = threading.Thread(target=self._drain, args=(stream, limit), daemon=True)
        self.thread.start()

    def _drain(self, stream, limit: int) -> None:
        with stream:
            for chunk in iter(lambda: stream.read(65536), b""):
                self.data += chunk
                if len(self.data) > 2 * limit:
                    del self.data[:-limit]
        del self.data[:-limit]

    def text(self) -> str:
        self.thread.join(timeout=10)
        return bytes(self.data).decode(errors="replace")


def disk_usage(path: str, stop_at: int) -> tuple[int, int]:
    """(bytes, entries) under `path`, counting no further once bytes or entries pass `stop_at`."""
    size = entries = 0
    stack = [path]
    while stack and size <= stop_at and entries <= stop_at // 4096:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    size += info.st_blocks * 512 if hasattr(info, "st_blocks") else info.st_size
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return size, entries


def run(cmd: list[str], *, cwd: str, env: dict[str, str], workdir: str, limits: Limits, backend: str,
        isolated: bool, fds: list[int] = (), group=None) -> Result:
    """Run `cmd` under `limits` in its own session; kill its whole process group (and `group`, a
    cgroup holding it, if any) at `limits.timeout` or once `workdir` passes `limits.disk_mb`.
    `fds` are passed to the command and closed here once it started."""
    cmd, preexec = _with_limits(cmd, limits)
    if group is not None:
        cmd = group.wrap(cmd)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, preexec_fn=preexec, pass_fds=fds)
    except BaseException:
        if group is not None:
            group.remove()
        raise
    finally:
        for fd in fds:
            os.close(fd)
    with _live_lock:
        _live.add(proc)
    out, err = _Tail(proc.stdout, limits.output_bytes), _Tail(proc.stderr, limits.output_bytes)
    timed_out = disk_exceeded = False
    try:
        timed_out, disk_exceeded = _watch(proc, workdir, limits, start)
        if timed_out or disk_exceeded:
            _kill_group(proc)
            if group is not None:
                group.kill()
        proc.wait()
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
        oom_killed = group is not None and group.oom_killed()
        if group is not None:
            group.remove()
    return Result(proc.returncode, timed_out, time.monotonic() - start, out.text(), err.text(),
                  backend, isolated, oom_killed, disk_exceeded)


def _watch(proc: subprocess.Popen, workdir: str, limits: Limits, start: float) -> tuple[bool, bool]:
    """Wait for `proc`; (timed out, disk exceeded) when it had to be stopped."""
    disk = limits.disk_mb * 2**20
    while True:
        try:
            proc.wait(timeout=_WATCH_SECONDS)
            return False, False
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() - start > limits.timeout:
            return True, False
        size, entries = disk_usage(workdir, disk)
        if size > disk or entries > disk // 4096:
            return False, True


def kill_all() -> None:
    """Kill every run this process has going (an interrupted grading must not leave them)."""
    with _live_lock:
        running = list(_live)
    for proc in running:
        _kill_group(proc)


def processes_of_run(pid: int) -> list[int]:
    """Pids of the processes a grading process `pid` started that still run (found by
    RUN_VARIABLE; as an ordinary user, only those of this user are visible)."""
    marker = f"{RUN_VARIABLE}={pid}".encode()
    found = []
    for path in glob.glob("/proc/[0-9]*/environ"):
        try:
            with open(path, "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.append(int(path.split("/")[2]))
        except (OSError, ValueError):
            continue
    return found


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
