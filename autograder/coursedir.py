"""`CourseDir`: the one owner of an nbgrader course directory's layout and of its settings.

    nbgrader_config.py   gradebook.db            grades.csv   grading-report.md   grading-scores.png
    source/<assignment>/<notebook>.ipynb          release/<assignment>/...
    submitted/<student>/<assignment>/<notebook>.ipynb (+ timestamp.txt, files beside)
    autograded/<student>/<assignment>/...         feedback/<student>/<assignment>/<notebook>.html

Those are nbgrader's defaults. The course's settings are read as nbgrader reads them (every
`nbgrader_config.py`/`.json` on Jupyter's config path, then the course's own), so where the
course names another gradebook (`CourseDirectory.db_url`, e.g. PostgreSQL) or other folder
names, every convlab command uses the ones nbgrader's own commands and Formgrader use.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from jupyter_core.paths import jupyter_config_path
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config, JSONFileConfigLoader, PyFileConfigLoader

CONFIG_NAME = "nbgrader_config"
#: The folder layout convlab reads and writes; a course that sets another is refused by name.
DIRECTORY_STRUCTURE = CourseDirectory.class_traits()["directory_structure"].default()


def load_settings(root: Path) -> Config:
    """The nbgrader settings of the course at `root`, as `nbgrader` run in that folder loads them:
    Jupyter's config path (system, environment, user; the user's wins), then the course's own file."""
    config = Config()
    for folder in [*reversed(jupyter_config_path()), str(root)]:
        for loader in (PyFileConfigLoader, JSONFileConfigLoader):
            suffix = ".py" if loader is PyFileConfigLoader else ".json"
            if os.path.isfile(os.path.join(folder, CONFIG_NAME + suffix)):
                config.merge(loader(CONFIG_NAME + suffix, path=folder).load_config())
    config.CourseDirectory.root = str(root)  # the course convlab was pointed at, wherever the file says
    return config


@dataclass(frozen=True)
class CourseDir:
    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(os.path.abspath(os.fspath(self.root))))

    @classmethod
    def existing(cls, root) -> CourseDir:
        """The course at `root`, which must be a directory."""
        course = cls(root)
        if not course.root.is_dir():
            raise ValueError(f"course_dir is not a directory: course_dir={os.fspath(root)!r}")
        return course

    @property
    def config(self) -> Path:
        return self.root / f"{CONFIG_NAME}.py"

    @cached_property
    def settings(self) -> Config:
        """The course's nbgrader settings (`load_settings`), read once."""
        return load_settings(self.root)

    @cached_property
    def nbgrader(self) -> CourseDirectory:
        """nbgrader's own view of this course: its folder names and gradebook URL. A folder layout
        other than nbgrader's default is refused, naming the setting."""
        coursedir = CourseDirectory(config=self.settings)
        if coursedir.directory_structure != DIRECTORY_STRUCTURE:
            raise ValueError(f"convlab reads nbgrader's default folder layout only; the course sets "
                             f"CourseDirectory.directory_structure={coursedir.directory_structure!r}")
        return coursedir

    @property
    def gradebook_url(self) -> str:
        """`CourseDirectory.db_url`: `DIR/gradebook.db` unless the course names another database."""
        return self.nbgrader.db_url

    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    @property
    def report_md(self) -> Path:
        return self.root / "grading-report.md"

    @property
    def report_png(self) -> Path:
        return self.root / "grading-scores.png"

    def source(self, assignment: str = "") -> Path:
        return self.root.joinpath(self.nbgrader.source_directory, assignment)

    def release(self, assignment: str = "") -> Path:
        return self.root.joinpath(self.nbgrader.release_directory, assignment)

    def submitted(self, student: str = "", assignment: str = "") -> Path:
        return self.root.joinpath(self.nbgrader.submitted_directory, student, assignment)

    def autograded(self, student: str, assignment: str, notebook: str | None = None) -> Path:
        folder = self.root.joinpath(self.nbgrader.autograded_directory, student, assignment)
        return folder / f"{notebook}.ipynb" if notebook else folder

    def feedback(self, student: str, assignment: str, notebook: str | None = None) -> Path:
        """Written by `nbgrader generate_feedback`, never by convlab grade."""
        folder = self.root.joinpath(self.nbgrader.feedback_directory, student, assignment)
        return folder / f"{notebook}.html" if notebook else folder
