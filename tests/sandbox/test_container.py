"""The container backends (`--sandbox podman`, `--sandbox docker`): the sandbox suite's hostile
tests run again in a podman container, a class is graded with `--sandbox podman`, and a host that
cannot run containers is refused with the reason. Where convlab itself runs in a container that
keeps bubblewrap out, the refusal says which of that container's options would let it in.

The image is made here, offline: a bare root file system (an /etc naming the container's user, an
empty /home/student and /tmp) imported under a tag of this run's own, run in host-interpreter
mode, and removed afterwards. Tests that run containers skip, saying why, where podman cannot run
them (not root, no podman, or its probe fails).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import coursekit as ck
import pytest
from test_sandbox import (  # noqa: F401  the sandbox suite's tests, run in the container `wall` names
    run_python,
    test_an_output_flood_is_drained_not_kept,
    test_course_files_and_other_students_are_invisible,
    test_filling_the_disk_stops_the_run_and_tmp_is_small,
    test_fork_bomb_is_capped,
    test_gpu_devices_are_visible_inside,
    test_infinite_loop_is_killed_at_the_wall_time_limit_with_its_children,
    test_kill_all_stops_running_sandboxes_at_once,
    test_memory_hog_is_refused,
    test_memory_of_all_processes_together_is_capped,
    test_no_network_even_to_a_port_open_on_this_host,
    test_no_new_user_namespace_no_host_etc_no_host_path_in_proc,
    test_system_is_read_only_and_home_is_private,
    test_unprivileged_and_clean_environment,
)

from autograder import sandbox
from autograder.grading.grade import grade
from autograder.sandbox import container, doctor
from autograder.sandbox.limits import Limits

pytestmark = pytest.mark.grading
FULL = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}


def podman(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120)


def ours() -> list[str]:
    """The containers this test process started that podman still lists, running or not."""
    listed = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    return [name for name in listed if name.startswith(f"{container.NAME_PREFIX}{os.getpid()}-")]


def import_image(tmp_path, tag: str, *changes: str) -> None:
    """A bare root file system under `tag`: /etc naming root and student, /home/student, /tmp."""
    root = tmp_path / "rootfs"
    for folder in ("etc", "home/student", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "student:x:1000:1000:student:/home/student:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\nstudent:x:1000:\n")
    os.chmod(root / "tmp", 0o1777)
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    made = subprocess.run(["podman", "import", *(f"--change={c}" for c in changes), "-", tag], stdin=tar.stdout,
                          capture_output=True, text=True, timeout=120)
    tar.wait()
    assert made.returncode == 0, made.stderr


@pytest.fixture(scope="module")
def podman_image(tmp_path_factory):
    """This run's own image, named in CONVLAB_GRADER_IMAGE while the module's tests run."""
    if os.geteuid() != 0:
        pytest.skip("podman tests need root (the image is imported and run as root)")
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman runc)")
    tag = f"localhost/convlab-test-{os.getpid()}-{uuid.uuid4().hex[:8]}:latest"
    import_image(tmp_path_factory.mktemp("image"), tag)
    before = os.environ.get(container.IMAGE_VARIABLE)
    os.environ[container.IMAGE_VARIABLE] = tag
    try:
        why = container.PODMAN.probe()
        if why is not None:
            pytest.skip(f"podman cannot run containers here: {why}")
        yield tag
    finally:
        if before is None:
            os.environ.pop(container.IMAGE_VARIABLE, None)
        else:
            os.environ[container.IMAGE_VARIABLE] = before
        podman("rmi", "-f", tag)
        container._setup.cache_clear()


@pytest.fixture
def wall(podman_image):
    """The sandbox suite's tests imported above run in a podman container."""
    return container.PODMAN


# -- podman, for real ------------------------------------------------------------------------

