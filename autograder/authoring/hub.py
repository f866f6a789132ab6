"""`convlab hub DIR`: a JupyterHub for one or more convlab courses, written into DIR.

On a shared hub, nbgrader's one-person setup (README's "A term, command by command") breaks in
known ways, and this module writes the deployment that avoids each of them:

- Students never load a course's `nbgrader_config.py`, so the exchange is set system-wide
  (`DIR/jupyter/system/nbgrader_config.py`, on every server's JUPYTER_CONFIG_PATH and meant for
  `/etc/jupyter/` too), with `Exchange.path_includes_course = True` from the start: two courses
  with the same assignment names stay apart (switching it mid-term hides work already fetched).
- Formgrader is one JupyterHub *service* per course, run as the course's instructor in the course
  folder, reachable only by that course's instructor and teaching assistants (a role granting
  `access:services!service=<course>`). In a personal server it would start in the home folder,
  have no course and make an empty `~/gradebook.db`, and JupyterHub >= 4.1 forbids framing it in
  the Nbgrader menu (nbgrader#1870), so personal servers run without it.
- Each user's server gets the learner's or the staff's Jupyter settings (JUPYTER_CONFIG_PATH) and
  the course environment's `bin/` first on PATH; `profile.d/convlab.sh` keeps it first in the
  terminals, whose `bash -l` resets PATH.
- Every server runs the environment's own `jupyterhub-singleuser`, so the hub and the servers
  have the same JupyterHub version.

Nothing here imports JupyterHub: the written `jupyterhub_config.py` is plain Python that IT can
read and edit, and `convlab hub` runs where JupyterHub is not installed yet.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

# A course id names a JupyterHub service, a role and a folder in the exchange.
COURSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# A local account name as useradd accepts it by default.
USER_NAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}\$?")
# PATH of every server and service: the course environment first, then the system's.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

# nbgrader's lab plugins and server extensions, and JupyterLab's news prompt. Each role's settings name
# every one of them, on or off, so that settings elsewhere on the machine (/etc/jupyter) cannot switch them.
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
LAB_PLUGINS = ("menu", "assignment-list", "validate-assignment", "formgrader", "course-list", "create-assignment")
SERVER_EXTENSIONS = ("assignment_list", "validate_assignment", "formgrader", "course_list")


class HubError(ValueError):
    """The deployment cannot be written as asked."""


@dataclass(frozen=True)
class CourseSpec:
    """One course on the hub: its nbgrader course id, its folder (made by `convlab new-course`, owned
    by the instructor), the instructor who owns it, and the teaching assistants who grade with them."""

    course_id: str
    directory: Path
    instructor: str
    graders: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "directory", Path(os.path.abspath(os.fspath(self.directory))))
        object.__setattr__(self, "graders", tuple(self.graders))
        if not COURSE_ID.fullmatch(self.course_id):
            raise HubError(f"course id {self.course_id!r}: use letters, digits, '.', '_' or '-' "
                           "(it names a JupyterHub service and a folder in the exchange)")
        for name in self.staff:
            if not USER_NAME.fullmatch(name):
                raise HubError(f"course {self.course_id}: {name!r} is not a local account name")

    @property
    def staff(self) -> tuple[str, ...]:
        """Who may open this course's Formgrader: the instructor, then the teaching assistants."""
        return (self.instructor, *[g for g in self.graders if g != self.instructor])

    @property
    def role(self) -> str:
        """The JupyterHub role granting access to the Formgrader (role names are lower case)."""
        return f"formgrader-{self.course_id.lower()}"

    @classmethod
    def parse(cls, text: str) -> CourseSpec:
        """`ID:COURSE_DIR:INSTRUCTOR[,TA...]`, as given to `convlab hub --course` (COURSE_DIR may hold ':')."""
        course_id, _, rest = text.partition(":")
        directory, _, people = rest.rpartition(":")
        names = [n.strip() for n in people.split(",") if n.strip()]
        if not course_id or not directory or not names:
            raise HubError(f"--course {text!r}: expected ID:COURSE_DIR:INSTRUCTOR[,TA...]")
        return cls(course_id, Path(directory), names[0], tuple(names[1:]))


