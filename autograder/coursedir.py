"""`CourseDir`: the one owner of an nbgrader course directory's layout.

    nbgrader_config.py   gradebook.db            grades.csv   grading-report.md   grading-scores.png
    source/<assignment>/<notebook>.ipynb          release/<assignment>/...
    submitted/<student>/<assignment>/<notebook>.ipynb (+ timestamp.txt, files beside)
    autograded/<student>/<assignment>/...         feedback/<student>/<assignment>/<notebook>.html
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
        return self.root / "nbgrader_config.py"

    @property
    def gradebook_url(self) -> str:
        return "sqlite:///" + str(self.root / "gradebook.db")

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
        return self.root / "source" / assignment if assignment else self.root / "source"

    def release(self, assignment: str = "") -> Path:
        return self.root / "release" / assignment if assignment else self.root / "release"

    def submitted(self, student: str = "", assignment: str = "") -> Path:
        return self.root.joinpath("submitted", student, assignment)

    def autograded(self, student: str, assignment: str, notebook: str | None = None) -> Path:
        folder = self.root / "autograded" / student / assignment
        return folder / f"{notebook}.ipynb" if notebook else folder

    def feedback(self, student: str, assignment: str, notebook: str | None = None) -> Path:
        """Written by `nbgrader generate_feedback`, never by convlab grade."""
        folder = self.root / "feedback" / student / assignment
        return folder / f"{notebook}.html" if notebook else folder
