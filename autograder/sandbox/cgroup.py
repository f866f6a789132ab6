"""Per-sandbox cgroups: a total memory limit, a process limit and a CPU share for everything one
sandbox runs.

rlimits bound each process on its own; a cgroup bounds their sum, so a submission that forks
many memory hogs is stopped as a whole, and after the run every process left in the cgroup is
killed. The CPU controller gives every sandbox the same weight and at most `CPUS` cores, however
many processes it runs: a submission that forks spinning children slows only itself, not the
classmates graded beside it. Three ways to get one, tried in order by `create`:

- **cgroup v1**: a child of this process's own memory and pids cgroups (root on most hosts), and
  of its cpu cgroup where that hierarchy is mounted;
- **cgroup v2, delegated**: a child of this process's own cgroup, where this process may write
  there and the memory and pids controllers (and cpu, where it can be) are enabled for its
  children: the root of a container's cgroup namespace, or a systemd unit with ``Delegate=yes``
  in which the grader first moves itself into a leaf of its own (``convlab-grader-<pid>``);
- **a systemd scope**: ``systemd-run --scope -p MemoryMax= -p TasksMax= -p CPUQuota=`` (``--user``
  when not root) where systemd runs, e.g. a normal user on a desktop.

Each cgroup's name carries the grading process's pid (``convlab-sandbox-<pid>-<hex>``), so a run
cleans up only what dead runs left, and a test checks only its own. Where none can be made,
`create` returns None and only the rlimits apply (`mode()` says which; `convlab doctor` shows it).
A cgroup without the CPU controller still bounds memory and processes; CPU is then bounded only
per process, by RLIMIT_CPU (`cpu_mode()` says which).
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid

from autograder import defaults

ROOT = "/sys/fs/cgroup"
PREFIX = "convlab-sandbox-"
LEAF = "convlab-grader-"  # on cgroup v2, the leaf a grader moves itself into
#: Cores one sandbox may use at most: a sandbox is one notebook, and one core is its fair share.
CPUS = defaults.CPU_CORES
CPU_PERIOD_US = 100_000  # the kernel's default CFS period
CPU_WEIGHT = 100  # cgroup v2 and systemd: the default weight, the same for every sandbox
CPU_SHARES = 1024  # cgroup v1: the default shares, the same for every sandbox


def _own_lines(pid: int | str = "self") -> list[tuple[str, str]]:
    """(controllers, path) of each line of /proc/<pid>/cgroup."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            return [tuple(line.rstrip("\n").split(":", 2)[1:]) for line in f if line.count(":") >= 2]
    except OSError:
        return []


def _v1_base(controller: str, pid: int | str = "self") -> str | None:
    """The cgroup v1 directory of process `pid` in `controller`'s hierarchy."""
    for controllers, path in _own_lines(pid):
        if controller in controllers.split(","):
            # "cpu" is often a link to a hierarchy mounted as "cpu,cpuacct"; try both names.
            for mount in dict.fromkeys((controller, controllers)):
                base = os.path.join(ROOT, mount) + (path if path != "/" else "")
                if os.path.isdir(base):
                    return base
            return None
    return None


def _v2_base(pid: int | str = "self") -> str | None:
    """The cgroup v2 directory of process `pid`, where the unified hierarchy is mounted at ROOT."""
    if not os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
        return None
    for controllers, path in _own_lines(pid):
        if controllers == "":
            return ROOT + (path if path != "/" else "")
    return None


def _v2_parent() -> str | None:
    """Where sandboxes' cgroups go on cgroup v2: this process's cgroup, or its parent once a
    grader (this one or the one that started it) has moved into a leaf of its own."""
    base = _v2_base()
    if base is not None and os.path.basename(base).startswith(LEAF):
        return os.path.dirname(base)
    return base


def _write(path: str, value) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def _quota_us(cpus: float) -> int:
    """CFS quota per period that lets a cgroup run `cpus` cores at most."""
    return max(1000, round(cpus * CPU_PERIOD_US))


def _name() -> str:
    return f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"