def test_the_probe_runs_a_container_and_names_the_runtime_it_took(podman_image):
    setup = container.PODMAN.setup()
    assert setup.image == podman_image and not setup.self_contained
    what, runs = container.PODMAN.summary()
    assert runs and "--sandbox podman runs here" in what and "host interpreter" in what
    assert container.doctor_rows() == [("container runtime (podman)", what, True)]
    assert sandbox.choose("podman") is container.PODMAN


def test_timed_out_and_killed_runs_leave_no_container(tmp_path, podman_image):
    import threading

    start = time.monotonic()
    slow = container.PODMAN.run(["sleep", "60"], str(tmp_path), limits=Limits(timeout=2), env={})
    assert slow.timed_out and time.monotonic() - start < 15
    assert ours() == [], "a container outlived its run's wall time"
    worker = threading.Thread(target=container.PODMAN.run, args=(["sleep", "60"], str(tmp_path)),
                              kwargs={"limits": Limits(timeout=60), "env": {}})
    worker.start()
    while not ours() and worker.is_alive():
        time.sleep(0.2)
    container.PODMAN.kill_all()
    worker.join(timeout=30)
    assert not worker.is_alive() and ours() == [], "kill_all left a container"


def test_a_run_sees_only_the_environment_it_is_given(tmp_path, podman_image):
    result = container.PODMAN.run([os.path.abspath(sys.executable), "-c", "import json, os; print(json.dumps(list(os.environ)))"],
                                  str(tmp_path), limits=Limits(timeout=30), env={"GIVEN": "1"})
    names = set(json.loads(result.stdout))
    assert "GIVEN" in names and "HOME" in names
    assert not names & {"PWD", "USER", "SHELL", "VIRTUAL_ENV", "PYTEST_CURRENT_TEST", "http_proxy"}, names


def test_a_class_graded_in_podman_grades_the_honest_and_holds_the_hostile(tmp_path, podman_image):
    course = ck.make_course(tmp_path)
    answers = ck.solution_answers(course)
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(5)
    listener.setblocking(False)
    ck.write_submission(course, "s01_honest", answers)
    # The right shape only where neither the course's files nor the network could be reached.
    hostile = f"""
import os, socket
reached = []
for path in {[str(course / "gradebook.db"), str(course / "source"), str(course / "submitted")]!r}:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(10)
        reached.append(path)
    except OSError:
        pass
for host in ("127.0.0.1", "1.1.1.1"):
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect((host, {listener.getsockname()[1]})); reached.append(host)
    except OSError:
        pass
print("reached:", reached)
output_shape = (3, 3) if not reached else (0, 0)
"""
    ck.write_submission(course, "s02_hostile", {**answers, "output_shape": hostile})
    assert grade(course, workers=2, timeout=45, memory_mb=1536, sandbox="podman") == 0
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    assert ck.scores(course, "s01_honest") == FULL
    assert ck.scores(course, "s02_hostile") == FULL
    assert "WITHOUT A SANDBOX" not in (course / "grading-report.md").read_text()
    assert ours() == []


def test_the_self_contained_label_is_read_and_its_python_is_asked_for(tmp_path, podman_image):
    tag = f"localhost/convlab-test-{os.getpid()}-{uuid.uuid4().hex[:8]}-labelled:latest"
    import_image(tmp_path, tag, f"LABEL {container.LABEL}={container.SELF_CONTAINED}")
    try:
        why = container._setup("podman", tag, "")
        assert isinstance(why, str) and "python3" in why, why  # a bare file system has no python3
    finally:
        podman("rmi", "-f", tag)
        container._setup.cache_clear()


# -- refusals and the command line, on any host -----------------------------------------------

@pytest.fixture
def fresh_probes(monkeypatch):
    """Probes made anew, and with no mode set around the test."""
    monkeypatch.delenv(container.MODE_VARIABLE, raising=False)
    container._setup.cache_clear()
    yield
    container._setup.cache_clear()


