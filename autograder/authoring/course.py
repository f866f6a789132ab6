"""`convlab new-course`: an nbgrader course directory holding every lesson, ready for autograding.

Layout (nbgrader's defaults): `nbgrader_config.py`, `source/<assignment>/` copied from
solutions/, `release/<assignment>/` from generate_assignment, and `gradebook.db`, where
generate_assignment records each assignment, its notebooks and their grade cells.

The course holds the answers and the gradebook: it is the owner's alone (folders 0700, files 0600),
or also readable by one group (0750, 0640: a teaching assistant) when asked, and everything is
made under a umask to match, so no one else can read it at any moment. Learners get the assignments
through nbgrader's exchange, which makes its own copy readable to them.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from autograder.authoring import translations
from autograder.authoring.build import assignment_names, copy_sources, edition_sources, release
from autograder.config import config_text
from autograder.coursedir import CourseDir


class CourseError(ValueError):
    """The course directory cannot be made where asked."""


# The instructor notebooks installed with the package (a wheel carries solutions/ there, see setup.py);
# a checkout has none, and new-course uses its solutions/.
BUNDLED_SOLUTIONS = Path(__file__).resolve().parents[1] / "_solutions"

# (folders, files): the owner's alone; or the owner's, and readable by the course's group.
PRIVATE = (0o700, 0o600)
GROUP_READABLE = (0o750, 0o640)


def course_group(name: str | None) -> int | None:
    """The id of the group `name` (a group name, or a number naming an existing group); refused
    (CourseError) when there is no such group, or when it is not one of the caller's (only root may
    give a file to a group it is not in)."""
    if name is None:
        return None
    import grp

    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        try:
            gid = grp.getgrgid(int(name)).gr_gid
        except (KeyError, ValueError):
            raise CourseError(f"--group: no such group: {name!r}") from None
    if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
        raise CourseError(f"--group: you are not a member of the group {name!r}, so the course cannot be "
                          "given to it")
    return gid


def protect(course: Path, gid: int | None = None) -> None:
    """Give the whole tree under `course`, itself included, its modes: PRIVATE, or GROUP_READABLE and
    the group `gid`. Symbolic links are left alone (their modes mean nothing)."""
    folder_mode, file_mode = PRIVATE if gid is None else GROUP_READABLE

    def one(path: str, mode: int) -> None:
        if gid is not None:
            os.chown(path, -1, gid)
        os.chmod(path, mode)

    one(str(course), folder_mode)
    for dirpath, dirnames, filenames in os.walk(course):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if not stat.S_ISLNK(info.st_mode):
                one(path, folder_mode if stat.S_ISDIR(info.st_mode) else file_mode)


@contextlib.contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@contextlib.contextmanager
def _edition(solutions: Path, lang: str):
    """The instructor notebooks of the `lang` edition: `solutions` itself in English, else translated
    into a temporary folder (every lesson must have its translation)."""
    if translations.check_language(lang) == "en":
        yield solutions
        return
    untranslated = [n for n in assignment_names(solutions) if not translations.translated(solutions / n, lang)]
    if untranslated:
        raise CourseError(f"--lang {lang}: {untranslated[0]} has no translation into {lang} "
                          f"(`convlab translations --lang {lang} {untranslated[0]}`)")
    with tempfile.TemporaryDirectory(prefix=f"convlab-{lang}-") as tmp:
        edition_sources(solutions, Path(tmp), lang)
        yield Path(tmp)


def new_course(course: Path, solutions: Path, lang: str = "en", group: str | None = None) -> Path:
    """Create the course at `course` (new or empty) from the assignment folders of `solutions`, in
    the edition `lang` (the same notebooks, points and tests; the words translated). The course is
    its owner's alone, or also readable by the group named `group`."""
    translations.check_language(lang)
    gid = course_group(group)
    course = Path(course)
    if course.exists() and not course.is_dir():
        raise CourseError(f"DIR: {str(course)!r} exists and is not a directory")
    if course.is_dir() and any(course.iterdir()):
        raise CourseError(f"DIR: {str(course)!r} is not empty; choose a new directory")
    if not Path(solutions).is_dir():
        raise CourseError(f"solutions: no such directory: {str(solutions)!r}")
    if not assignment_names(Path(solutions)):
        raise CourseError(f"solutions: no assignment folder with a notebook in {str(solutions)!r}")
    created = not course.exists()
    before = None if created else os.stat(course)
    course.parent.mkdir(parents=True, exist_ok=True)  # folders above DIR keep the usual modes
    with _umask(0o077 if gid is None else 0o027):
        course.mkdir(exist_ok=True)
        course = course.resolve()
        layout = CourseDir(course)
        try:
            protect(course, gid)  # DIR itself first: an empty folder given may have been open to all
            layout.config.write_text(config_text())
            with _edition(Path(solutions), lang) as edition:
                release(course, copy_sources(edition, layout.source()))
            protect(course, gid)  # what nbgrader made readable to all (release/: 0644), inside DIR
        except BaseException:
            # Half a course would be refused next time as "not empty": leave the folder as it was.
            for entry in course.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            if created:
                course.rmdir()
            else:
                with contextlib.suppress(OSError):
                    os.chown(course, -1, before.st_gid)
                with contextlib.suppress(OSError):
                    os.chmod(course, stat.S_IMODE(before.st_mode))
            raise
    return course
