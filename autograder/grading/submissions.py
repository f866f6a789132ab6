"""What students submitted: `DIR/submitted/<student>/<assignment>/`, read as nbgrader lays it out."""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field

import nbformat

from autograder import defaults
from autograder.coursedir import CourseDir

MAX_SUBMISSION_BYTES = defaults.SUBMISSION_BYTES
#: Cells one submitted notebook may hold: a lesson has about a hundred; tens of thousands would
#: only cost the planning of everyone's grading time.
MAX_SUBMISSION_CELLS = defaults.SUBMISSION_CELLS
# Files a learner may submit beside the notebook (a helper module, a small data file).
MAX_FILES_BESIDE = defaults.FILES_BESIDE
MAX_FILES_BESIDE_BYTES = defaults.FILES_BESIDE_BYTES
MAX_FOLDER_DEPTH = defaults.FOLDER_DEPTH
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
    """Digest of what a submission holds: its notebooks, its timestamp and the files beside them
    (a file that cannot be read counts by its name)."""
    h = hashlib.sha256()
    for name, data in sorted(files_beside(path).items()):
        h.update(os.fsencode(name) + b"\0" + hashlib.sha256(data).digest())
    for name in sorted(os.listdir(path)):
        if name.endswith(".ipynb") or name == "timestamp.txt":
            data = _read_small(os.path.join(path, name), MAX_SUBMISSION_BYTES + 1)
            if data is not None:
                h.update(os.fsencode(name) + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def files_beside(path: str) -> dict[str, bytes]:
    """Regular files submitted beside the notebooks (not notebooks, not nbgrader's own, no links,
    no hidden folders), as `nbgrader autograde` would have them; within a count and size limit."""
    found: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(path):
        deep = os.path.relpath(root, path).count(os.sep) + 1 >= MAX_FOLDER_DEPTH
        dirs[:] = [] if deep else sorted(d for d in dirs if not d.startswith(".")
                                          and not os.path.islink(os.path.join(root, d)))
        for name in sorted(names):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, path)
            if name.endswith(".ipynb") or relative == "timestamp.txt" or os.path.islink(full) \
                    or not os.path.isfile(full):
                continue
            size = os.path.getsize(full)
            if len(found) >= MAX_FILES_BESIDE or total + size > MAX_FILES_BESIDE_BYTES:
                return found
            data = _read_small(full, MAX_FILES_BESIDE_BYTES)
            if data is not None:
                found[relative] = data
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
        try:
            os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
            with open(os.path.join(target, relative), "wb") as f:
                f.write(data)
        except OSError:  # a learner's file where another of theirs is a folder: theirs to lose
            continue
    for relative, full in _regular_files(source).items():
        _clear_way(target, relative)
        os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
        shutil.copyfile(full, os.path.join(target, relative))


def _clear_way(target: str, relative: str) -> None:
    """Remove what the learner's files put where an instructor's file goes: a folder of that name,
    or a file where one of its folders goes (the instructor's file wins)."""
    parts = relative.split(os.sep)
    for i in range(1, len(parts)):
        prefix = os.path.join(target, *parts[:i])
        if os.path.lexists(prefix) and not os.path.isdir(prefix):
            os.unlink(prefix)
    full = os.path.join(target, relative)
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full)


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
            try:
                digest = _digest(path)
            except (OSError, RecursionError, ValueError) as exc:  # its own planning fails and says why
                digest = f"unreadable: {type(exc).__name__}"
            found.append(Submission(student, assignment, path, digest, _timestamp(path)))
    return found


def _timestamp(path: str) -> str | None:
    """The submission's `timestamp.txt` as text, or None: whatever bytes a learner put there, it
    is read (undecodable bytes replaced) and never stops the class's grading."""
    data = _read_small(os.path.join(path, "timestamp.txt"), 4096)
    return data.decode("utf-8", errors="replace").strip() or None if data is not None else None


def _read_small(path: str, limit: int) -> bytes | None:
    """The first `limit` bytes of a regular file, or None when there is none or it cannot be read."""
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return None


def source_notebooks(course: CourseDir, assignment: str) -> dict[str, nbformat.NotebookNode]:
    """notebook name -> the instructor's notebook from `DIR/source/<assignment>/`."""
    folder = course.source(assignment)
    if not os.path.isdir(folder):
        return {}
    return {name[: -len(".ipynb")]: nbformat.read(os.path.join(folder, name), as_version=4)
            for name in sorted(os.listdir(folder)) if name.endswith(".ipynb")}
