"""The grading sandbox: run one command under bubblewrap with no network, no view of the course
directory, and limits on memory, CPU time, processes, open files, file size and wall time.

Layout inside the sandbox: the system (`/usr`, the Python installation, the virtual environment
and the `convlab`/`autograder` packages) read-only, with only the files of `/etc` that Python
and its libraries read (and a `passwd` naming the sandbox's own user); a fresh `/dev`, `/proc`
and size-limited `/tmp` and `/dev/shm`; and one writable directory, `/home/student`, bound to
the caller's private `workdir`, whose total size a watchdog bounds. Nothing else of the host
file system exists there, so the course directory, the gradebook, hidden tests and other
students' files cannot be opened. bubblewrap reads its arguments from a pipe, so `/proc` shows
no host paths; no new user namespace can be made inside (`--disable-userns`).

Run as root (the usual grading host), bubblewrap drops to a fresh unprivileged uid, so
RLIMIT_NPROC applies (the kernel exempts root from it) and each sandbox counts only its own
processes; a second, unprivileged bubblewrap then forbids new user namespaces. Where a cgroup
can be made (cgroup v1 as root, a delegated cgroup v2 subtree, a systemd scope), each sandbox
also gets its own memory, pids and CPU cgroup (`autograder.sandbox.cgroup`) bounding the sum over its
processes and giving it an equal share of at most one core. Run as an ordinary user, a user namespace keeps the caller's uid.

Without a working bubblewrap `run` refuses (`SandboxUnavailable`). The backend `BUBBLEWRAP` is
this module behind the interface of `autograder.sandbox`.
"""
from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from autograder.sandbox import cgroup, process
from autograder.sandbox.limits import Limits, Result, SandboxUnavailable

NAME = "bubblewrap"
SANDBOX_HOME = "/home/student"
# uids handed to sandboxes when grading as root: far above any real account.
_UID_RANGE = (1_000_000, 1_900_000)
#: What of /etc Python, its libraries and a notebook kernel read; the rest of the host's stays out.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "nsswitch.conf",
             "host.conf", "hosts", "alternatives", "ssl", "ca-certificates", "fonts", "mime.types",
             "os-release", "matplotlibrc", "python3", "python3.*")
#: The top-level system directories a merged-/usr host makes links into /usr (shown as they are on the host).
SYSTEM_LINKS = (("/bin", "usr/bin"), ("/sbin", "usr/sbin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"),
                ("/lib32", "usr/lib32"))


def bwrap() -> str | None:
    """Path of the bubblewrap binary, or None."""
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


#: Chosen by the probe: whether, as root, a nested unprivileged bubblewrap forbids user namespaces.
_nested_guard = {"on": True}


@lru_cache(maxsize=1)
def _probe() -> str | None:
    """None when this module's sandbox runs here, else bubblewrap's own complaint. As root, the
    sandbox with the nested user-namespace guard is tried first, then without it (a host that
    forbids unprivileged user namespaces needs no guard, and `convlab doctor` says which)."""
    if bwrap() is None:
        return "bubblewrap (bwrap) is not installed"
    import tempfile

    problem = None
    for nested in ((True, False) if os.geteuid() == 0 and _bwrap_can_disable_userns() else (False,)):
        _nested_guard["on"] = nested
        with tempfile.TemporaryDirectory(prefix="convlab-probe-") as empty:
            try:
                result = run(["/bin/true"], empty, limits=Limits(timeout=30), _probing=True)
            except OSError as exc:
                return f"bubblewrap could not start: {exc}"
        if result.returncode == 0:
            return None
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        problem = problem or (lines[-1][:300] if lines else f"bubblewrap exited with {result.returncode}")
    return problem


def userns_blocked() -> bool:
    """Whether the learner's code is kept from making new user namespaces (bubblewrap >= 0.8)."""
    return available() and _bwrap_can_disable_userns() and (os.geteuid() != 0 or _nested_guard["on"])


def available() -> bool:
    """Whether bubblewrap exists and can build this module's sandbox on this host."""
    return _probe() is None