def test_an_engine_that_is_missing_is_refused_saying_so(monkeypatch, fresh_probes):
    monkeypatch.setattr(container.shutil, "which", lambda name: None)
    assert container.DOCKER.probe() == "docker is not installed (see docs.docker.com/engine/install)"
    with pytest.raises(sandbox.SandboxUnavailable, match=r"podman: podman is not installed \(apt-get install podman"):
        sandbox.choose("podman")
    with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
        container.PODMAN.run(["true"], "/nonexistent", limits=Limits(), env={})


def test_a_missing_image_is_refused_with_the_command_that_builds_it(monkeypatch, fresh_probes):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    monkeypatch.setenv(container.IMAGE_VARIABLE, "localhost/convlab-no-such-image:never")
    why = container.PODMAN.probe()
    assert why.startswith("image localhost/convlab-no-such-image:never not found"), why
    assert ("podman build -f containers/grader.Containerfile -t localhost/convlab-no-such-image:never ." in why
            and container.IMAGE_VARIABLE in why)


def test_a_bad_mode_setting_is_refused_naming_it(monkeypatch, fresh_probes):
    monkeypatch.setattr(container.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setenv(container.MODE_VARIABLE, "vm")
    assert container.PODMAN.probe() == "CONVLAB_GRADER_MODE must be one of host, image, got CONVLAB_GRADER_MODE='vm'"


def test_docker_without_its_daemon_is_refused_cleanly(fresh_probes):
    why = container.DOCKER.probe()
    if why is None:
        pytest.skip("docker runs containers of the grader image here")
    assert why.startswith(("docker is not installed", "docker cannot run containers here", "image ")), why


def setup_of(self_contained: bool) -> container.Setup:
    return container.Setup("podman 4", "localhost/convlab-grader:latest", "runc", self_contained, None)


def test_the_command_line_isolates_and_bounds_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_SECRET_TOKEN", "s3cret")
    limits = Limits(memory_mb=1024, nproc=64, tmp_mb=128)
    cmd = container.command("podman", setup_of(False), [sys.executable, "-c", "pass"], str(tmp_path), name="n",
                            uid=1_234_567, limits=limits, env={"GIVEN": "1"}, identity=str(tmp_path))
    line = " ".join(cmd)
    for flag in ("--runtime runc run --rm --name n", "--network=none", "--read-only", "--user 1234567:1234567",
                 "--cap-drop=all", "--security-opt no-new-privileges", f"--memory {limits.cgroup_memory_bytes}",
                 "--pids-limit 128", "--cpus 1", "--tmpfs /tmp:rw,nosuid,nodev,size=128m,mode=1777",
                 "--shm-size 128m", f"--ulimit data={1024 * 2**20}:{1024 * 2**20}", "--ulimit nofile=",
                 "--ulimit nproc=", "--ulimit fsize=", "--ulimit cpu=", "--http-proxy=false",
                 "--read-only-tmpfs=false", "--env GIVEN=1", f"-v {tmp_path}:/home/student:Z", "--pull=never"):
        assert flag in line, flag
    assert "s3cret" not in line and "CONVLAB_SECRET_TOKEN" not in line
    assert cmd[-4:] == ["localhost/convlab-grader:latest", sys.executable, "-c", "pass"]
    for key, value in container.ulimits(limits).items():
        import resource

        hard = resource.getrlimit(getattr(resource, f"RLIMIT_{key.upper()}"))[1]
        assert hard == resource.RLIM_INFINITY or value <= hard, key


def test_a_self_contained_image_runs_its_own_python_and_mounts_nothing_of_the_host(tmp_path):
    cmd = container.command("docker", setup_of(True), [os.path.abspath(sys.executable), "-I", "-m", "x"],
                            str(tmp_path), name="n", uid=1000, limits=Limits(), env={}, identity=str(tmp_path))
    assert cmd[-4:] == ["python3", "-I", "-m", "x"]
    binds = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "-v"]
    assert [b.split(":")[1] for b in binds] == ["/home/student", "/etc/passwd", "/etc/group"]
    assert f"PATH={container.IMAGE_PATH}" in cmd and "--timeout" not in cmd  # docker has no such option


