"""`convlab new-course`: an nbgrader course directory holding every lesson, ready for autograding.

Layout (nbgrader's defaults): `nbgrader_config.py`, `source/<assignment>/` copied from
solutions/, `release/<assignment>/` from generate_assignment, and `gradebook.db`, where
generate_assignment records each assignment, its notebooks and their grade cells.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from autograder import translations
from autograder.build import assignment_names, copy_sources, edition_sources, release
from autograder.config import config_text
from autograder.coursedir import CourseDir


class CourseError(ValueError):
    """The course directory cannot be made where asked."""


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


def new_course(course: Path, solutions: Path, lang: str = "en") -> Path:
    """Create the course at `course` (new or empty) from the assignment folders of `solutions`, in
    the edition `lang` (the same notebooks, points and tests; the words translated)."""
    translations.check_language(lang)
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
    course.mkdir(parents=True, exist_ok=True)
    course = course.resolve()
    layout = CourseDir(course)
    try:
        layout.config.write_text(config_text())
        with _edition(Path(solutions), lang) as edition:
            release(course, copy_sources(edition, layout.source()))
    except BaseException:
        # Half a course would be refused next time as "not empty": leave the folder as it was.
        for entry in course.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        if created:
            course.rmdir()
        raise
    return course