available.cache_clear = _probe.cache_clear  # tests make bubblewrap vanish and come back


def why_unavailable() -> str:
    """Why the sandbox cannot run here, and the three ways on."""
    problem = _probe()
    if problem is None:
        return ""
    if bwrap() is None:
        fix = "install bubblewrap (apt-get install bubblewrap)"
    else:
        fix = ("allow user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
               "user.max_user_namespaces > 0, or grade as root)")
    return (f"{problem}. To grade: {fix}, or pass --no-sandbox to run student code as plain "
            "nbgrader does, with this user's rights")


@lru_cache(maxsize=1)
def _bwrap_can_disable_userns() -> bool:
    """bubblewrap 0.8 and later can forbid new user namespaces inside the sandbox."""
    try:
        text = subprocess.run([bwrap() or "bwrap", "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--disable-userns" in text


def readonly_paths() -> list[str]:
    """What student code may read: the system, this Python, its venv and convlab's packages."""
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.abspath(sys.executable)), "/usr", "/opt/conda"}
    import autograder
    import convlab

    for package in (convlab, autograder):
        paths.add(os.path.dirname(os.path.abspath(package.__file__)))
    # Keep only the outermost paths (binding a path and its child twice is wasted work).
    ordered = sorted(os.path.realpath(p) for p in paths if os.path.exists(p))
    outer: list[str] = []
    for path in ordered:
        if not any(path == o or path.startswith(o.rstrip("/") + "/") for o in outer):
            outer.append(path)
    return outer


def etc_paths() -> list[str]:
    """The host's /etc entries the sandbox shows (see ETC_FILES)."""
    found = []
    for pattern in ETC_FILES:
        found += glob.glob(os.path.join("/etc", pattern))
    return sorted(set(found))


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


def identity_files(uid: int) -> dict[str, str]:
    """/etc/passwd and /etc/group naming only root and the sandbox's user (getpass, ~ expansion)."""
    return {"/etc/passwd": f"root:x:0:0:root:/root:/bin/sh\nstudent:x:{uid}:{uid}:student:{SANDBOX_HOME}:/bin/sh\n",
            "/etc/group": f"root:x:0:\nstudent:x:{uid}:\n"}


def command(argv: list[str], workdir: str, *, uid: int, env: dict[str, str] | None = None,
            limits: Limits = Limits(), data: dict[str, int] | None = None) -> list[str]:
    """bwrap's arguments (without the program name) that run `argv` with `workdir` as the only
    writable directory. `data` maps a path inside to a readable fd holding that file's content."""
    as_root = os.geteuid() == 0
    args = [*_namespaces(as_root), *_file_system(limits, data)]
    args += _gpu_args()
    args += ["--bind", os.path.abspath(workdir), SANDBOX_HOME, "--chdir", SANDBOX_HOME]
    args += ["--clearenv"]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    return args + _as_the_sandboxes_user(as_root, uid) + list(argv)


def _namespaces(as_root: bool) -> list[str]:
    """New namespaces for everything but the file system's view (made by `_file_system`)."""
    args = ["--die-with-parent", "--new-session",
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if as_root:
        # setpriv (`_as_the_sandboxes_user`) needs these two; it drops every capability before the command starts.
        return args + ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args + ["--unshare-user"] + (["--disable-userns"] if _bwrap_can_disable_userns() else [])


def _file_system(limits: Limits, data: dict[str, int] | None) -> list[str]:
    """The sandbox's view of files: fresh /proc, /dev and size-limited tmpfs, the system read-only,
    the few files of /etc Python reads, and `data`'s files."""
    # Fresh /proc, /dev and /tmp first: a later mount on /tmp would hide a checkout or venv living there.
    tmp_bytes = str(limits.tmp_mb * 2**20)
    args = ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/dev/shm",
            "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/proc", "/dev", "/dev/shm", "/tmp"}
    for path in readonly_paths():
        args += _parents(path, made) + ["--ro-bind", path, path]
        made.add(path)
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in etc_paths():
        if os.path.realpath(path) == path or os.path.exists(os.path.realpath(path)):
            args += ["--ro-bind", path, path]
    for path, fd in (data or {}).items():
        args += ["--perms", "0644", "--ro-bind-data", str(fd), path]
    for link, target in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", target, link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    if "/home" not in made:
        args += ["--perms", "0755", "--dir", "/home"]
    return args


