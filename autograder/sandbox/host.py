"""What a shared host (a JupyterHub server) must allow for an instructor to grade without root.

Bubblewrap run by an ordinary user needs unprivileged user namespaces, which distributions switch
off in three ways: Debian's `kernel.unprivileged_userns_clone`, the generic
`user.max_user_namespaces`, and Ubuntu 24.04's AppArmor restriction
(`kernel.apparmor_restrict_unprivileged_userns`), which refuses them to every program without a
profile that allows `userns`. Bounding a sandbox's processes as a whole needs a cgroup the user may
write: a systemd user manager given the controllers (`Delegate=`). Each check says what it found
and the exact setting that fixes it.
"""
from __future__ import annotations

import os
from pathlib import Path

PROC_SYS = Path("/proc/sys")
#: An AppArmor profile that lets Bubblewrap make user namespaces (Ubuntu 24.04 and later).
BWRAP_PROFILE = ("abi <abi/4.0>,\ninclude <tunables/global>\n\nprofile bwrap /usr/bin/bwrap flags=(unconfined) {\n"
                 "  userns,\n  include if exists <local/bwrap>\n}\n")


def _read(name: str) -> str | None:
    try:
        return (PROC_SYS / name).read_text().strip()
    except OSError:
        return None


def apparmor_restricts() -> bool:
    """Whether AppArmor refuses user namespaces to programs without a profile allowing them."""
    return _read("kernel/apparmor_restrict_unprivileged_userns") == "1"


def user_namespaces() -> tuple[str, bool]:
    """(what an ordinary user gets, whether Bubblewrap can make its namespaces as that user)."""
    if _read("kernel/unprivileged_userns_clone") == "0":
        return ("off for ordinary users: sysctl -w kernel.unprivileged_userns_clone=1 "
                "(and in /etc/sysctl.d/ to keep it)", False)
    if _read("user/max_user_namespaces") == "0":
        return "off: sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/ to keep it)", False
    if apparmor_restricts():
        return ("restricted by AppArmor to programs with a profile: install the profile `convlab doctor` "
                "prints under /etc/apparmor.d/bwrap and run apparmor_parser -r /etc/apparmor.d/bwrap, or "
                "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0", False)
    return "allowed for ordinary users", True


def cgroup_delegation(mode: str) -> tuple[str, bool]:
    """(how a grader that is not root gets whole-sandbox limits, whether it does) for cgroup `mode`."""
    if os.geteuid() == 0:
        return "grading as root: cgroups made directly", True
    if mode != "none":
        return f"delegated to this user ({mode})", True
    return ("none for this user: give systemd's user managers the controllers — systemctl edit user@.service, "
            "[Service] Delegate=memory pids cpu — then log in again; until then only per-process limits apply",
            False)


def sandbox_uid(inside_uid: int) -> str:
    """What the uid inside the sandbox means for the host."""
    if os.geteuid() == 0:
        return f"{inside_uid}: a fresh uid per sandbox, owning nothing on the host"
    return (f"{inside_uid}: this user's own uid, in a user namespace that shows the sandbox only its work "
            "folder; its processes cannot see or signal yours (own pid namespace)")


def rows(mode: str, inside_uid: int) -> list[tuple[str, str, bool]]:
    """(what, found, fine) for `convlab doctor` on a shared host."""
    userns, userns_ok = user_namespaces()
    delegation, delegated = cgroup_delegation(mode)
    return [("user namespaces (non-root grading)", userns, userns_ok or os.geteuid() == 0),
            ("cgroups for a non-root grader", delegation, delegated),
            ("uid inside, for the host", sandbox_uid(inside_uid), True)]