class Cgroup:
    """Cgroup directories (one per controller on v1, one on v2) that hold one sandbox."""

    def __init__(self, dirs: dict[str, str], version: int, cpu: bool = False):
        self.dirs = dirs  # controller ("memory", "pids", "cpu", or "unified") -> cgroup directory
        self.version = version
        self.cpu = cpu  # whether it bounds the CPU share too

    def caps_cpu(self) -> bool:
        return self.cpu

    def wrap(self, cmd: list[str]) -> list[str]:
        """`cmd` started from a shell that first moves itself into the cgroups (no race)."""
        joins = "; ".join(f"echo $$ > {shlex.quote(os.path.join(d, 'cgroup.procs'))}"
                          for d in self.dirs.values())
        return ["/bin/sh", "-c", f'{joins}; exec "$@"', "sh", *cmd]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process here for exceeding the memory limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        folder = self.dirs.get("memory") or self.dirs.get("unified")
        return folder is not None and oom_kills(os.path.join(folder, name)) > 0

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


def _v1_cpu(name: str, cpus: float) -> str | None:
    """A cgroup `name` in this process's cpu hierarchy with the default shares and a cap of
    `cpus` cores, or None where there is none (memory and pids are bounded all the same)."""
    base = _v1_base("cpu")
    if base is None:
        return None
    path = os.path.join(base, name)
    try:
        os.mkdir(path)
        _write(os.path.join(path, "cpu.shares"), CPU_SHARES)
        _write(os.path.join(path, "cpu.cfs_period_us"), CPU_PERIOD_US)
    except OSError:
        Cgroup({"cpu": path}, 1).remove()
        return None
    try:
        _write(os.path.join(path, "cpu.cfs_quota_us"), _quota_us(cpus))
    except OSError:
        pass  # v1 refuses a child more than an ancestor's quota: that smaller cap then holds
    return path


def _create_v1(memory_bytes: int, pids: int, cpus: float) -> Cgroup | None:
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
    cpu = _v1_cpu(name, cpus)
    if cpu is not None:
        dirs["cpu"] = cpu
    return Cgroup(dirs, 1, cpu=cpu is not None)


def _enable_v2(base: str, controllers: list[str]) -> bool:
    """Enable `controllers` for the children of `base`, all or none (the kernel applies one write
    as a whole); moves this process into a leaf of its own first where that is needed."""
    control = os.path.join(base, "cgroup.subtree_control")
    try:
        if set(controllers) <= set(_read(control).split()):
            return True
        if not set(controllers) <= set(_read(os.path.join(base, "cgroup.controllers")).split()):
            return False
        # A non-root cgroup with processes cannot enable controllers for children: leave it.
        if base != ROOT and _v2_base() == base:
            leaf = os.path.join(base, f"{LEAF}{os.getpid()}")
            os.makedirs(leaf, exist_ok=True)
            _write(os.path.join(leaf, "cgroup.procs"), os.getpid())
        _write(control, " ".join(f"+{c}" for c in controllers))
    except OSError:
        return False
    return True


def _delegated_v2() -> tuple[str, bool] | None:
    """The cgroup v2 directory under which sandboxes' cgroups go, with memory and pids enabled
    for its children, and whether cpu is too (separately: without it memory and pids still hold)."""
    base = _v2_parent()
    if base is None or not os.access(base, os.W_OK) or not _enable_v2(base, ["memory", "pids"]):
        return None
    return base, _enable_v2(base, ["cpu"])


def _v2_cpu(path: str, cpus: float) -> bool:
    """Give the cgroup at `path` the default weight and a cap of `cpus` cores."""
    try:
        _write(os.path.join(path, "cpu.weight"), CPU_WEIGHT)
        _write(os.path.join(path, "cpu.max"), f"{_quota_us(cpus)} {CPU_PERIOD_US}")
    except OSError:
        return False
    return True


def _create_v2(memory_bytes: int, pids: int, cpus: float) -> Cgroup | None:
    delegated = _delegated_v2()
    if delegated is None:
        return None
    base, cpu = delegated
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
    return Cgroup({"unified": path}, 2, cpu=cpu and _v2_cpu(path, cpus))


