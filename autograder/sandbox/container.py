"""The container backends (`--sandbox podman`, `--sandbox docker`): each run is one container of
the grader image, started by the engine's own command line and watched like every other run
(`autograder.sandbox.process`: wall time, output tails, the work dir's size).

A run's container has no network (`--network=none`), a read-only root, no capabilities and no
privilege gain, a fresh unprivileged uid (as root; as an ordinary user, that user's own), the
memory, process and CPU bounds of `Limits` as its cgroup (`--memory`, `--pids-limit`, `--cpus`)
and as rlimits (`--ulimit`, never above this process's hard limits), size-limited `/tmp` and
`/dev/shm`, an `/etc/passwd` naming only root and `student`, and one writable directory,
`/home/student`, bound to the caller's work dir. Its environment is only what the caller passes
(`--env`): neither the host's variables nor the engine's proxy settings go in. Where the host has
NVIDIA devices they are passed in (`--device`).

The image (`CONVLAB_GRADER_IMAGE`, default `DEFAULT_IMAGE`) is used in one of two modes:

- **self-contained**: convlab is installed in the image (`containers/grader.Containerfile`, which
  labels it `LABEL=self-contained`); a command naming a Python interpreter runs the image's own
  `python3`, and nothing of the host is mounted but the work dir;
- **host interpreter** (any image without that label, e.g. a bare root file system): the host's
  system, Python, virtual environment and convlab packages are mounted read-only at their own
  paths, the same list bubblewrap shows (`bubblewrap.readonly_paths`), so the image needs little
  more than an `/etc`. On SELinux hosts these paths must be readable by containers.

`CONVLAB_GRADER_MODE=host|image` overrides the label. The probe runs a trivial container for real,
once per engine and image (cached): with the engine's default OCI runtime, then with runc (crun
refuses hosts with hybrid cgroup hierarchies). It says why not, and what to do: install the engine,
start its daemon, build the image (`build_command`), install runc.

podman's default seccomp profile lets a container make user namespaces; each run gets that profile
with new user namespaces refused (docker's own profile already refuses them without
CAP_SYS_ADMIN). Containers are named `convlab-run-<pid>-<hex>`: `kill_all` kills this process's
own, the engine removes each when it ends (`--rm`, and podman's `--timeout` should the grader
die), and a probe removes what dead graders on this host left. An out-of-memory kill is read from
the container's memory cgroup while it runs (the engine removes the cgroup with the container).

Also here: whether convlab itself runs inside a container (`outer_container`), and which options
of that container would let bubblewrap make its namespaces there (`nesting_hint`).
"""
from __future__ import annotations

import atexit
import glob
import json
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache

from autograder.sandbox import bubblewrap, cgroup, process
from autograder.sandbox.limits import Limits, Result, SandboxUnavailable

DEFAULT_IMAGE = "localhost/convlab-grader:latest"
IMAGE_VARIABLE = "CONVLAB_GRADER_IMAGE"
MODE_VARIABLE = "CONVLAB_GRADER_MODE"
MODES = ("host", "image")
#: The label a self-contained grader image carries, and its value.
LABEL, SELF_CONTAINED = "org.convlab.grader", "self-contained"
CONTAINERFILE = "containers/grader.Containerfile"
IMAGE_PYTHON = "python3"
IMAGE_PATH = "/usr/local/bin:/usr/bin:/bin"
SANDBOX_HOME = bubblewrap.SANDBOX_HOME
NAME_PREFIX = "convlab-run-"
HOST_LABEL = "org.convlab.grader-host"  # which host's grader started a container (stale ones are its own)
STOP_GRACE_SECONDS = 30  # podman's --timeout, should the grader die: the wall time plus this
CLONE_NEWUSER = 0x10000000
NAMESPACE_CALLS = ("clone", "clone3", "unshare")
SECCOMP_DEFAULTS = ("/etc/containers/seccomp.json", "/usr/share/containers/seccomp.json")
#: What of this process's environment the engine's client needs (never passed into a container).
CLIENT_VARIABLES = ("HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "CONTAINER_HOST",
                    "CONTAINER_CONNECTION", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "DOCKER_HOST",
                    "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
INSTALL = {"podman": "apt-get install podman runc", "docker": "see docs.docker.com/engine/install"}
_live: set[tuple[str, str]] = set()  # (engine, container name) of runs going now
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Setup:
    """How this host runs the grader's containers, as the probe found it."""

    version: str
    image: str
    runtime: str | None  # None: the engine's default OCI runtime
    self_contained: bool
    seccomp: str | None  # a seccomp profile refusing new user namespaces (podman), or None


def image() -> str:
    """The grader image: `CONVLAB_GRADER_IMAGE`, else DEFAULT_IMAGE."""
    return os.environ.get(IMAGE_VARIABLE) or DEFAULT_IMAGE


def build_command(engine: str, name: str) -> str:
    """The command, run in a convlab checkout, that builds the self-contained grader image `name`."""
    return f"{engine} build -f {CONTAINERFILE} -t {name} ."


# -- the engine's client ---------------------------------------------------------------------

def _client_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            **{name: os.environ[name] for name in CLIENT_VARIABLES if name in os.environ}}