@dataclass(frozen=True)
class HubSettings:
    """Where the hub listens and what it runs. The hub's API, the proxy's API and each course's
    Formgrader listen on loopback ports (`service_port` for the first course, then one more per
    course); `venv` is the Python environment with convlab and JupyterHub, readable by every user."""

    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 10101
    exchange: Path = Path("/srv/nbgrader/exchange")
    venv: Path = field(default_factory=lambda: Path(sys.prefix))
    proxy_command: str | None = None  # configurable-http-proxy; default: the one on PATH now
    allowed_group: str | None = None  # only this Unix group (and the staff) may log in; default: every account

    @property
    def bin(self) -> Path:
        return Path(self.venv) / "bin"

    @property
    def path(self) -> str:
        return f"{self.bin}:{SYSTEM_PATH}"


@dataclass(frozen=True)
class HubFiles:
    """What `write_hub` wrote, by purpose."""

    config: Path  # jupyterhub_config.py: `jupyterhub -f` it, as root
    nbgrader_config: Path  # the system-wide nbgrader settings, meant for /etc/jupyter/ as well
    profile: Path  # meant for /etc/profile.d/convlab.sh
    state: Path  # the hub's database, cookie secret and proxy pid: root's alone
    jupyter: Path  # the Jupyter config folders the servers and services read


def _check(courses: list[CourseSpec], settings: HubSettings) -> None:
    """Refuse what would clash at start-up: repeated course ids (also up to case, for role names),
    folders, or ports."""
    if not courses:
        raise HubError("at least one --course is needed")
    ids = [c.course_id.lower() for c in courses]
    folders = [c.directory for c in courses]
    for kind, values in (("id", ids), ("folder", folders)):
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise HubError(f"--course: each course needs its own {kind}; given twice: {', '.join(repeated)}")
    ports = [settings.port, settings.hub_port, settings.proxy_api_port]
    ports += [settings.service_port + i for i in range(len(courses))]
    if len(set(ports)) < len(ports) or not all(0 < p < 65536 for p in ports):
        raise HubError(f"ports must be distinct and between 1 and 65535: {ports}")


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    """Write `text` to `path` with `mode`, making its folder (readable by all) as needed."""
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return path


def _jupyter_settings(folder: Path, tools: set[str]) -> None:
    """A Jupyter config folder in which only nbgrader's `tools` are on (lab plugins and server
    extensions, by their short names: "formgrader", "course-list", ...); no news prompt."""
    disabled = {ANNOUNCEMENTS: True}
    disabled.update({f"@jupyter/nbgrader:{name}": name not in tools for name in LAB_PLUGINS})
    _write(folder / "labconfig" / "page_config.json", json.dumps({"disabledExtensions": disabled}, indent=2) + "\n")
    extensions = {f"nbgrader.server_extensions.{name}": name.replace("_", "-") in tools for name in SERVER_EXTENSIONS}
    server = {"ServerApp": {"jpserver_extensions": extensions}}
    _write(folder / "jupyter_server_config.json", json.dumps(server, indent=2) + "\n")


LEARNER_TOOLS = {"menu", "assignment-list", "validate-assignment"}


def _learner_settings(folder: Path) -> None:
    """Students: the Assignment List and Validate, none of nbgrader's instructor tools."""
    _jupyter_settings(folder, LEARNER_TOOLS)


def _staff_settings(folder: Path) -> None:
    """Instructors and TAs in their own server: the learner's tools and Create Assignment. Their
    Formgrader is the course's service (the hub's Services menu); a personal one would grade nothing
    and leave an empty ~/gradebook.db, and the Course List finds no course without one."""
    _jupyter_settings(folder, LEARNER_TOOLS | {"create-assignment"})


def _course_settings(folder: Path, course: CourseSpec) -> None:
    """A course's Formgrader service: every nbgrader tool, on this course."""
    _jupyter_settings(folder, set(LAB_PLUGINS))
    _write(folder / "nbgrader_config.py", "\n".join([
        f'"""nbgrader settings of the Formgrader service of {course.course_id} (written by `convlab hub`)."""',
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {course.course_id!r}",
        f"c.CourseDirectory.root = {str(course.directory)!r}",
        "",
    ]))


