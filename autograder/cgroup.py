"""Per-sandbox cgroups: a total memory limit and a process limit for everything one sandbox runs.

rlimits bound each process on its own; a cgroup bounds their sum, so a submission that forks
many memory hogs is stopped as a whole, and after the run every process left in the cgroup is
killed. Three ways to get one, tried in order by `create`:

- **cgroup v1**: a child of this process's own memory and pids cgroups (root on most hosts);
- **cgroup v2, delegated**: a child of this process's own cgroup, where this process may write
  there and the memory and pids controllers are (or can be) enabled for its children: the root
  of a container's cgroup namespace, or a systemd unit with ``Delegate=yes`` in which the grader
  first moves itself into a leaf of its own (``convlab-grader-<pid>``);
- **a systemd scope**: ``systemd-run --scope -p MemoryMax= -p TasksMax=`` (``--user`` when not
  root) where systemd runs, e.g. a normal user on a desktop.

Each cgroup's name carries the grading process's pid (``convlab-sandbox-<pid>-<hex>``), so a run
cleans up only what dead runs left, and a test checks only its own. Where none can be made,
`create` returns None and only the rlimits apply (`mode()` says which; `convlab doctor` shows it).
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid

ROOT = "/sys/fs/cgroup"
PREFIX = "convlab-sandbox-"


def _own_lines() -> list[tuple[str, str]]:
    """(controllers, path) of each line of /proc/self/cgroup."""
    try:
        with open("/proc/self/cgroup") as f:
            return [tuple(line.rstrip("\n").split(":", 2)[1:]) for line in f if line.count(":") >= 2]
    except OSError:
        return []


def _v1_base(controller: str) -> str | None:
    for controllers, path in _own_lines():
        if controller in controllers.split(","):
            base = os.path.join(ROOT, controller) + (path if path != "/" else "")
            return base if os.path.isdir(base) else None
    return None


def _v2_base() -> str | None:
    """This process's cgroup v2 directory, where the unified hierarchy is mounted at ROOT."""
    if not os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
        return None
    for controllers, path in _own_lines():
        if controllers == "":
            return ROOT + (path if path != "/" else "")
    return None


def _write(path: str, value) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def _name() -> str:
    return f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"


class Cgroup:
    """Cgroup directories (one per controller on v1, one on v2) that hold one sandbox."""

    def __init__(self, dirs: dict[str, str], version: int):
        self.dirs = dirs  # controller ("memory", "pids", or "unified") -> cgroup directory
        self.version = version

    def wrap(self, cmd: list[str]) -> list[str]:
        """`cmd` started from a shell that first moves itself into the cgroups (no race)."""
        joins = "; ".join(f"echo $$ > {shlex.quote(os.path.join(d, 'cgroup.procs'))}"
                          for d in self.dirs.values())
        return ["/bin/sh", "-c", f'{joins}; exec "$@"', "sh", *cmd]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process here for exceeding the memory limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            with open(os.path.join(self.dirs.get("memory") or self.dirs["unified"], name)) as f:
                for line in f:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1]) > 0
        except (OSError, KeyError, ValueError):
            pass
        return False

    def kill(self) -> None:
        for path in self.dirs.values():
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self, wait: float = 5.0) -> None:
        """Kill what is left inside, then delete the cgroups."""
        deadline = time.monotonic() + wait
        for path in list(self.dirs.values()):
            while True:
                self.kill()
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


def _create_v1(memory_bytes: int, pids: int) -> Cgroup | None:
    name, dirs = _name(), {}
    settings = {"memory": {"memory.limit_in_bytes": memory_bytes}, "pids": {"pids.max": pids}}
    try:
        for controller, values in settings.items():
            base = _v1_base(controller)
            if base is None:
                raise OSError(f"no cgroup v1 {controller} hierarchy")
            dirs[controller] = os.path.join(base, name)
            os.mkdir(dirs[controller])
            for key, value in values.items():
                _write(os.path.join(dirs[controller], key), value)
        # Without swap accounting this file is absent; with it, swap must not dodge the limit.
        memsw = os.path.join(dirs["memory"], "memory.memsw.limit_in_bytes")
        if os.path.exists(memsw):
            try:
                _write(memsw, memory_bytes)
            except OSError:
                pass
    except OSError:
        Cgroup(dirs, 1).remove()
        return None
    return Cgroup(dirs, 1)


