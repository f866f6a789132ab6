"""`convlab doctor`: what `convlab grade` gets on this host, probed for real.

Each row comes from doing the thing: a probe runs inside the same sandbox a submission gets and
reports its uid, network, user namespaces, /tmp and GPU; cgroups are made and removed; a container
engine runs a container of the grader image (`--sandbox podman`), and where convlab itself runs in
a container that keeps bubblewrap out, a row says which of its options would let it in. The exit
status is 1 where `convlab grade` would refuse (no sandbox), else 0. Given a course directory,
`convlab doctor DIR` also warns where others can reach the course (`course_rows`), leaving the exit
status as it was: the course still grades, it is only less private than `convlab new-course` made it.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from autograder import defaults, sandbox
from autograder.sandbox import bubblewrap, cgroup, container, gpus, host

# Run inside the sandbox; prints one JSON object.
PROBE = r"""
import json, os, socket, subprocess
found = {"uid": os.getuid(), "interfaces": [name for _, name in socket.if_nameindex()]}
s = socket.socket(); s.settimeout(2)
try:
    s.connect(("1.1.1.1", 53)); found["internet"] = True
except OSError:
    found["internet"] = False
try:
    found["userns"] = subprocess.run(["unshare", "--user", "true"], capture_output=True).returncode == 0
except OSError:
    found["userns"] = None
tmp = os.statvfs("/tmp"); found["tmp_mb"] = tmp.f_blocks * tmp.f_frsize // 2**20
found["etc"] = len(os.listdir("/etc"))
try:
    import torch
    found["cuda"] = torch.cuda.is_available()
    if found["cuda"]:
        found["gpu"] = torch.cuda.get_device_name(0)
        found["tf32"] = {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32}
except Exception as exc:
    found["cuda"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(found))