class Scope:
    """A transient systemd scope holding one sandbox: systemd owns the cgroup and removes it."""

    version = "systemd"

    def __init__(self, memory_bytes: int, pids: int, cpus: float):
        self.unit = f"{_name()}.scope"
        self.user = os.geteuid() != 0
        self.memory_bytes, self.pids, self.cpus = memory_bytes, pids, cpus

    def wrap(self, cmd: list[str]) -> list[str]:
        return ["systemd-run", *(["--user"] if self.user else []), "--scope", "--quiet", "--collect",
                f"--unit={self.unit}", f"-pMemoryMax={self.memory_bytes}", "-pMemorySwapMax=0",
                f"-pTasksMax={self.pids}", f"-pCPUWeight={CPU_WEIGHT}",
                f"-pCPUQuota={_quota_us(self.cpus) * 100 // CPU_PERIOD_US}%", "--", *cmd]

    def caps_cpu(self) -> bool:
        """Whether systemd gives this scope a CPU cap (a user's systemd may have no cpu controller
        delegated): a process is started in it and its cgroup's quota read."""
        proc = subprocess.Popen(self.wrap(["sleep", "30"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while proc.poll() is None and time.monotonic() < deadline:
                if any(path.endswith(self.unit) for _, path in _own_lines(proc.pid)):
                    return cpu_capped(proc.pid)
                time.sleep(0.05)
            return False
        finally:
            self.kill()
            proc.kill()
            proc.wait()

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


def cpu_capped(pid: int | str = "self") -> bool:
    """Whether the cgroup of process `pid` has a CPU quota of its own (v2 cpu.max, v1
    cpu.cfs_quota_us)."""
    v2 = _v2_base(pid)
    try:
        if v2 is not None:
            return _read(os.path.join(v2, "cpu.max")).split()[0] != "max"
        v1 = _v1_base("cpu", pid)
        return v1 is not None and int(_read(os.path.join(v1, "cpu.cfs_quota_us"))) > 0
    except (OSError, ValueError, IndexError):
        return False


_mode: dict[str, str] = {}


def create(memory_bytes: int, pids: int, cpus: float = CPUS):
    """A Cgroup or Scope bounding one sandbox's memory, processes and (where the controller is
    there) CPU share to at most `cpus` cores, or None (rlimits only)."""
    if _mode.get("mode") in (None, "v1"):
        group = _create_v1(memory_bytes, pids, cpus) if _v1_base("memory") else None
        if group is not None:
            _mode["mode"] = "v1"
            return group
    if _mode.get("mode") in (None, "v2"):
        group = _create_v2(memory_bytes, pids, cpus)
        if group is not None:
            _mode["mode"] = "v2"
            return group
    if _mode.get("mode") in (None, "systemd") and _systemd_scope_works():
        _mode["mode"] = "systemd"
        return Scope(memory_bytes, pids, cpus)
    _mode.setdefault("mode", "none")
    return None


def mode() -> str:
    """How sandboxes are bounded as a whole here: 'v1', 'v2', 'systemd' or 'none' (rlimits only)."""
    if "mode" not in _mode:
        group = create(2**30, 64)
        if group is not None:
            group.remove()
    return _mode["mode"]


def cpu_mode() -> str:
    """How each sandbox's CPU share is bounded here: 'v1', 'v2', 'systemd', or 'none' (only
    RLIMIT_CPU, per process); probed by making a cgroup and removing it."""
    if "cpu" not in _mode:
        group = create(2**30, 64)
        _mode["cpu"] = _mode["mode"] if group is not None and group.caps_cpu() else "none"
        if group is not None:
            group.remove()
    return _mode["cpu"]


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
    found = (_v1_base("memory"), _v1_base("pids"), _v1_base("cpu"), _v2_parent())
    return list(dict.fromkeys(b for b in found if b))


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


def oom_kills(path: str) -> int:
    """The `oom_kill` count of a memory cgroup's `memory.oom_control` (v1) or `memory.events` (v2) file; 0
    where it cannot be read."""
    try:
        with open(path) as f:
            return next((int(line.split()[1]) for line in f if line.startswith("oom_kill ")), 0)
    except (OSError, ValueError, IndexError):
        return 0
