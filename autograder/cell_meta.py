"""Reading nbgrader cell metadata: answer cells, test cells, points, hidden tests, exercises.

nbgrader's conventions (schema version 3), as this module reads them:

| cell | `solution` | `grade` | `locked` | `points` |
|---|---|---|---|---|
| autograded answer | true | false | false | — |
| manually graded answer | true | true | false | yes |
| autograder tests | false | true | true | yes |
| read-only | false | false | true | — |

An exercise is one autograded-answer cell together with the autograder-test cells that follow
it, up to the next answer cell. Test cells that come before any answer cell form an exercise
of their own (a "check your understanding" cell whose answer sits in the test itself).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's `nbgrader` metadata, or `{}` for a cell nbgrader does not manage."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_answer_cell(cell: NotebookNode) -> bool:
    """An autograded answer: code the learner writes, scored by the test cells after it."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")


def is_manual_cell(cell: NotebookNode) -> bool:
    """A manually graded answer: carries points, but a person gives them."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and bool(meta.get("grade"))


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograder-test cell: full points unless it raises."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def points(cell: NotebookNode) -> float:
    """The points a grade cell is worth (0 for any other cell)."""
    value = nbgrader_meta(cell).get("points", 0) if nbgrader_meta(cell).get("grade") else 0
    return float(value or 0)


def marks_hidden_tests(cell: NotebookNode) -> bool:
    """Whether a code cell holds the hidden-test marker, whoever wrote it: what a learner reads is
    cleaned of such regions, and of their lines, wherever they stand."""
    return cell.cell_type == "code" and BEGIN_HIDDEN in cell.source


def has_hidden_tests(cell: NotebookNode) -> bool:
    """Whether an autograder-test cell holds hidden tests. Only the instructor's test cells can:
    the marker in a learner's cell is the learner's text (a string, a comment), kept as it is."""
    return is_test_cell(cell) and BEGIN_HIDDEN in cell.source


def remove_region(source: str, begin: str, end: str) -> str:
    """`source` without the lines from a `begin` marker to its `end` marker (both included).

    Same rule as nbgrader's ClearHiddenTests: a marker is any line containing the text.
    """
    kept, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise ValueError(f"nested {begin!r} in cell source: {source[:80]!r}")
            inside = True
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise ValueError(f"{begin!r} without {end!r} in cell source: {source[:80]!r}")
    return "\n".join(kept)


def strip_hidden_tests(nb: NotebookNode) -> int:
    """Remove hidden-test regions in place; returns how many cells changed."""
    changed = 0
    for cell in nb.cells:
        if has_hidden_tests(cell):
            cell.source = remove_region(cell.source, BEGIN_HIDDEN, END_HIDDEN)
            changed += 1
    return changed


@dataclass
class Exercise:
    """One answer cell (None for a test-only exercise) and the test cells that score it."""

    name: str
    answer: int | None
    tests: list[int] = field(default_factory=list)
    points: float = 0.0


def exercises(nb: NotebookNode) -> list[Exercise]:
    """Group the notebook's cells into exercises, in notebook order (see the module docstring)."""
    found: list[Exercise] = []
    current: Exercise | None = None
    for index, cell in enumerate(nb.cells):
        if is_answer_cell(cell):
            current = Exercise(name=grade_id(cell) or f"cell {index}", answer=index)
            found.append(current)
        elif is_test_cell(cell):
            if current is None:
                current = Exercise(name=grade_id(cell) or f"cell {index}", answer=None)
                found.append(current)
            current.tests.append(index)
            current.points += points(cell)
    return [exercise for exercise in found if exercise.tests]


def total_points(nb: NotebookNode) -> float:
    """Points of every grade cell: autograder tests and manually graded answers."""
    return sum(points(cell) for cell in nb.cells)


def defined_name(source: str) -> str | None:
    """The first function or class a cell defines, else the first name it assigns."""
    match = re.search(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, re.M)
    if match is None:
        match = re.search(r"^([A-Za-z_]\w*)\s*=", source, re.M)
    return match.group(1) if match else None


def read(path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)