def nbgrader_system_config(exchange: Path) -> str:
    """The nbgrader settings every user needs: where the exchange is, and one folder per course in it.
    No course id: a student's Assignment List offers every course found in the exchange."""
    return "\n".join([
        '"""nbgrader settings for everyone on the hub (written by `convlab hub`).',
        "",
        "Students never load a course's own nbgrader_config.py: the exchange must be set here.",
        "Keep path_includes_course on for the whole term: switching it hides work already fetched.",
        '"""',
        "c = get_config()  # noqa: F821",
        f"c.Exchange.root = {str(exchange)!r}",
        "c.Exchange.path_includes_course = True",
        "# Every course in the exchange is offered to every student (nbgrader.auth.JupyterHubAuthPlugin",
        "# would limit them to their hub groups' courses); a course's own settings name its id.",
        'c.Authenticator.plugin_class = "nbgrader.auth.NoAuthPlugin"',
        'c.CourseDirectory.course_id = ""',
        "",
    ])


def profile_script(settings: HubSettings) -> str:
    """/etc/profile.d/convlab.sh: JupyterHub's terminals run `bash -l`, and Debian's /etc/profile
    resets PATH; put the course environment first again, in hub sessions only."""
    bin_dir = str(settings.bin)
    return "\n".join([
        "# convlab: keep the course's tools (convlab, nbgrader, python) first on PATH in JupyterHub's",
        "# terminals, whose login shell resets PATH. Written by `convlab hub`; install it with",
        f"#   install -m 0644 {'{this file}'} /etc/profile.d/convlab.sh",
        'if [ -n "${JUPYTERHUB_USER:-}" ]; then',
        '  case ":$PATH:" in',
        f'    *":{bin_dir}:"*) ;;',
        f'    *) PATH="{bin_dir}:$PATH"; export PATH ;;',
        "  esac",
        "fi",
        "",
    ])


HUB_CONFIG = '''"""JupyterHub for convlab courses (written by `convlab hub`; run it again to change this file).

Start the hub as root (it logs users in with PAM and starts their servers as them):
    {jupyterhub} -f {config}
"""
c = get_config()  # noqa: F821

VENV_BIN = {bin!r}
PATH = {path!r}
JUPYTER = {jupyter!r}  # the Jupyter settings folders written beside this file
STATE = {state!r}  # the hub's database and cookie secret: root's alone

# course id -> folder, instructor (who runs its Formgrader), teaching assistants, Formgrader's port
COURSES = {courses}
STAFF = {{name for _, instructor, graders, _ in COURSES.values() for name in (instructor, *graders)}}

# Where the hub listens. Put TLS in front of it (a reverse proxy, or c.JupyterHub.ssl_cert/ssl_key)
# before students log in with their university password.
c.JupyterHub.ip = {ip!r}
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = STATE + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + STATE + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = STATE + "/jupyterhub_cookie_secret"

# Who logs in: local accounts, by their password (PAM); never root.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.blocked_users = {{"root"}}
{allow}

# Each user's own server: the course environment's jupyterhub-singleuser (the hub's version), run
# as that user in their home folder, with the learner's or the staff's Jupyter settings.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [VENV_BIN + "/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def jupyter_config_path(spawner):
    """Instructors and TAs get the staff's settings, everyone else the learner's; all get the exchange."""
    role = "staff" if spawner.user.name in STAFF else "learner"
    return f"{{JUPYTER}}/{{role}}:{{JUPYTER}}/system"


c.Spawner.environment = {{"PATH": PATH, "JUPYTER_CONFIG_PATH": jupyter_config_path}}

# One Formgrader per course: a service run as the instructor in the course folder, at
# /services/<course id>/, open to the course's instructor and TAs only (in the hub's Services menu).
c.JupyterHub.services = []
c.JupyterHub.load_roles = []
for course_id, (folder, instructor, graders, port) in COURSES.items():
    c.JupyterHub.services.append({{
        "name": course_id,
        "url": f"http://127.0.0.1:{{port}}",
        "command": [VENV_BIN + "/jupyterhub-singleuser"],
        "user": instructor,
        "cwd": folder,
        "environment": {{
            "PATH": PATH,
            "JUPYTER_CONFIG_PATH": f"{{JUPYTER}}/course-{{course_id}}:{{JUPYTER}}/system",
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        }},
        "oauth_no_confirm": True,
        "timeout": 120,
    }})
    c.JupyterHub.load_roles.append({{
        "name": "formgrader-" + course_id.lower(),
        "description": f"Grade {{course_id}} in its Formgrader",
        "users": [instructor, *graders],
        "scopes": [f"access:services!service={{course_id}}"],
    }})

# Your own settings (TLS, another authenticator, limits) go in jupyterhub_config.local.py beside this
# file: it is read last, and `convlab hub` never writes it.
load_subconfig("jupyterhub_config.local.py")  # noqa: F821
'''


