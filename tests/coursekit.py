"""Course directories for tests: one made from tests/fixtures/source, and submissions written into it.

A submission is the released notebook with some answer cells replaced, keyed by the answer
cell's nbgrader `grade_id`; answers left out stay as released (blank). `solution_answers` gives
the instructor's answers, so a test writes a correct, a blank or a broken submission in one line.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder import cell_meta
from autograder.authoring.course import new_course

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "source"
ASSIGNMENT = "ps1"


def make_course(where: Path, source: Path = FIXTURE) -> Path:
    """A new course at `where`/course from the assignment folders of `source`."""
    return new_course(Path(where) / "course", source)


def solution_answers(course: Path, assignment: str = ASSIGNMENT) -> dict[str, str]:
    """The instructor's answer per answer cell (`grade_id` -> source, solution markers removed)."""
    nb = nbformat.read(str(course / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    return {
        cell_meta.grade_id(cell): "\n".join(
            line for line in cell.source.split("\n")
            if cell_meta.BEGIN_SOLUTION not in line and cell_meta.END_SOLUTION not in line
        )
        for cell in nb.cells if cell_meta.is_answer_cell(cell)
    }


def fill_answers(nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """`nb` with the answer cells named in `answers` (grade_id -> source) written."""
    answers = dict(answers)
    for cell in nb.cells:
        if cell_meta.is_answer_cell(cell) and cell_meta.grade_id(cell) in answers:
            cell.source = answers.pop(cell_meta.grade_id(cell))
    if answers:
        raise KeyError(f"answers: no answer cell with grade_id {sorted(answers)}")
    return nb


def write_submission(
    course: Path, student: str, answers: dict[str, str] | None = None,
    assignment: str = ASSIGNMENT,
) -> Path:
    """Write `submitted/<student>/<assignment>/<assignment>.ipynb`: the release with `answers` filled in."""
    nb = nbformat.read(str(course / "release" / assignment / f"{assignment}.ipynb"), as_version=4)
    fill_answers(nb, answers or {})
    path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def flipped(answers: dict[str, str]) -> dict[str, str]:
    """The solution's answers with corr2d's kernel flipped: the mistake every grading test makes."""
    return {**answers, "corr2d": answers["corr2d"].replace("windows * K", "windows * K.flip(0, 1)")}


def exchange_course(where: Path, course_id: str) -> tuple[Path, list[str]]:
    """A new course whose assignment is released to a filesystem exchange in `where`, and the options
    every nbgrader exchange command needs for it."""
    course = make_course(where)
    exchange = Path(where) / "exchange"
    exchange.mkdir(mode=0o777)
    opts = [f"--Exchange.root={exchange}", f"--CourseDirectory.course_id={course_id}"]
    nbgrader_ok(course, "release_assignment", ASSIGNMENT, "--force", *opts)
    return course, opts


def user_environment() -> dict[str, str]:
    """This environment as a user's shell has it: without pytest's marker.

    ipykernel stops forwarding file-descriptor output (compiled code's stderr) to cells when it
    sees PYTEST_CURRENT_TEST, so commands started from a test would not see what users see.
    """
    return {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}


def nbgrader(course: Path, *args: str, timeout: float = 600, user: str | None = None) -> subprocess.CompletedProcess:
    """Run the plain `nbgrader` command line in `course` (its nbgrader_config.py applies), as the
    instructor, or as student `user` in their own folder `course` (for nbgrader's exchange, which
    otherwise takes the name of this process's user, and a cache shared by all its students)."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**user_environment(), "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    if user is not None:
        args = (*args, f"--student={user}", f"--Exchange.cache={Path(course) / '.nbgrader-cache'}")
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


def nbgrader_ok(where: Path, *args: str, user: str | None = None) -> subprocess.CompletedProcess:
    """`nbgrader(...)`, which must succeed."""
    result = nbgrader(where, *args, user=user)
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result


def scores(course: Path, student: str, assignment: str = ASSIGNMENT) -> dict[str, float]:
    """Points per graded cell (`grade_id` -> score) recorded in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return {
            grade.name: float(grade.score)
            for nb in submission.notebooks for grade in nb.grades
        }


def convlab(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed `convlab` console script (or, failing that, its module) as a user would."""
    bin_dir = Path(sys.executable).parent
    script = bin_dir / "convlab"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "autograder.cli"]
    # Without the environment's bin/ on PATH, as from an unactivated virtual environment.
    path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != str(bin_dir)]
    env = {**user_environment(), "PATH": os.pathsep.join(path)}
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )
