"""Restoring the instructor's cells in a submission before it runs (nbgrader's OverwriteCells,
made strict).

The instructor's notebook in `DIR/source` is the only authority on which cells are tests, what
they contain (hidden tests included) and what they are worth. From the submission only the
learner's answers and the learner's own extra cells are kept:

- an answer cell keeps the learner's source, with the source's metadata;
- every locked cell (tests, read-only code and text) is replaced by the source version, so an
  edited test runs as written by the instructor;
- a deleted nbgrader cell is put back after the cell that preceded it in the source (a deleted
  answer comes back empty, so its tests fail);
- a cell claiming an unknown or duplicate grade id loses its nbgrader metadata.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from autograder import cell_meta

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass
class Restored:
    """The notebook ready to run, and what had to be put back."""

    nb: NotebookNode
    restored_cells: list[str] = field(default_factory=list)  # grade ids the submission lacked
    edited_cells: list[str] = field(default_factory=list)  # locked cells whose source was changed


def _clean(cell: NotebookNode) -> NotebookNode:
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def _released(cell: NotebookNode) -> str | None:
    """The cell's source as released to learners (hidden tests removed)."""
    try:
        return cell_meta.remove_region(cell.source, cell_meta.BEGIN_HIDDEN, cell_meta.END_HIDDEN)
    except ValueError:
        return None


def _empty_answer(source_cell: NotebookNode) -> NotebookNode:
    cell = _clean(source_cell)
    cell.source = "# This answer cell was missing from the submission."
    return cell


def restore(submission: NotebookNode, source: NotebookNode) -> Restored:
    """The submission with every instructor cell restored from `source` (see module docstring)."""
    result = Restored(nb=nbformat.v4.new_notebook())
    result.nb.metadata = copy.deepcopy(source.metadata)
    result.nb.metadata["kernelspec"] = dict(KERNELSPEC)
    placed, seen = _submitted_cells(submission, _by_grade_id(source), result)
    _put_back_missing(source, placed, seen, result)
    result.nb.cells = [cell for _, cell in placed]
    for index, cell in enumerate(result.nb.cells):
        cell["id"] = f"cell-{index}"  # the submission's own ids may clash with restored ones
    return result


def _by_grade_id(source: NotebookNode) -> dict[str, tuple[int, NotebookNode]]:
    """The source's nbgrader cells by grade id (the first of a repeated id), with their index."""
    by_id: dict[str, tuple[int, NotebookNode]] = {}
    for index, cell in enumerate(source.cells):
        gid = cell_meta.grade_id(cell)
        if gid is not None and gid not in by_id:
            by_id[gid] = (index, cell)
    return by_id


def _submitted_cells(submission: NotebookNode, by_id: dict, result: Restored) -> tuple[list, set[str]]:
    """The submission's cells in its order, each instructor cell taken from the source (an answer
    cell keeping the learner's text); (grade id or None, cell) each, and the grade ids placed."""
    seen: set[str] = set()
    placed: list[tuple[str | None, NotebookNode]] = []
    for cell in submission.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        gid = cell_meta.grade_id(cell)
        if gid is None or gid not in by_id or gid in seen:
            kept = _clean(cell)
            kept.get("metadata", {}).pop("nbgrader", None)
            placed.append((None, kept))
            continue
        seen.add(gid)
        placed.append((gid, _instructor_cell(cell, by_id[gid][1], result)))
    return placed, seen


def _instructor_cell(cell: dict, original: NotebookNode, result: Restored) -> NotebookNode:
    """The source's cell in place of the submitted one; an answer cell keeps the learner's text, and
    any other that was changed is noted in `result.edited_cells`."""
    kept = _clean(original)
    if cell_meta.nbgrader_meta(original).get("solution"):
        kept.source = cell.get("source", "") if isinstance(cell.get("source", ""), str) else ""
    elif cell.get("cell_type") != original.cell_type or cell.get("source", "") not in (
            original.source, _released(original)):
        result.edited_cells.append(cell_meta.grade_id(original))
    return kept


def _put_back_missing(source: NotebookNode, placed: list, seen: set[str], result: Restored) -> None:
    """Put back every nbgrader cell the submission lacks, after its predecessor in the source."""
    for index, cell in enumerate(source.cells):
        gid = cell_meta.grade_id(cell)
        if gid is None or gid in seen:
            continue
        seen.add(gid)
        result.restored_cells.append(gid)
        new = _empty_answer(cell) if cell_meta.nbgrader_meta(cell).get("solution") else _clean(cell)
        placed.insert(_after_predecessor(source, index, placed), (gid, new))


def _after_predecessor(source: NotebookNode, index: int, placed: list) -> int:
    """Where the source's cell `index` goes among `placed`: after the nearest graded cell before it."""
    for back in range(index - 1, -1, -1):
        previous = cell_meta.grade_id(source.cells[back])
        hits = [i for i, (pid, _) in enumerate(placed) if pid is not None and pid == previous]
        if hits:
            return hits[0] + 1
    return 0


def test_cells(nb: NotebookNode) -> dict[str, tuple[int, float]]:
    """grade id -> (cell index, points) of every autograder-test cell."""
    return {cell_meta.grade_id(cell): (index, cell_meta.points(cell))
            for index, cell in enumerate(nb.cells)
            if cell_meta.is_test_cell(cell) and cell_meta.grade_id(cell) is not None}