def _cli(engine: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`engine args...`; a client that cannot start or hangs reads as a failure with the reason."""
    try:
        return subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout,
                              env=_client_env(), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return subprocess.CompletedProcess([engine, *args], 1, "", f"{engine}: {exc}")


def _last_line(result) -> str:
    lines = [line.strip() for line in (result.stderr or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exited with {result.returncode}"


# -- the probe -------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _setup(engine: str, name: str, mode: str) -> Setup | str:
    """How `engine` runs image `name` here, or why it cannot and what to do (cached: each probe
    runs containers). `mode` is CONVLAB_GRADER_MODE ("" to follow the image's label)."""
    if shutil.which(engine) is None:
        return f"{engine} is not installed ({INSTALL.get(engine, 'install it')})"
    if mode not in ("", *MODES):
        return f"{MODE_VARIABLE} must be one of {', '.join(MODES)}, got {MODE_VARIABLE}={mode!r}"
    version = _cli(engine, "version", "--format", "{{.Client.Version}}", timeout=30)
    if version.returncode != 0:
        return f"{engine} cannot run containers here: {_last_line(version)}"
    labels = _cli(engine, "image", "inspect", "--format", "{{json .Config.Labels}}", name)
    if labels.returncode != 0:
        return (f"image {name} not found ({_last_line(labels)}): build it with `{build_command(engine, name)}`, "
                f"or name another in {IMAGE_VARIABLE}")
    self_contained = mode == "image" if mode else _label(labels.stdout) == SELF_CONTAINED
    _remove_stale(engine)
    seccomp = _seccomp_profile() if engine == "podman" else None
    failures = []
    for runtime in _runtimes(engine):
        setup = Setup(f"{engine} {version.stdout.strip()}", name, runtime, self_contained, seccomp)
        why = _try(engine, setup)
        if why is None:
            return setup
        failures.append(f"{runtime or 'the default runtime'}: {why}")
    return f"{engine} could not run a container of {name} ({'; '.join(failures)}){_runtime_hint(failures)}"


def _label(text: str) -> str | None:
    try:
        labels = json.loads(text) or {}
    except ValueError:
        return None
    return labels.get(LABEL) if isinstance(labels, dict) else None


def _runtimes(engine: str) -> list[str | None]:
    """The OCI runtimes to try: the engine's default, then runc (podman names it; docker's daemon
    chooses its own)."""
    return [None, "runc"] if engine == "podman" and shutil.which("runc") else [None]


def _runtime_hint(failures: list[str]) -> str:
    if any("hybrid" in failure for failure in failures) and not shutil.which("runc"):
        return ". crun cannot run on hybrid cgroup hierarchies: install runc (apt-get install runc)"
    return ""


def _try(engine: str, setup: Setup) -> str | None:
    """None where a trivial container of `setup` runs this Python's convlab, else why not."""
    with tempfile.TemporaryDirectory(prefix="convlab-probe-") as empty:
        try:
            result = _launch(engine, setup, [os.path.abspath(sys.executable), "-I", "-c", "import autograder"],
                             empty, Limits(timeout=60), {}, watch=False)
        except (OSError, ValueError) as exc:
            return str(exc)
    return None if result.returncode == 0 else _last_line(result)


def _remove_stale(engine: str) -> None:
    """Remove the containers that graders of this host no longer running left behind."""
    listed = _cli(engine, "ps", "-a", "--filter", f"label={HOST_LABEL}={socket.gethostname()}",
                  "--format", "{{.Names}}")
    stale = [name for name in listed.stdout.split() if name.startswith(NAME_PREFIX)
             and not cgroup._pid_alive(_owner(name))]
    if stale:
        _cli(engine, "rm", "-f", *stale)


def _owner(name: str) -> int:
    try:
        return int(name[len(NAME_PREFIX):].split("-", 1)[0])
    except ValueError:
        return os.getpid()  # not one of ours: never stale


@lru_cache(maxsize=1)
def _seccomp_profile() -> str | None:
    """podman's default seccomp profile with new user namespaces refused, written once for this
    process; None where podman's profile is not found (then namespaces stay as podman allows)."""
    source = next((path for path in SECCOMP_DEFAULTS if os.path.isfile(path)), None)
    try:
        with open(source or "") as f:
            profile = without_user_namespaces(json.load(f))
    except (OSError, ValueError, AttributeError):
        return None
    folder = tempfile.mkdtemp(prefix="convlab-seccomp-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, "seccomp.json")
    with open(path, "w") as f:
        json.dump(profile, f)
    return path


def without_user_namespaces(profile: dict) -> dict:
    """`profile` (an OCI seccomp profile) where clone and unshare may not make a user namespace
    and clone3, whose flags seccomp cannot read, is refused as unknown (libc then uses clone)."""
    rules = []
    for rule in profile.get("syscalls", []):
        if rule.get("action") == "SCMP_ACT_ALLOW":
            rule = {**rule, "names": [n for n in rule.get("names", []) if n not in NAMESPACE_CALLS]}
        if rule.get("names"):
            rules.append(rule)
    flags = {"index": 0, "value": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ"}
    rules += [{"names": ["clone", "unshare"], "action": "SCMP_ACT_ALLOW", "args": [{**flags, "valueTwo": 0}]},
              {"names": ["clone", "unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
               "args": [{**flags, "valueTwo": CLONE_NEWUSER}]},
              {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    return {**profile, "syscalls": rules}


# -- one run ---------------------------------------------------------------------------------

def command(engine: str, setup: Setup, argv: list[str], workdir: str, *, name: str, uid: int, limits: Limits,
            env: dict[str, str], identity: str) -> list[str]:
    """The engine's command line that runs `argv` in a new container named `name` as `uid`, with
    `workdir` as its only writable directory and `identity` holding its passwd and group files."""
    args = [engine, *(["--runtime", setup.runtime] if setup.runtime else []), "run", "--rm", "--name", name,
            "--label", f"{HOST_LABEL}={socket.gethostname()}", "--pull=never", "--log-driver=none",
            "--network=none", "--read-only", "--user", f"{uid}:{uid}", "--cap-drop=all",
            "--security-opt", "no-new-privileges", "--workdir", SANDBOX_HOME]
    args += _engine_options(engine, setup, limits) + _resources(limits) + _devices()
    args += _mounts(setup, workdir, identity)
    base = process.base_env(SANDBOX_HOME) | ({"PATH": IMAGE_PATH} if setup.self_contained else {})
    for key, value in (base | env).items():
        args += ["--env", f"{key}={value}"]
    return [*args, setup.image, *_argv(setup, argv)]


def _engine_options(engine: str, setup: Setup, limits: Limits) -> list[str]:
    """podman's options that docker lacks: no tmpfs of its own on a read-only root, no proxy
    variables from the host, a kill of its own past the wall time, the seccomp profile, and (as
    an ordinary user) this user's uid inside."""
    if engine != "podman":
        return []
    args = ["--read-only-tmpfs=false", "--http-proxy=false", "--timeout", str(int(limits.timeout) + STOP_GRACE_SECONDS)]
    if setup.seccomp:
        args += ["--security-opt", f"seccomp={setup.seccomp}"]
    return args + ([] if os.geteuid() == 0 else ["--userns=keep-id"])


def _resources(limits: Limits) -> list[str]:
    """The cgroup bounds of the whole container and the rlimits of each of its processes."""
    memory = str(limits.cgroup_memory_bytes)
    args = ["--memory", memory, "--memory-swap", memory, "--pids-limit", str(limits.nproc + 64),
            "--cpus", f"{cgroup.CPUS:g}", "--tmpfs", f"/tmp:rw,nosuid,nodev,size={limits.tmp_mb}m,mode=1777",
            "--shm-size", f"{limits.tmp_mb}m"]
    for key, value in ulimits(limits).items():
        args += ["--ulimit", f"{key}={value}:{value}"]
    return args


def ulimits(limits: Limits) -> dict[str, int]:
    """The rlimits every backend sets, none above this process's hard limit (the engine could not
    raise it, and its defaults fail where the host's hard limits are low)."""
    found = {}
    for key, value in process._rlimits(limits).items():
        hard = resource.getrlimit(getattr(resource, f"RLIMIT_{key.upper()}"))[1]
        found[key] = value if hard == resource.RLIM_INFINITY else min(value, hard)
    return found


def _devices() -> list[str]:
    """NVIDIA's device nodes, where this host has them (the driver's libraries come with /usr in
    host-interpreter mode; a self-contained image needs them installed or injected)."""
    nodes = sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/nvidia-caps/*"))
    return [arg for node in nodes if _char_device(node) for arg in ("--device", node)]


def _char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _bind(source: str, target: str, options: str) -> list[str]:
    """One `-v` bind; its syntax has no escape for ':' or ','."""
    for path in (source, target):
        if ":" in path or "," in path:
            raise ValueError(f"a bind mount's path cannot hold ':' or ',', got path={path!r}")
    return ["-v", f"{source}:{target}:{options}"]


def _mounts(setup: Setup, workdir: str, identity: str) -> list[str]:
    """The work dir (relabelled for SELinux: it is the run's own), the identity files and, in
    host-interpreter mode, the host's system, Python and packages read-only."""
    args = _bind(os.path.abspath(workdir), SANDBOX_HOME, "Z")
    for name in ("passwd", "group"):
        args += _bind(os.path.join(identity, name), f"/etc/{name}", "ro,Z")
    if setup.self_contained:
        return args
    for path in bubblewrap.readonly_paths():
        args += _bind(path, path, "ro")
    for link, _ in bubblewrap.SYSTEM_LINKS:
        if os.path.exists(link):
            args += _bind(os.path.realpath(link), link, "ro")
    for path in bubblewrap.etc_paths():
        if os.path.exists(os.path.realpath(path)):
            args += _bind(os.path.realpath(path), path, "ro")
    return args


def _argv(setup: Setup, argv: list[str]) -> list[str]:
    """`argv`, its interpreter the image's own Python where the image is self-contained."""
    if setup.self_contained and argv and os.path.isabs(argv[0]) and os.path.basename(argv[0]).startswith("python"):
        return [IMAGE_PYTHON, *argv[1:]]
    return list(argv)


def _identity(uid: int) -> str:
    """A folder holding the passwd and group files that name the container's user."""
    folder = tempfile.mkdtemp(prefix="convlab-identity-")
    os.chmod(folder, 0o755)
    for path, text in bubblewrap.identity_files(uid).items():
        with open(os.path.join(folder, os.path.basename(path)), "w") as f:
            f.write(text)
        os.chmod(os.path.join(folder, os.path.basename(path)), 0o644)
    return folder


def _launch(engine: str, setup: Setup, argv: list[str], workdir: str, limits: Limits, env: dict[str, str], *,
            watch: bool = True) -> Result:
    """Run `argv` in one container of `setup`, through `process.run`."""
    uid = bubblewrap.sandbox_uid()
    if os.geteuid() == 0:
        bubblewrap._chown_tree(workdir, uid)
    name = f"{NAME_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    identity = _identity(uid)
    run = _Run(engine, name, identity, watch)
    try:
        cmd = command(engine, setup, argv, workdir, name=name, uid=uid, limits=limits, env=env, identity=identity)
    except BaseException:
        run.remove()
        raise
    with _live_lock:
        _live.add((engine, name))
    return process.run(cmd, cwd="/", env=_client_env(), workdir=workdir, limits=limits, backend=engine,
                       isolated=True, group=run)


class _Run:
    """One container as `process.run` handles a run's cgroup: killed past the wall time or the
    disk bound, asked whether memory ran out, and removed afterwards (with its identity files)."""

    def __init__(self, engine: str, name: str, identity: str, watch: bool):
        self.engine, self.name, self.identity = engine, name, identity
        self.oom = False
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True) if watch else None

    def wrap(self, cmd: list[str]) -> list[str]:
        if self._watcher is not None:
            self._watcher.start()
        return cmd

    def kill(self) -> None:
        _cli(self.engine, "kill", "--signal", "KILL", self.name, timeout=30)

    def oom_killed(self) -> bool:
        self._done.set()
        if self._watcher is not None and self._watcher.is_alive():
            self._watcher.join(timeout=5)
        return self.oom

    def remove(self) -> None:
        """Kill and remove the container, if the engine has not already."""
        self._done.set()
        _cli(self.engine, "rm", "-f", self.name, timeout=60)
        with _live_lock:
            _live.discard((self.engine, self.name))
        shutil.rmtree(self.identity, ignore_errors=True)

    def _watch(self) -> None:
        """Find the container's memory cgroup once it runs, then read its OOM-kill count until the
        run ends (the engine removes the cgroup with the container, so it is read while it runs)."""
        counter = None
        for _ in range(40):  # the engine starts a container within seconds, or not at all
            if self._done.wait(0.25):
                return
            pid = _cli(self.engine, "inspect", "--format", "{{.State.Pid}}", self.name, timeout=10).stdout.strip()
            counter = oom_counter(int(pid)) if pid.isdigit() and pid != "0" else None
            if counter:
                break
        while counter and not self.oom:
            self.oom = cgroup.oom_kills(counter) > 0
            if self._done.wait(0.2):
                self.oom = self.oom or cgroup.oom_kills(counter) > 0
                return


def oom_counter(pid: int) -> str | None:
    """The file counting the OOM kills of process `pid`'s memory cgroup (cgroup v1 or v2)."""
    base = cgroup._v1_base("memory", pid)
    if base is not None:
        return os.path.join(base, "memory.oom_control")
    base = cgroup._v2_base(pid)
    return os.path.join(base, "memory.events") if base is not None else None


# -- the backends ----------------------------------------------------------------------------

class Container:
    """A backend of `autograder.sandbox` that runs each command in a container of `engine`
    (podman, or docker: the options used are those both take, and podman's own where it has them)."""

    isolates = True

    def __init__(self, engine: str):
        self.name = engine
        self.engine = engine

    def setup(self) -> Setup | str:
        """How this host runs the grader's containers (probed once per image), or why it cannot."""
        return _setup(self.engine, image(), os.environ.get(MODE_VARIABLE, ""))

    def probe(self) -> str | None:
        found = self.setup()
        return found if isinstance(found, str) else None

    def home(self, workdir: str) -> str:
        return SANDBOX_HOME

    def run(self, argv: list[str], workdir: str, *, limits: Limits = Limits(), env: dict[str, str] | None = None
            ) -> Result:
        found = self.setup()
        if isinstance(found, str):
            raise SandboxUnavailable(found)
        return _launch(self.engine, found, argv, workdir, limits, env or {})

    def kill_all(self) -> None:
        """Kill the engine's clients, then the containers they started."""
        process.kill_all()
        with _live_lock:
            names = [name for engine, name in _live if engine == self.engine]
        if names:
            _cli(self.engine, "kill", "--signal", "KILL", *names, timeout=30)
            _cli(self.engine, "rm", "-f", *names, timeout=60)

    def userns_blocked(self) -> bool:
        """Whether commands are kept from making user namespaces (docker's default profile does)."""
        found = self.setup()
        return not isinstance(found, str) and (self.engine == "docker" or found.seccomp is not None)

    def summary(self) -> tuple[str, bool]:
        """(what `convlab doctor` says of this engine, whether `--sandbox <engine>` runs here)."""
        found = self.setup()
        if isinstance(found, str):
            return found, False
        mode = "self-contained" if found.self_contained else "host interpreter mounted read-only"
        return (f"{found.version}, runtime {found.runtime or 'default'}, image {found.image} ({mode}): "
                f"--sandbox {self.name} runs here", True)


PODMAN = Container("podman")
DOCKER = Container("docker")
CONTAINERS = (PODMAN, DOCKER)


def doctor_rows() -> list[tuple[str, str, bool]]:
    """(what, found, fine) for `convlab doctor`: the first engine installed that runs the grader's
    containers, else why the first installed cannot."""
    installed = [backend for backend in CONTAINERS if shutil.which(backend.engine)]
    if not installed:
        return [("container runtime", "none (optional: install podman and runc for --sandbox podman)", True)]
    summaries = [(backend, *backend.summary()) for backend in installed]
    backend, said, runs = next((s for s in summaries if s[2]), summaries[0])
    return [(f"container runtime ({backend.name})", said, runs)]


# -- convlab itself in a container -----------------------------------------------------------

#: Files an engine leaves in its containers, and the engine each names.
CONTAINER_FILES = {"/run/.containerenv": "podman", "/.dockerenv": "docker"}
#: Words in /proc/1/cgroup that name what runs a container.
CGROUP_WORDS = {"libpod": "podman", "docker": "docker", "kubepods": "kubernetes", "containerd": "kubernetes",
                "lxc": "lxc"}
#: What each engine's container would need for bubblewrap to make namespaces inside it.
NESTING_OPTIONS = {
    "docker": "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined (docker's "
              "seccomp profile refuses new namespaces, its AppArmor profile mounts), and "
              "--security-opt systempaths=unconfined where bubblewrap cannot mount /proc (masked paths)",
    "podman": "podman run --security-opt unmask=ALL where bubblewrap cannot mount /proc (masked paths; "
              "podman's seccomp profile already allows namespaces), and --security-opt label=disable "
              "on SELinux hosts",
    "kubernetes": "the pod's securityContext: seccompProfile and appArmorProfile Unconfined, and procMount "
                  "Unmasked where bubblewrap cannot mount /proc",
}


def outer_container(pid1_cgroup: str = "/proc/1/cgroup") -> str | None:
    """The engine of the container convlab runs in ("podman", "docker", "kubernetes", "lxc"), or None."""
    for path, engine in CONTAINER_FILES.items():
        if os.path.exists(path):
            return engine
    try:
        with open(pid1_cgroup) as f:
            text = f.read()
    except OSError:
        return None
    return next((engine for word, engine in CGROUP_WORDS.items() if word in text), None)


def nesting_hint() -> str:
    """Where convlab runs in a container: what would let bubblewrap work there (as bubblewrap's
    issue 505 reports), and the ways around it; "" elsewhere."""
    engine = outer_container()
    if engine is None:
        return ""
    options = NESTING_OPTIONS.get(engine, "options that allow new user namespaces, mounts and a new /proc")
    return (f"convlab runs inside a {engine} container, whose confinement may keep bubblewrap from making its "
            f"namespaces. What usually allows them: {options}. Each loosens that container's own confinement; "
            "none needs --privileged or --cap-add SYS_ADMIN. Grade there as an ordinary user (as root, bubblewrap "
            "needs CAP_SYS_ADMIN), or grade on the host, where --sandbox podman runs each notebook in a container "
            "of its own")
