"""What `convlab doctor` says of a shared host: each way user namespaces are switched off is named
with the setting that fixes it, read from a /proc/sys of the test's own."""
import pytest

from autograder.sandbox import host

pytestmark = pytest.mark.grading


def _sysctl(tmp_path, monkeypatch, **values):
    for name, value in values.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")
    monkeypatch.setattr(host, "PROC_SYS", tmp_path)


@pytest.mark.parametrize(("values", "fix"), [
    ({"kernel__unprivileged_userns_clone": 0}, "kernel.unprivileged_userns_clone=1"),
    ({"user__max_user_namespaces": 0}, "user.max_user_namespaces=15000"),
    ({"kernel__apparmor_restrict_unprivileged_userns": 1}, "apparmor_parser -r /etc/apparmor.d/bwrap"),
])
def test_each_switch_is_named_with_its_fix(tmp_path, monkeypatch, values, fix):
    _sysctl(tmp_path, monkeypatch, **values)
    said, fine = host.user_namespaces()
    assert not fine and fix in said


def test_allowed_namespaces_are_fine(tmp_path, monkeypatch):
    _sysctl(tmp_path, monkeypatch, kernel__unprivileged_userns_clone=1, user__max_user_namespaces=15000,
            kernel__apparmor_restrict_unprivileged_userns=0)
    assert host.user_namespaces() == ("allowed for ordinary users", True)
    assert not host.apparmor_restricts()


def test_the_apparmor_profile_allows_user_namespaces_for_bwrap():
    assert "profile bwrap /usr/bin/bwrap" in host.BWRAP_PROFILE and "userns," in host.BWRAP_PROFILE


def test_a_non_root_grader_without_delegation_is_told_how(monkeypatch):
    monkeypatch.setattr(host.os, "geteuid", lambda: 1000)
    said, fine = host.cgroup_delegation("none")
    assert not fine and "Delegate=memory pids cpu" in said
    assert host.cgroup_delegation("systemd") == ("delegated to this user (systemd)", True)
    assert "own uid" in host.sandbox_uid(1000)