def _delegated_v2() -> str | None:
    """The cgroup v2 directory under which sandboxes' cgroups go, with memory and pids enabled
    for its children; moves this process into a leaf of its own first where that is needed."""
    base = _v2_base()
    if base is None or not os.access(base, os.W_OK):
        return None
    control = os.path.join(base, "cgroup.subtree_control")
    try:
        with open(control) as f:
            enabled = set(f.read().split())
        if not {"memory", "pids"} <= enabled:
            if base != ROOT:  # a non-root cgroup with processes cannot enable controllers for children
                leaf = os.path.join(base, f"convlab-grader-{os.getpid()}")
                os.makedirs(leaf, exist_ok=True)
                _write(os.path.join(leaf, "cgroup.procs"), os.getpid())
            _write(control, "+memory +pids")
    except OSError:
        return None
    return base


def _create_v2(memory_bytes: int, pids: int) -> Cgroup | None:
    base = _delegated_v2()
    if base is None:
        return None
    path = os.path.join(base, _name())
    try:
        os.mkdir(path)
        _write(os.path.join(path, "memory.max"), memory_bytes)
        _write(os.path.join(path, "pids.max"), pids)
        if os.path.exists(os.path.join(path, "memory.swap.max")):
            _write(os.path.join(path, "memory.swap.max"), 0)
    except OSError:
        Cgroup({"unified": path}, 2).remove()
        return None
    return Cgroup({"unified": path}, 2)


class Scope:
    """A transient systemd scope holding one sandbox: systemd owns the cgroup and removes it."""

    version = "systemd"

    def __init__(self, memory_bytes: int, pids: int):
        self.unit = f"{_name()}.scope"
        self.user = os.geteuid() != 0
        self.memory_bytes, self.pids = memory_bytes, pids

    def wrap(self, cmd: list[str]) -> list[str]:
        return ["systemd-run", *(["--user"] if self.user else []), "--scope", "--quiet", "--collect",
                f"--unit={self.unit}", f"-pMemoryMax={self.memory_bytes}", "-pMemorySwapMax=0",
                f"-pTasksMax={self.pids}", "--", *cmd]

    def _systemctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["systemctl", *(["--user"] if self.user else []), *args, self.unit],
                              capture_output=True, text=True, timeout=30)

    def oom_killed(self) -> bool:
        try:
            return self._systemctl("show", "-pResult", "--value").stdout.strip() == "oom-kill"
        except (OSError, subprocess.SubprocessError):
            return False

    def kill(self) -> None:
        try:
            self._systemctl("kill", "--signal=SIGKILL")
        except (OSError, subprocess.SubprocessError):
            pass

    def remove(self) -> None:
        self.kill()


def _systemd_scope_works() -> bool:
    if shutil.which("systemd-run") is None or shutil.which("systemctl") is None:
        return False
    user = ["--user"] if os.geteuid() != 0 else []
    try:
        state = subprocess.run(["systemctl", *user, "is-system-running"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return state in ("running", "degraded")


_mode: dict[str, str] = {}


def create(memory_bytes: int, pids: int):
    """A Cgroup or Scope bounding one sandbox's memory and processes, or None (rlimits only)."""
    if _mode.get("mode") in (None, "v1"):
        group = _create_v1(memory_bytes, pids) if _v1_base("memory") else None
        if group is not None:
            _mode["mode"] = "v1"
            return group
    if _mode.get("mode") in (None, "v2"):
        group = _create_v2(memory_bytes, pids)
        if group is not None:
            _mode["mode"] = "v2"
            return group
    if _mode.get("mode") in (None, "systemd") and _systemd_scope_works():
        _mode["mode"] = "systemd"
        return Scope(memory_bytes, pids)
    _mode.setdefault("mode", "none")
    return None


def mode() -> str:
    """How sandboxes are bounded as a whole here: 'v1', 'v2', 'systemd' or 'none' (rlimits only)."""
    if "mode" not in _mode:
        group = create(2**30, 64)
        if group is not None:
            group.remove()
    return _mode["mode"]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def bases() -> list[str]:
    """The directories in which this process's sandbox cgroups are made."""
    found = [b for b in (_v1_base("memory"), _v1_base("pids"), _v2_base()) if b]
    return found


def remove_stale() -> int:
    """Delete the sandbox cgroups that grading runs no longer running left behind; returns how many."""
    removed = 0
    for base in bases():
        try:
            names = [n for n in os.listdir(base) if n.startswith(PREFIX)]
        except OSError:
            continue
        for name in names:
            try:
                owner = int(name[len(PREFIX):].split("-", 1)[0])
            except ValueError:
                continue
            if _pid_alive(owner):
                continue
            group = Cgroup({"stale": os.path.join(base, name)}, 0)
            group.remove(wait=1.0)
            removed += not os.path.exists(os.path.join(base, name))
    return removed


def of_run(pid: int) -> list[str]:
    """The sandbox cgroups a grading process `pid` made that still exist."""
    found = []
    for base in bases():
        try:
            found += [os.path.join(base, n) for n in os.listdir(base) if n.startswith(f"{PREFIX}{pid}-")]
        except OSError:
            continue
    return found
