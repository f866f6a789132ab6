"""Per-sandbox cgroups: a total memory limit and a process limit for everything one sandbox
runs, where the host lets this process create cgroup v1 children (root on most Linux hosts).

rlimits bound each process on its own; a cgroup bounds their sum, so a submission that forks
many memory hogs is stopped as a whole, and after the run every process left in the cgroup is
killed. Where no cgroup can be made, `create` returns None and the rlimits alone apply.
"""
from __future__ import annotations

import os
import shlex
import signal
import time
import uuid

ROOT = "/sys/fs/cgroup"


def _own_path(controller: str) -> str | None:
    """This process's cgroup v1 path for `controller` (e.g. '/' or '/a/b'), or None."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if controller in controllers.split(","):
                    return path
    except (OSError, ValueError):
        return None
    return None


class Cgroup:
    """One memory cgroup and one pids cgroup, nested under this process's own."""

    def __init__(self, dirs: dict[str, str]):
        self.dirs = dirs  # controller -> cgroup directory

    @classmethod
    def create(cls, memory_bytes: int, pids: int) -> Cgroup | None:
        name = f"convlab-sandbox-{uuid.uuid4().hex[:12]}"
        dirs: dict[str, str] = {}
        settings = {"memory": {"memory.limit_in_bytes": memory_bytes}, "pids": {"pids.max": pids}}
        try:
            for controller, values in settings.items():
                own = _own_path(controller)
                base = os.path.join(ROOT, controller) + (own if own and own != "/" else "")
                if own is None or not os.path.isdir(base):
                    raise OSError(f"no cgroup v1 {controller} hierarchy")
                path = os.path.join(base, name)
                os.mkdir(path)
                dirs[controller] = path
                for key, value in values.items():
                    with open(os.path.join(path, key), "w") as f:
                        f.write(str(value))
            # Without swap accounting this file is absent; with it, swap must not dodge the limit.
            memsw = os.path.join(dirs["memory"], "memory.memsw.limit_in_bytes")
            if os.path.exists(memsw):
                try:
                    with open(memsw, "w") as f:
                        f.write(str(memory_bytes))
                except OSError:
                    pass
        except OSError:
            Cgroup(dirs).remove()
            return None
        return cls(dirs)

    def wrap(self, cmd: list[str]) -> list[str]:
        """`cmd` started from a shell that first moves itself into the cgroups (no race)."""
        joins = "; ".join(f"echo $$ > {shlex.quote(os.path.join(d, 'cgroup.procs'))}"
                          for d in self.dirs.values())
        return ["/bin/sh", "-c", f'{joins}; exec "$@"', "sh", *cmd]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process here for exceeding the memory limit."""
        try:
            with open(os.path.join(self.dirs["memory"], "memory.oom_control")) as f:
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


def remove_stale() -> int:
    """Delete empty sandbox cgroups left by killed grading runs; returns how many."""
    removed = 0
    for controller in ("memory", "pids"):
        own = _own_path(controller)
        base = os.path.join(ROOT, controller) + (own if own and own != "/" else "")
        try:
            names = [n for n in os.listdir(base) if n.startswith("convlab-sandbox-")]
        except OSError:
            continue
        for name in names:
            try:
                os.rmdir(os.path.join(base, name))  # fails while processes are inside
                removed += 1
            except OSError:
                pass
    return removed
