"""What every sandbox backend takes and gives: the `Limits` of one run (their defaults are
`autograder.defaults`), the `Result` it returns, and the error a backend that cannot run raises."""
from __future__ import annotations

from dataclasses import dataclass

from autograder import defaults


class SandboxUnavailable(RuntimeError):
    """The chosen sandbox cannot run here; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run; every process inside inherits them."""

    timeout: float = defaults.TIMEOUT_SECONDS  # wall seconds for the whole run; the process group is killed after
    memory_mb: int = defaults.MEMORY_MB  # RLIMIT_DATA per process (RLIMIT_AS would break CUDA's address space)
    cpu_seconds: int | None = None  # RLIMIT_CPU per process; default: timeout + CPU_GRACE_SECONDS
    nproc: int = defaults.NPROC  # RLIMIT_NPROC: processes and threads of the sandbox's uid
    nofile: int = defaults.NOFILE  # RLIMIT_NOFILE
    fsize_mb: int = defaults.FSIZE_MB  # RLIMIT_FSIZE: largest file a process may write
    disk_mb: int = defaults.DISK_MB  # the work dir in all (files and their count); the run is stopped past it
    tmp_mb: int = defaults.TMP_MB  # each of /tmp and /dev/shm (memory-backed)
    output_bytes: int = defaults.OUTPUT_BYTES  # of stdout and of stderr kept (the tail); the rest is read and dropped

    def __post_init__(self):
        for name in ("timeout", "memory_mb", "disk_mb", "tmp_mb", "output_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {name}={getattr(self, name)!r}")

    @property
    def cpu(self) -> int:
        """RLIMIT_CPU of each process."""
        return self.cpu_seconds if self.cpu_seconds is not None else int(self.timeout) + defaults.CPU_GRACE_SECONDS

    @property
    def cgroup_memory_bytes(self) -> int:
        """What a run's processes may use together, where a memory cgroup bounds them."""
        return (self.memory_mb + self.tmp_mb * 2 + defaults.CGROUP_HEADROOM_MB) * 2**20


@dataclass
class Result:
    """How one run ended, as the backend (not the process) saw it, and the tails of its output."""

    returncode: int | None
    timed_out: bool
    wall: float
    stdout: str
    stderr: str
    backend: str  # the name of the backend that ran it
    isolated: bool  # whether the command was kept from the host (False: run as plain nbgrader would)
    oom_killed: bool = False  # the run's memory cgroup killed a process
    disk_exceeded: bool = False  # the work dir grew past `Limits.disk_mb`: the run was stopped
