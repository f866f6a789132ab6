"""The grading sandbox: run one command under bubblewrap with no network, no view of the course
directory, and limits on memory, CPU time, processes, open files, file size and wall time.

Layout inside the sandbox: the system (`/usr`, `/etc`, the Python installation, the virtual
environment and the `convlab`/`autograder` packages) read-only; a fresh `/tmp`, `/dev` and
`/proc`; and one writable directory, `/home/student`, bound to the caller's private `workdir`.
Nothing else of the host file system exists there, so the course directory, the gradebook,
hidden tests and other students' files cannot be opened.

Run as root (the usual grading host), bubblewrap drops to a fresh unprivileged uid, so
RLIMIT_NPROC applies (the kernel exempts root from it) and each sandbox counts only its own
processes; where cgroups v1 can be created, each sandbox also gets its own memory and pids
cgroup (`autograder.cgroup`) bounding the sum over its processes. Run as an ordinary user, a
user namespace keeps the caller's uid.
"""
from __future__ import annotations

import glob
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from autograder.cgroup import Cgroup

SANDBOX_HOME = "/home/student"
_live: set[subprocess.Popen] = set()  # sandboxes running now, for kill_all()
_live_lock = threading.Lock()
# uids handed to sandboxes when grading as root: far above any real account.
_UID_RANGE = (1_000_000, 1_900_000)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed run; every process inside inherits them."""

    timeout: float = 300.0  # wall seconds for the whole run; the process group is killed after
    memory_mb: int = 2048  # RLIMIT_DATA per process (RLIMIT_AS would break CUDA's address space)
    cpu_seconds: int | None = None  # RLIMIT_CPU per process; default: timeout + 30
    nproc: int = 256  # RLIMIT_NPROC: processes and threads of the sandbox's uid
    nofile: int = 1024  # RLIMIT_NOFILE
    fsize_mb: int = 512  # RLIMIT_FSIZE: largest file a process may write

    def __post_init__(self):
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got timeout={self.timeout!r}")
        if not self.memory_mb > 0:
            raise ValueError(f"memory_mb must be positive, got memory_mb={self.memory_mb!r}")


@dataclass
class SandboxResult:
    returncode: int | None
    timed_out: bool
    wall: float
    stdout: str
    stderr: str
    sandboxed: bool
    oom_killed: bool = False  # the sandbox's memory cgroup killed a process


# The cgroup holding a sandbox may use this much beyond one process's memory limit (the runner,
# page cache of the libraries it maps).
CGROUP_HEADROOM_MB = 1024


def bwrap() -> str | None:
    """Path of the bubblewrap binary, or None."""
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether bubblewrap exists and can build this module's sandbox on this host."""
    if bwrap() is None:
        return False
    import tempfile

    with tempfile.TemporaryDirectory(prefix="convlab-probe-") as empty:
        cmd, preexec = _with_limits(command(["/bin/true"], empty, uid=_UID_RANGE[0]), Limits())
        probe = subprocess.run(cmd, capture_output=True, timeout=30, preexec_fn=preexec)
    return probe.returncode == 0


def why_unavailable() -> str:
    if bwrap() is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    return "bubblewrap is installed but cannot create namespaces on this host"


def readonly_paths() -> list[str]:
    """What student code may read: the system, this Python, its venv and convlab's packages."""
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.abspath(sys.executable))}
    import autograder
    import convlab

    for package in (convlab, autograder):
        paths.add(os.path.dirname(os.path.abspath(package.__file__)))
    for extra in ("/usr", "/etc", "/opt/conda"):
        paths.add(extra)
    # Keep only the outermost paths (binding a path and its child twice is wasted work).
    ordered = sorted(os.path.realpath(p) for p in paths if os.path.exists(p))
    outer: list[str] = []
    for path in ordered:
        if not any(path == o or path.startswith(o.rstrip("/") + "/") for o in outer):
            outer.append(path)
    return outer


def _gpu_args() -> list[str]:
    """Device nodes and /sys views CUDA needs, where this host has an NVIDIA GPU."""
    nodes = sorted(glob.glob("/dev/nvidia*"))
    if not nodes:
        return []
    args: list[str] = []
    for node in nodes:
        args += ["--dev-bind-try", node, node]
    args += ["--ro-bind-try", "/sys", "/sys"]
    return args