def _allow_lines(settings: HubSettings) -> str:
    """Everyone with a local account, or only a Unix group's members and the staff."""
    if settings.allowed_group is None:
        return ("# Every local account may log in; to admit one Unix group (and the staff) only, rerun\n"
                "# `convlab hub` with --allow-group GROUP.\nc.Authenticator.allow_all = True")
    return (f"c.PAMAuthenticator.allowed_groups = {{{settings.allowed_group!r}}}\n"
            "c.Authenticator.allowed_users = STAFF\n"
            "c.Authenticator.allow_existing_users = False  # leaving the group ends access")


def hub_config(target: Path, courses: list[CourseSpec], settings: HubSettings) -> str:
    """The text of jupyterhub_config.py for `courses`, its folders under `target`."""
    table = {
        c.course_id: (str(c.directory), c.instructor, list(c.staff[1:]), settings.service_port + i)
        for i, c in enumerate(courses)
    }
    body = ",\n".join(f"    {k!r}: {v!r}" for k, v in table.items())
    proxy = settings.proxy_command or shutil.which("configurable-http-proxy") or "configurable-http-proxy"
    return HUB_CONFIG.format(
        jupyterhub=settings.bin / "jupyterhub", config=target / "jupyterhub_config.py",
        bin=str(settings.bin), path=settings.path, jupyter=str(target / "jupyter"),
        state=str(target / "state"), courses="{\n" + body + ",\n}", ip=settings.ip, port=settings.port,
        hub_port=settings.hub_port, proxy_api_port=settings.proxy_api_port, proxy=proxy,
        allow=_allow_lines(settings),
    )


def write_hub(target: Path, courses: list[CourseSpec], settings: HubSettings | None = None) -> HubFiles:
    """Write the deployment for `courses` into `target` (made if missing; files of an earlier run
    replaced, the hub's state kept). The folder and its Jupyter settings are readable by all, as every
    user's server reads them; state/ is root's alone."""
    settings = settings or HubSettings()
    _check(courses, settings)
    target = Path(os.path.abspath(target))
    target.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(target, 0o755)
    state = target / "state"
    state.mkdir(mode=0o700, exist_ok=True)
    os.chmod(state, 0o700)
    jupyter = target / "jupyter"
    _learner_settings(jupyter / "learner")
    _staff_settings(jupyter / "staff")
    for course in courses:
        _course_settings(jupyter / f"course-{course.course_id}", course)
    nbgrader_config = _write(jupyter / "system" / "nbgrader_config.py", nbgrader_system_config(settings.exchange))
    profile = _write(target / "profile.d" / "convlab.sh", profile_script(settings))
    config = _write(target / "jupyterhub_config.py", hub_config(target, courses, settings))
    return HubFiles(config=config, nbgrader_config=nbgrader_config, profile=profile, state=state, jupyter=jupyter)


def make_exchange(root: Path) -> Path:
    """Create nbgrader's exchange at `root`, mode 1777 (folders above it: 0755).

    nbgrader's release_assignment wants the exchange root rwx for everyone and tries to chmod it to
    that otherwise, which fails for an instructor who does not own it: a group-only mode cannot work.
    The sticky bit keeps each course's folder to the instructor who released it."""
    root = Path(root)
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(root, 0o1777)
    return root