def _parents(path: str, made: set[str]) -> list[str]:
    """bwrap creates missing parents as 0700 root dirs; make them traversable (and note them made)."""
    args: list[str] = []
    parts = Path(path).parts
    for i in range(2, len(parts)):
        parent = str(Path(*parts[:i]))
        if parent not in made:
            args += ["--perms", "0755", "--dir", parent]
            made.add(parent)
    return args


def _as_the_sandboxes_user(as_root: bool, uid: int) -> list[str]:
    """What runs the command: as root, setpriv to `uid` with no capability, then (where bubblewrap
    can) a nested unprivileged bubblewrap that makes user namespaces unavailable below it."""
    if not as_root:
        return ["--"]
    args = ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--"]
    if _nested_guard["on"] and _bwrap_can_disable_userns():
        args += [bwrap() or "bwrap", "--unshare-user", "--disable-userns", "--dev-bind", "/", "/", "--"]
    return args


def sandbox_uid() -> int:
    """A fresh uid for one sandbox, so concurrent sandboxes never share an RLIMIT_NPROC count."""
    return random.SystemRandom().randrange(*_UID_RANGE) if os.geteuid() == 0 else os.getuid()


def _pipe_with(data: bytes) -> int:
    """A pipe's read end from which `data` can be read (written now: small, under the pipe buffer)."""
    read, write = os.pipe()
    with os.fdopen(write, "wb") as f:
        f.write(data)
    return read


def _bwrap_command(argv, workdir, env, limits) -> tuple[list[str], list[int]]:
    """The bwrap command line and the fds it reads: its options and the identity files come
    through pipes, so the sandbox's /proc/1/cmdline shows no host path but the command's own."""
    uid = sandbox_uid()
    if os.geteuid() == 0:
        _chown_tree(workdir, uid)
    fds = {path: _pipe_with(text.encode()) for path, text in identity_files(uid).items()}
    arguments = command(argv, workdir, uid=uid, env=env, limits=limits, data=fds)
    cut = arguments.index("--")  # bubblewrap takes options from the pipe, the command from argv
    args_fd = _pipe_with(b"".join(a.encode() + b"\0" for a in arguments[:cut]))
    return [bwrap() or "bwrap", "--args", str(args_fd), *arguments[cut:]], [args_fd, *fds.values()]


def run(argv: list[str], workdir: str, *, limits: Limits = Limits(), env: dict[str, str] | None = None,
        _probing: bool = False) -> Result:
    """Run `argv` in the sandbox with `workdir` as its home; kill its whole process group at
    `limits.timeout` or once the work dir passes `limits.disk_mb`.

    Raises SandboxUnavailable when bubblewrap cannot run here: nothing then runs.
    """
    if not _probing and not available():
        raise SandboxUnavailable(why_unavailable())
    cmd, fds = _bwrap_command(argv, workdir, {**process.base_env(SANDBOX_HOME), **(env or {})}, limits)
    group = None if _probing else cgroup.create(limits.cgroup_memory_bytes, limits.nproc + 64)
    return process.run(cmd, cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, workdir=workdir,
                       limits=limits, backend=NAME, isolated=True, fds=fds, group=group)


def _chown_tree(path: str, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for name in files:
            os.chown(os.path.join(root, name), uid, uid)


class Bubblewrap:
    """The bubblewrap backend of `autograder.sandbox`: the safest this host may have."""

    name = NAME
    isolates = True

    def probe(self) -> str | None:
        return why_unavailable() or None

    def home(self, workdir: str) -> str:
        return SANDBOX_HOME

    def run(self, argv: list[str], workdir: str, *, limits: Limits, env: dict[str, str]) -> Result:
        return run(argv, workdir, limits=limits, env=env)

    def kill_all(self) -> None:
        process.kill_all()


BUBBLEWRAP = Bubblewrap()