def command(argv: list[str], workdir: str, *, uid: int, env: dict[str, str] | None = None) -> list[str]:
    """The bwrap command line that runs `argv` with `workdir` as the only writable directory."""
    args = [bwrap() or "bwrap", "--die-with-parent", "--new-session",
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    as_root = os.geteuid() == 0
    if as_root:
        # setpriv below needs these two; it drops every capability before the command starts.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
    made: set[str] = {"/"}

    def parents(path: str) -> None:
        # bwrap creates missing parents as 0700 root dirs; make them traversable.
        parts = Path(path).parts
        for i in range(2, len(parts)):
            parent = str(Path(*parts[:i]))
            if parent not in made:
                args.extend(["--perms", "0755", "--dir", parent])
                made.add(parent)

    # Fresh /proc, /dev and /tmp first: a later mount on /tmp would hide a checkout or venv living there.
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm",
             "--perms", "1777", "--tmpfs", "/tmp"]
    made.update({"/proc", "/dev", "/dev/shm", "/tmp"})
    for path in readonly_paths():
        parents(path)
        args += ["--ro-bind", path, path]
        made.add(path)
    for link, target in (("/bin", "usr/bin"), ("/sbin", "usr/sbin"), ("/lib", "usr/lib"),
                         ("/lib64", "usr/lib64"), ("/lib32", "usr/lib32")):
        if os.path.islink(link):
            args += ["--symlink", target, link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    if "/home" not in made:
        args += ["--perms", "0755", "--dir", "/home"]
    args += _gpu_args()
    args += ["--bind", os.path.abspath(workdir), SANDBOX_HOME, "--chdir", SANDBOX_HOME]
    args += ["--clearenv"]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    if as_root:
        args += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        args += ["--"]
    return args + list(argv)


def _rlimits(limits: Limits) -> dict[str, int]:
    """prlimit's resource names -> the value to set (soft and hard alike)."""
    nproc = limits.nproc
    if os.geteuid() != 0:
        # NPROC counts every process of the caller's uid; leave room for what already runs.
        nproc += _processes_of_uid(os.getuid())
    return {"data": limits.memory_mb * 1024 * 1024,
            "cpu": limits.cpu_seconds if limits.cpu_seconds is not None else int(limits.timeout) + 30,
            "fsize": limits.fsize_mb * 1024 * 1024, "nofile": limits.nofile, "nproc": nproc, "core": 0}


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


def sandbox_uid() -> int:
    """A fresh uid for one sandbox, so concurrent sandboxes never share an RLIMIT_NPROC count."""
    return random.SystemRandom().randrange(*_UID_RANGE) if os.geteuid() == 0 else os.getuid()


def run(argv: list[str], workdir: str, *, limits: Limits = Limits(),
        env: dict[str, str] | None = None, require_sandbox: bool = False) -> SandboxResult:
    """Run `argv` sandboxed in `workdir`; kill its whole process group at `limits.timeout`.

    Without bubblewrap, runs unsandboxed (rlimits and timeout still apply) after a loud warning,
    unless `require_sandbox`.
    """
    sandboxed = available()
    base_env = {"HOME": SANDBOX_HOME, "PATH": f"{os.path.dirname(os.path.abspath(sys.executable))}:/usr/bin:/bin",
                "LANG": "C.UTF-8", "TMPDIR": "/tmp"}
    base_env.update(env or {})
    if sandboxed:
        uid = sandbox_uid()
        if os.geteuid() == 0:
            _chown_tree(workdir, uid)
        cmd = command(argv, workdir, uid=uid, env=base_env)
        run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        cwd = "/"
    else:
        if require_sandbox:
            raise RuntimeError(why_unavailable())
        warnings.warn(f"GRADING WITHOUT A SANDBOX: {why_unavailable()}. Student code can read "
                      "and write everything this user can.", RuntimeWarning, stacklevel=2)
        cmd = list(argv)
        run_env = {**os.environ, **base_env, "HOME": workdir}
        cwd = workdir
    cmd, preexec = _with_limits(cmd, limits)
    group = None
    if sandboxed and os.geteuid() == 0:
        group = Cgroup.create((limits.memory_mb + CGROUP_HEADROOM_MB) * 2**20, limits.nproc + 64)
        if group is not None:
            cmd = group.wrap(cmd)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=run_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=preexec)
    with _live_lock:
        _live.add(proc)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=limits.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        if group is not None:
            group.kill()
        out, err = proc.communicate()
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
        oom_killed = group is not None and group.oom_killed()
        if group is not None:
            group.remove()
    return SandboxResult(proc.returncode, timed_out, time.monotonic() - start,
                         out.decode(errors="replace")[-20000:], err.decode(errors="replace")[-20000:],
                         sandboxed, oom_killed)


def kill_all() -> None:
    """Kill every sandbox this process is running (an interrupted run must not leave them)."""
    with _live_lock:
        running = list(_live)
    for proc in running:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _chown_tree(path: str, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for name in files:
            os.chown(os.path.join(root, name), uid, uid)