def first_private_folder(path: Path) -> Path | None:
    """The first folder on the way to `path` (links followed) that other users cannot enter, or None.
    A user's server cannot run a Python environment whose interpreter lies in such a folder (as
    under /root, where pyenv puts its Pythons)."""
    resolved = Path(os.path.realpath(path))
    for folder in [*reversed(resolved.parents), resolved]:
        if folder.is_dir() and not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def problems(courses: list[CourseSpec], settings: HubSettings) -> list[str]:
    """What would stop the hub or its users, checked on this machine now (warnings: the accounts and
    courses may be made after the deployment is written)."""
    import pwd

    found = []
    singleuser = settings.bin / "jupyterhub-singleuser"
    if not singleuser.exists():
        found.append(f"{singleuser} is missing: install jupyterhub into {settings.venv}")
    for what in (singleuser, Path(os.path.realpath(settings.bin / "python"))):
        private = first_private_folder(what)
        if private is not None:
            found.append(f"{what}: other users cannot enter {private}; build the environment from a "
                         "Python every user can read (e.g. /usr/bin/python3)")
    for course in courses:
        for name in course.staff:
            try:
                pwd.getpwnam(name)
            except KeyError:
                found.append(f"course {course.course_id}: no local account {name!r}")
        if not (course.directory / "nbgrader_config.py").is_file():
            found.append(f"course {course.course_id}: no course in {course.directory} "
                         f"(`convlab new-course {course.directory}`, as {course.instructor})")
    return found


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `convlab hub` on the `convlab` command's subparsers."""
    defaults = HubSettings()
    hub = subparsers.add_parser(
        "hub", help="write a JupyterHub deployment for one or more courses",
        description="Write into DIR a JupyterHub for the courses given: jupyterhub_config.py (PAM login, "
        "each user's server from this environment, with the learner's or the staff's tools), one Formgrader "
        "service per course for its instructor and TAs, nbgrader's system-wide settings "
        "(jupyter/system/nbgrader_config.py, also for /etc/jupyter/) and profile.d/convlab.sh (for "
        "/etc/profile.d/); create the exchange. See docs/jupyterhub.md.",
    )
    hub.add_argument("dir", metavar="DIR", help="folder for the deployment (e.g. /etc/convlab-hub)")
    hub.add_argument("--course", action="append", required=True, metavar="ID:COURSE_DIR:INSTRUCTOR[,TA...]",
                     help="a course: its nbgrader id, its folder (convlab new-course), the instructor's account "
                     "and the teaching assistants' accounts; repeat for each course")
    hub.add_argument("--ip", default=defaults.ip, help=f"address the hub listens on (default: {defaults.ip})")
    hub.add_argument("--port", type=int, default=defaults.port, help=f"the hub's port (default: {defaults.port})")
    hub.add_argument("--hub-port", type=int, default=defaults.hub_port,
                     help=f"the hub's API port on loopback (default: {defaults.hub_port})")
    hub.add_argument("--proxy-api-port", type=int, default=defaults.proxy_api_port,
                     help=f"the proxy's API port on loopback (default: {defaults.proxy_api_port})")
    hub.add_argument("--service-port", type=int, default=defaults.service_port,
                     help="the first course's Formgrader port on loopback, the next course's one more "
                     f"(default: {defaults.service_port})")
    hub.add_argument("--exchange", default=str(defaults.exchange),
                     help=f"nbgrader's exchange folder, created mode 1777 (default: {defaults.exchange})")
    hub.add_argument("--venv", default=str(defaults.venv),
                     help="the environment with convlab and jupyterhub that servers run (default: this one)")
    hub.add_argument("--proxy", metavar="COMMAND", help="configurable-http-proxy (default: the one on PATH)")
    hub.add_argument("--allow-group", metavar="GROUP",
                     help="only this Unix group's members (and the staff) may log in (default: every account)")
    hub.set_defaults(run=run)
    return hub


def run(args: argparse.Namespace) -> int:
    """`convlab hub`: write the deployment, create the exchange, say what is left to do."""
    from autograder.cli import UsageError

    try:
        courses = [CourseSpec.parse(text) for text in args.course]
        settings = HubSettings(ip=args.ip, port=args.port, hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                               service_port=args.service_port, exchange=Path(args.exchange).absolute(),
                               venv=Path(args.venv).absolute(), proxy_command=args.proxy,
                               allowed_group=args.allow_group)
        files = write_hub(Path(args.dir), courses, settings)
    except HubError as error:
        raise UsageError(str(error)) from error
    try:
        make_exchange(settings.exchange)
        exchange = f"exchange ready: {settings.exchange} (mode 1777)"
    except PermissionError:
        exchange = f"as root: mkdir -p {settings.exchange} && chmod 1777 {settings.exchange}"
    for line in problems(courses, settings):
        print(f"warning: {line}", file=sys.stderr)
    print(f"hub written to {files.config.parent}\n  {exchange}\n"
          f"  as root: mkdir -p /etc/jupyter && ln -sf {files.nbgrader_config} /etc/jupyter/nbgrader_config.py\n"
          f"  as root: install -m 0644 {files.profile} /etc/profile.d/convlab.sh\n"
          f"  start, as root: {settings.bin / 'jupyterhub'} -f {files.config}")
    return 0
