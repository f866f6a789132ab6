"""The wall, host side: one interface for every way of running a learner's command, and its
backends. A backend says whether it can run here (`probe`: None, or why not), runs a command with
`Limits`, one writable work dir and an environment (`run` → `Result`), and kills what it has
running (`kill_all`). Grading chooses one backend, once, by name (`choose`), and hands its name
to every job; nothing else decides how a command is run.

Backends, safest first: `bubblewrap` (namespaces, a read-only system, no network, cgroups where
the host has them), `podman` and `docker` (one container per run of a grader image: no network, a
read-only root, cgroup limits; `container`) and `none` (plain nbgrader's way, with this user's
rights: chosen only by name). A cluster's pods would be one more module with the same four members
and a line in `BACKENDS`. Also here: the cgroups runs are bounded by (`cgroup`), the process machinery
every backend shares (`process`) and what a host gives (`doctor`, `host`).

May import: the standard library and the shared modules of `autograder`. Never `inside`,
`grading` or `authoring`: the wall knows nothing of what runs behind it.
"""
from __future__ import annotations

from typing import Protocol

from autograder.sandbox.bubblewrap import BUBBLEWRAP
from autograder.sandbox.container import DOCKER, PODMAN, nesting_hint
from autograder.sandbox.limits import Limits, Result, SandboxUnavailable
from autograder.sandbox.unsandboxed import UNSANDBOXED

__all__ = ["BACKENDS", "Backend", "Limits", "Result", "SandboxUnavailable", "by_name", "choose", "kill_all",
           "names", "safest", "safest_or_none", "why_none"]


class Backend(Protocol):
    name: str
    isolates: bool  # whether the command is kept from the host's files, network and processes

    def probe(self) -> str | None:
        """None where this backend runs here; else why not, and what to do."""

    def home(self, workdir: str) -> str:
        """Where the command finds `workdir`."""

    def run(self, argv: list[str], workdir: str, *, limits: Limits, env: dict[str, str]) -> Result:
        """Run `argv` with `workdir` as its home under `limits`; raise SandboxUnavailable where it cannot."""

    def kill_all(self) -> None:
        """Kill every command this backend has running for this process."""


#: Every backend, safest first.
BACKENDS: dict[str, Backend] = {backend.name: backend for backend in (BUBBLEWRAP, PODMAN, DOCKER, UNSANDBOXED)}


def names() -> list[str]:
    return list(BACKENDS)


def by_name(name: str) -> Backend:
    """The backend called `name`; ValueError naming the argument where there is none."""
    if name not in BACKENDS:
        raise ValueError(f"sandbox must be one of {', '.join(BACKENDS)}, got sandbox={name!r}")
    return BACKENDS[name]


def choose(name: str | None = None) -> Backend:
    """The backend `name`, or by default the safest one that isolates and runs here (never `none`).
    Raises SandboxUnavailable, saying why, where the backend asked for cannot run (and, where
    bubblewrap cannot because convlab itself runs in a container, what that container would need)."""
    candidates = [by_name(name)] if name is not None else [b for b in BACKENDS.values() if b.isolates]
    reasons = []
    for backend in candidates:
        why = backend.probe()
        if why is None:
            return backend
        reasons.append(f"{backend.name}: {why}")
    hint = nesting_hint() if BUBBLEWRAP in candidates else ""
    raise SandboxUnavailable("; ".join(reasons) + (f". {hint}" if hint else ""))


def safest() -> Backend:
    """The safest backend, unprobed: what a cluster's workers are asked for (each probes its own host)."""
    return next(iter(BACKENDS.values()))


def safest_or_none() -> Backend:
    """The safest backend that runs here, else `none`: for a learner checking their own notebook."""
    return next(b for b in BACKENDS.values() if b.probe() is None)


def why_none() -> str:
    """Why no backend that isolates runs here ("" where one does: the later ones are then not probed)."""
    reasons = []
    for backend in (b for b in BACKENDS.values() if b.isolates):
        why = backend.probe()
        if why is None:
            return ""
        reasons.append(f"{backend.name}: {why}")
    return "; ".join(reasons)


def kill_all() -> None:
    """Kill every command any backend has running for this process."""
    for backend in BACKENDS.values():
        backend.kill_all()


