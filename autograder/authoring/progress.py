"""`convlab progress [DIR]`: where a learner stands across the course, read from their workspace.

Nothing runs: each lesson's saved notebook says which test cells ran without an error (their
points are counted as earned) and which exercise still holds the blank answer. It is the
learner's view of their own work, not a grade: `convlab check` and `convlab grade` are those.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import cell_meta
from convlab.i18n import N_, _

PLACEHOLDER = "raise NotImplementedError"
NOT_STARTED = N_("not started")
DONE = N_("every visible test passes")


@dataclass
class LessonProgress:
    path: str  # relative to the workspace
    earned: float
    possible: float
    next: str  # the next exercise to work on, or why there is none


def _passed(cell) -> bool:
    """A test cell that was run and raised nothing."""
    ran = cell.get("execution_count") is not None
    return ran and not any(output.get("output_type") == "error" for output in cell.get("outputs", []))


def _blank(nb, exercise: cell_meta.Exercise) -> bool:
    return exercise.answer is not None and PLACEHOLDER in nb.cells[exercise.answer].source


def lesson_progress(path: Path, root: Path) -> LessonProgress:
    """One notebook's points earned of those its visible tests carry, and its next exercise."""
    nb = nbformat.read(str(path), as_version=4)
    earned = possible = 0.0
    waiting: list[str] = []
    started = any(cell.get("execution_count") is not None for cell in nb.cells if cell.cell_type == "code")
    for exercise in cell_meta.exercises(nb):
        tests = [nb.cells[i] for i in exercise.tests]
        possible += sum(cell_meta.points(cell) for cell in tests)
        earned += sum(cell_meta.points(cell) for cell in tests if _passed(cell))
        if _blank(nb, exercise) or not all(_passed(cell) for cell in tests):
            waiting.append(exercise.name)
    following = waiting[0] if waiting else _(DONE)
    return LessonProgress(path.relative_to(root).as_posix(), earned, possible,
                          following if started or not waiting else _(NOT_STARTED))


def workspace_progress(root: Path) -> list[LessonProgress]:
    """Every lesson notebook under `root` (a workspace: `convlab lessons`), in course order."""
    found = sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return [lesson_progress(path, root) for path in found]