"""


def _inside(backend: sandbox.Backend) -> dict:
    with tempfile.TemporaryDirectory(prefix="convlab-doctor-") as work:
        result = backend.run([os.path.abspath(sys.executable), "-c", PROBE], work,
                             limits=sandbox.Limits(timeout=120), env={})
    lines = result.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1][:200]}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _bwrap_version() -> str:
    try:
        return subprocess.run([bubblewrap.bwrap(), "--version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, TypeError, subprocess.SubprocessError):
        return "not installed"


def nesting_rows() -> list[tuple[str, str, bool]]:
    """(what, found, fine) where bubblewrap cannot run because convlab runs in a container: what
    that container would need."""
    hint = container.nesting_hint() if bubblewrap.why_unavailable() else ""
    return [("bubblewrap in a container", hint, False)] if hint else []


LIMITS = {"v1": "cgroup v1 memory+pids per sandbox", "v2": "cgroup v2 (delegated) memory+pids per sandbox",
          "systemd": "systemd scope per sandbox (MemoryMax, TasksMax)",
          "none": "rlimits only: per process, not the sum over a sandbox's processes"}
_CORES = f"at most {cgroup.CPUS:g} core{'' if cgroup.CPUS == 1 else 's'} per sandbox"
CPU_SHARE = {"v1": f"cgroup v1 cpu: equal shares, {_CORES}", "v2": f"cgroup v2 cpu: equal weight, {_CORES}",
             "systemd": f"systemd scope: equal CPUWeight, {_CORES} (CPUQuota)",
             "none": "none: CPU time per process only (RLIMIT_CPU)"}


def rows() -> tuple[list[tuple[str, str, bool]], bool]:
    """(what, found, fine) per probe, and whether `convlab grade` would run."""
    table: list[tuple[str, str, bool]] = []
    table.append(("bubblewrap", _bwrap_version(), bubblewrap.bwrap() is not None))
    try:
        chosen, ok = sandbox.choose(), True
        said = f"{chosen.name} (the default: the safest that runs here)"
    except sandbox.SandboxUnavailable as error:  # its message carries the nesting hint, where there is one
        chosen, ok, said = sandbox.safest_or_none(), False, str(error)
    # An engine that cannot run is a warning only where no other sandbox runs.
    table += (nesting_rows() if ok else []) + [(what, found, fine or ok) for what, found, fine in container.doctor_rows()]
    table.append(("sandbox", said, ok))
    inside = _inside(chosen)
    if "error" in inside:
        table.append(("probe inside the sandbox", inside["error"], False))
        return table, False
    table.append(("uid inside", f"{inside['uid']} (grader: {os.geteuid()})", inside["uid"] != 0))
    isolated = inside["interfaces"] in ([], ["lo"]) and not inside["internet"]
    table.append(("network", "none (loopback only)" if isolated else f"reachable: {inside['interfaces']}",
                  isolated))
    table.append(("new user namespaces", "blocked" if inside["userns"] is False else "allowed",
                  inside["userns"] is False))
    table.append(("/etc entries visible", str(inside["etc"]), True))
    mode = cgroup.mode() if ok else "none"
    table.append(("memory/pids limits", LIMITS[mode], mode != "none"))
    cpu = cgroup.cpu_mode() if ok else "none"
    table.append(("CPU share", CPU_SHARE[cpu], cpu != "none"))
    table += host.rows(mode, inside["uid"])
    limits = sandbox.Limits()
    table.append(("disk", f"work dir {limits.disk_mb} MB (watchdog), files {limits.fsize_mb} MB, "
                          f"/tmp {inside['tmp_mb']} MB", True))
    table.append(("output kept", f"last {limits.output_bytes // 1024} KiB of stdout and of stderr", True))
    if inside.get("cuda") is True:
        table.append(("GPU inside", f"{inside['gpu']}; TF32 matmul={inside['tf32']['matmul']}, "
                                    f"cudnn={inside['tf32']['cudnn']}", True))
    else:
        table.append(("GPU inside", "none" if inside.get("cuda") is False else str(inside.get("cuda")), True))
    table.append(("GPUs for grading", gpus.plan((), defaults.workers()), True))
    for package in ("torch", "nbgrader", "nbclient", "jupyterlab", "dask", "distributed"):
        table.append((package, _version(package), True))
    return table, ok


# What of a course only its owner (and the group given to `new-course --group`) may reach.
COURSE_PARTS = ("", "source", "gradebook.db", "nbgrader_config.py")


def _others_may(mode: int) -> str:
    """What the 'other' bits of `mode` allow, in words."""
    may = [word for bit, word in ((stat.S_IROTH, "read"), (stat.S_IWOTH, "write"), (stat.S_IXOTH, "enter"))
           if mode & bit]
    return "/".join(may)


def course_rows(course: Path) -> list[tuple[str, str, bool]]:
    """(what, found, fine) for the privacy of the course at `course`: a row per part of COURSE_PARTS that
    users other than the owner and the course's group can read, write or enter, else one row saying it
    is private."""
    course = Path(course)
    table: list[tuple[str, str, bool]] = []
    if not (course / "nbgrader_config.py").is_file():
        table.append(("course", f"{course}: no nbgrader_config.py, not a course made by convlab new-course", False))
    for part in COURSE_PARTS:
        path = course / part if part else course
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o007:
            table.append(("course privacy", f"{path}: others may {_others_may(mode)} it (mode {mode:04o}); "
                                            f"chmod -R o-rwx {course}", False))
    if not any(what == "course privacy" for what, _, _ in table):
        table.append(("course privacy", f"{course}: no access for others", True))
    return table


def doctor(console=None, course: Path | None = None) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    found, ok = rows()
    if course is not None:
        found += course_rows(course)
    table = Table(title="convlab doctor")
    for column in ("", "what", "found"):
        table.add_column(column)
    for what, value, fine in found:
        table.add_row(Text("ok" if fine else "!!", style="green" if fine else "bold red"), what, Text(value))
    console = console or Console()
    console.print(table)
    if host.apparmor_restricts():
        console.print(Text("/etc/apparmor.d/bwrap, to let Bubblewrap make user namespaces:\n" + host.BWRAP_PROFILE))
    console.print(Text("convlab grade will run here." if ok else
                       "convlab grade refuses here without --no-sandbox.", style="green" if ok else "bold red"))
    return 0 if ok else 1
