"""`convlab audit`: tests that prove what they catch. For each lesson, every test cell's check calls,
visible and hidden, with their seeds and case counts as written, run against mutants of each
exercise's answer (its named mistakes, and generic wrong answers); a table says which each test
catches (✓: the check fails it) and which slip through (✗).

A hidden test exists to catch what a learner's answer tuned to the visible one gets wrong, so an
exercise whose hidden tests catch fewer mutants than its visible ones (one the visible tests catch
slips through them) is a lesson to fix, and so is a check the right answer fails: `convlab audit`
exits 1, and `convlab build` refuses the lesson, naming the exercise (`problems`).

The design, in `autograder.mutants` (shared with the instructor report, which may not import this
zone): every mutant's answer to every case a call draws is computed beforehand, outside the guard
that refuses torch's kernels and the course's references while a check runs the learner's function;
inside it the mutant only looks its answer up by a digest of its arguments.

Cost: the whole course (12 lessons, 35 exercises) takes about 3 s on one core, so `convlab build`
audits every lesson each time, every call with the cases it is written with: no cache to go stale,
no smaller audit than what the grader runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from autograder import cell_meta
from autograder.authoring.build import assignment_names
from autograder.mutants import ExerciseAudit, Test, audit_notebook, short

CAUGHT, SLIPPED, NO_PART = "✓", "✗", "–"


@dataclass
class NotebookAudit:
    """One lesson notebook's exercises, audited."""

    lesson: str          # the folder: 01_single_channel
    notebook: str        # the file: 01_single_channel.ipynb
    exercises: list[ExerciseAudit]

    def problems(self) -> list[str]:
        return [f"{self.lesson}/{self.notebook}: {line}" for audit in self.exercises for line in audit.problems()]


def lesson_names(solutions: Path, given: list[str] | None) -> list[str]:
    """The lesson folders of `solutions` that `given` names (by folder, or by number: '01'); all without any."""
    every = assignment_names(solutions)
    if not given:
        return every
    chosen = []
    for name in given:
        found = [lesson for lesson in every if lesson == name or lesson.split("_", 1)[0] == name]
        if not found:
            raise ValueError(f"LESSON: no such lesson in {str(solutions)!r}, got {name!r}")
        chosen += [lesson for lesson in found if lesson not in chosen]
    return chosen


def audit_lessons(solutions: Path, names: list[str]) -> list[NotebookAudit]:
    """Every notebook of the lessons `names` of `solutions`, audited."""
    return [NotebookAudit(name, path.name, audit_notebook(cell_meta.read(path)))
            for name in names for path in sorted((solutions / name).glob("*.ipynb"))]


def problems(solutions: Path) -> list[str]:
    """What `convlab build` refuses: per exercise of every lesson, hidden tests that catch fewer mutants
    than the visible ones, and the right answer failing a check."""
    return [line for audit in audit_lessons(solutions, assignment_names(solutions)) for line in audit.problems()]


# -- the table ------------------------------------------------------------------------------------------

def _cells(audit: ExerciseAudit) -> dict[str, dict[bool, Test]]:
    """The exercise's test cells in notebook order, each with its visible and hidden parts (by `hidden`)."""
    found: dict[str, dict[bool, Test]] = {}
    for test in audit.tests:
        found.setdefault(test.cell, {})[test.hidden] = test
    return found


def _mark(audit: ExerciseAudit, test: Test | None, label: str):
    if test is None:
        return Text(NO_PART, style="dim")
    if label in audit.caught[test]:
        return Text(CAUGHT, style="green")
    return Text(SLIPPED, style="bold red reverse" if test.hidden and label in audit.missed else "red")


def _heading(cell: str, audit: ExerciseAudit, parts: dict[bool, Test]) -> list[str]:
    """The test cell's name, exercise, points and what each part draws: one line each."""
    points = next(iter(parts.values())).points
    return [cell, audit.exercise, f"{points:g} point" + ("" if points == 1 else "s"),
            *(f"{test.part}: {test.runs}" for _hidden, test in sorted(parts.items()))]


def _rows(exercise: ExerciseAudit, cell: str, parts: dict[bool, Test]) -> list[list]:
    """One test cell's rows: a mutant each (the heading down the first column), then the counts caught."""
    heading = _heading(cell, exercise, parts)
    rows = []
    for i in range(max(len(heading), len(exercise.mutants))):
        label = exercise.mutants[i] if i < len(exercise.mutants) else None
        marks = [_mark(exercise, parts.get(hidden), label) if label else "" for hidden in (False, True)]
        rows.append([Text(heading[i] if i < len(heading) else ""), Text(short(label) if label else ""), *marks])
    counts = [f"{len(exercise.caught[parts[h]])}/{len(exercise.mutants)}" if h in parts else NO_PART
              for h in (False, True)]
    return [*rows, ["", Text("caught", style="bold"), *counts]]


def _table(audit: NotebookAudit) -> Table:
    """One rich table: per test cell, a row per mutant of its exercise, caught or slipped by each part."""
    table = Table(title=f"{audit.lesson}/{audit.notebook}", title_justify="left")
    for column in ("test cell", "mutant", "visible", "hidden"):
        table.add_column(column, justify="center" if column in ("visible", "hidden") else "left")
    for exercise in audit.exercises:
        for cell, parts in _cells(exercise).items():
            rows = _rows(exercise, cell, parts)
            for i, row in enumerate(rows):
                table.add_row(*row, end_section=i == len(rows) - 1)
    return table


def print_audit(audits: list[NotebookAudit], console) -> list[str]:
    """Print each notebook's table, then one line per problem (see `problems`); returns those lines."""
    found = []
    for audit in audits:
        console.print(_table(audit))
        for line in audit.problems():
            console.print(Text.assemble((f"{SLIPPED} ", "bold red"), line), highlight=False, soft_wrap=True)
        found += audit.problems()
        console.print()
    return found
