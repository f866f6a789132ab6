"""What students submitted: `DIR/submitted/<student>/<assignment>/`, read as nbgrader lays it out."""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field

import nbformat

from autograder.coursedir import CourseDir

MAX_SUBMISSION_BYTES = 64 * 2**20
#: Cells one submitted notebook may hold: a lesson has about a hundred; tens of thousands would
#: only cost the planning of everyone's grading time.
MAX_SUBMISSION_CELLS = 2_000
# Files a learner may submit beside the notebook (a helper module, a small data file).
MAX_FILES_BESIDE = 50
MAX_FILES_BESIDE_BYTES = 16 * 2**20
# What nbgrader's exchange writes beside a submitted notebook; release_feedback reads both.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


@dataclass
class Submission:
    """One student's submitted assignment: `DIR/submitted/<student>/<assignment>/`."""

    student: str
    assignment: str
    path: str
    digest: str = ""
    timestamp: str | None = None
    verdicts: dict = field(default_factory=dict)  # notebook name -> protocol.Verdict


def _digest(path: str) -> str:
    """Digest of what a submission holds: its notebooks, its timestamp and the files beside them."""
    h = hashlib.sha256()
    for name, data in sorted(files_beside(path).items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    for name in sorted(os.listdir(path)):
        if name.endswith(".ipynb") or name == "timestamp.txt":
            full = os.path.join(path, name)
            if os.path.isfile(full):
                h.update(name.encode() + b"\0")
                with open(full, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def files_beside(path: str) -> dict[str, bytes]:
    """Regular files submitted beside the notebooks (not notebooks, not nbgrader's own, no links,
    no hidden folders), as `nbgrader autograde` would have them; within a count and size limit."""
    found: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d)))
        for name in sorted(names):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, path)
            if name.endswith(".ipynb") or relative == "timestamp.txt" or os.path.islink(full) \
                    or not os.path.isfile(full):
                continue
            size = os.path.getsize(full)
            if len(found) >= MAX_FILES_BESIDE or total + size > MAX_FILES_BESIDE_BYTES:
                return found
            with open(full, "rb") as f:
                found[relative] = f.read()
            total += size
    return found


def _regular_files(folder: str) -> dict[str, str]:
    """relative path -> full path of every regular, non-notebook file under `folder` (no links,
    no hidden folders): what nbgrader's autograde copies from a submission or a source folder."""
    found = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"
                   and not os.path.islink(os.path.join(root, d))]
        for name in names:
            full = os.path.join(root, name)
            if not name.endswith((".ipynb", ".pyc")) and os.path.isfile(full) and not os.path.islink(full):
                found[os.path.relpath(full, folder)] = full
    return found


def lay_out_autograded(submitted: str, source: str, target: str) -> None:
    """Make `target` (autograded/<student>/<assignment>/) hold what nbgrader's autograde puts there
    besides the notebooks: nbgrader's own files and the files graded beside the notebook, then the
    instructor's files of source/<assignment>/ over them. What an earlier grading left is removed."""
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    beside = files_beside(submitted)
    for name in NBGRADER_FILES:
        full = os.path.join(submitted, name)
        if os.path.isfile(full) and not os.path.islink(full) and os.path.getsize(full) <= 2**16:
            with open(full, "rb") as f:
                beside[name] = f.read()
    for relative, data in beside.items():
        os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
        with open(os.path.join(target, relative), "wb") as f:
            f.write(data)
    for relative, full in _regular_files(source).items():
        os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
        shutil.copyfile(full, os.path.join(target, relative))


def discover(course: CourseDir) -> list[Submission]:
    """Every `submitted/<student>/<assignment>/` directory, in a stable order."""
    root = course.submitted()
    found = []
    if not os.path.isdir(root):
        return found
    for student in sorted(os.listdir(root)):
        for assignment in sorted(os.listdir(os.path.join(root, student))) if os.path.isdir(
                os.path.join(root, student)) else []:
            path = os.path.join(root, student, assignment)
            if not os.path.isdir(path):
                continue
            stamp = None
            stamp_file = os.path.join(path, "timestamp.txt")
            if os.path.isfile(stamp_file):
                with open(stamp_file) as f:
                    stamp = f.read().strip() or None
            found.append(Submission(student, assignment, path, _digest(path), stamp))
    return found


def source_notebooks(course: CourseDir, assignment: str) -> dict[str, nbformat.NotebookNode]:
    """notebook name -> the instructor's notebook from `DIR/source/<assignment>/`."""
    folder = course.source(assignment)
    if not os.path.isdir(folder):
        return {}
    return {name[: -len(".ipynb")]: nbformat.read(os.path.join(folder, name), as_version=4)
            for name in sorted(os.listdir(folder)) if name.endswith(".ipynb")}