def test_podmans_seccomp_profile_loses_only_new_user_namespaces():
    profile = {"defaultAction": "SCMP_ACT_ERRNO",
               "syscalls": [{"names": ["read", "clone", "clone3", "unshare"], "action": "SCMP_ACT_ALLOW"},
                            {"names": ["setns"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
    rules = container.without_user_namespaces(profile)["syscalls"]
    assert rules[0]["names"] == ["read"] and rules[1]["names"] == ["setns"]
    allowed, refused, clone3 = rules[2:]
    assert allowed["args"][0] == {"index": 0, "value": container.CLONE_NEWUSER, "valueTwo": 0,
                                  "op": "SCMP_CMP_MASKED_EQ"}
    assert refused["action"] == "SCMP_ACT_ERRNO" and refused["args"][0]["valueTwo"] == container.CLONE_NEWUSER
    assert clone3 == {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}


# -- convlab in a container ------------------------------------------------------------------

def test_the_container_convlab_runs_in_is_recognised(tmp_path, monkeypatch):
    monkeypatch.setattr(container, "CONTAINER_FILES", {})
    cgroups = tmp_path / "cgroup"
    cgroups.write_text("0::/kubepods/besteffort/pod1/abc\n")
    assert container.outer_container(str(cgroups)) == "kubernetes"
    cgroups.write_text("0::/init.scope\n")
    assert container.outer_container(str(cgroups)) is None
    monkeypatch.setattr(container, "CONTAINER_FILES", {str(cgroups): "podman"})
    assert container.outer_container() == "podman"


@pytest.mark.parametrize("engine,options", [
    ("docker", ["--security-opt seccomp=unconfined", "--security-opt apparmor=unconfined",
                "--security-opt systempaths=unconfined"]),
    ("podman", ["--security-opt unmask=ALL", "--security-opt label=disable"]),
])
def test_a_refusal_inside_a_container_says_what_would_let_bubblewrap_in(monkeypatch, engine, options):
    monkeypatch.setattr(container, "outer_container", lambda: engine)
    for name in ("bubblewrap", "podman", "docker"):
        monkeypatch.setattr(sandbox.BACKENDS[name], "probe", lambda name=name: f"{name} cannot run")
    with pytest.raises(sandbox.SandboxUnavailable) as refused:
        sandbox.choose()
    message = str(refused.value)
    assert message.startswith("bubblewrap: bubblewrap cannot run; podman: podman cannot run; docker: docker cannot run. "
                              f"convlab runs inside a {engine} container"), message
    for option in options:
        assert option in message, option
    assert "none needs --privileged or --cap-add SYS_ADMIN" in message and "--sandbox podman" in message
    monkeypatch.setattr(doctor.bubblewrap, "why_unavailable", lambda: "bwrap: no permissions")
    [(what, said, fine)] = doctor.nesting_rows()
    assert what == "bubblewrap in a container" and not fine and options[0] in said


def test_no_hint_outside_a_container_or_when_only_a_container_was_asked_for(monkeypatch):
    monkeypatch.setattr(container, "outer_container", lambda: None)
    monkeypatch.setattr(sandbox.BACKENDS["bubblewrap"], "probe", lambda: "bwrap: no user namespaces")
    assert container.nesting_hint() == "" and doctor.nesting_rows() == []
    monkeypatch.setattr(container, "outer_container", lambda: "docker")
    monkeypatch.setattr(sandbox.BACKENDS["podman"], "probe", lambda: "podman is not installed")
    with pytest.raises(sandbox.SandboxUnavailable) as refused:
        sandbox.choose("podman")
    assert str(refused.value) == "podman: podman is not installed"
